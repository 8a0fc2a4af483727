/* The API token page: create (the key is shown this once), revoke. The server
 * never sends the key again: GET /api/auth/token/ says only whether one exists. */
import * as api from "./api.js";
import { $ } from "./dom.js";
import { reportError, toast } from "./toasts.js";

class TokenPage {
  constructor(root) {
    this.url = root.dataset.apiToken;
    $("token-create").addEventListener("click", () => this.create());
    $("token-revoke").addEventListener("click", () => this.revoke());
  }

  show(state) {
    $("token-state").textContent = state.exists
      ? "You have a token, created " + new Date(state.created).toLocaleString() + "."
      : "You have no API token.";
    $("token-create").hidden = state.exists;
    $("token-revoke").hidden = !state.exists;
  }

  async load() { this.show(await api.get(this.url)); }

  async create() {
    try {
      const made = await api.post(this.url);
      $("token-key").textContent = made.token;
      $("token-new").hidden = false;
      await this.load();
    } catch (err) { reportError(err); }
  }

  async revoke() {
    try {
      await api.del(this.url);
      $("token-new").hidden = true;
      $("token-key").textContent = "";
      toast("Token revoked: it no longer works.", "info");
      await this.load();
    } catch (err) { reportError(err); }
  }
}

const root = document.getElementById("api-settings");
if (root) new TokenPage(root).load().catch(reportError);
