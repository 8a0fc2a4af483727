/* The notification settings page: list, add, enable/disable, test and delete channels. */
import * as api from "./api.js";
import { $, button, el } from "./dom.js";
import { clearErrors, clearErrorsOnInput, fieldValue, showErrors } from "./forms.js";
import { reportError, toast } from "./toasts.js";

const TARGET_FIELDS = { webhook: ["url", "secret"], email: ["address"], apprise: ["apprise_url"] };

class Channels {
  constructor(root) {
    this.url = root.dataset.apiChannels;
    this.form = $("channel-form");
    this.channels = [];
    clearErrorsOnInput(this.form);
    this.form.elements.kind.addEventListener("change", () => this.syncKind());
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.syncKind();
  }

  // Only the fields of the chosen kind are shown and sent.
  syncKind() {
    const kind = this.form.elements.kind.value;
    this.form.querySelectorAll("[data-kind]").forEach((node) => {
      node.hidden = node.dataset.kind !== kind;
    });
  }

  async load() {
    this.channels = await api.list(this.url);
    this.render();
  }

  body() {
    const f = this.form.elements;
    const kind = f.kind.value;
    const body = { kind, name: fieldValue(this.form, "name"), enabled: f.enabled.checked,
      include_simulated: f.include_simulated.checked };
    TARGET_FIELDS[kind].forEach((name) => { body[name] = fieldValue(this.form, name); });
    return body;
  }

  async submit() {
    clearErrors(this.form);
    try {
      await api.post(this.url, this.body());
      this.form.reset();
      this.syncKind();
      toast("Channel added.", "info");
      await this.load();
    } catch (err) {
      showErrors(this.form, err);
    }
  }

  async test(channel) {
    try {
      const result = await api.post(this.url + channel.id + "/test/");
      toast(result.ok ? "Test message sent." : "Test failed: " + result.error,
        result.ok ? "info" : "error");
    } catch (err) {
      reportError(err);
    }
  }

  async toggle(channel) {
    try {
      await api.patch(this.url + channel.id + "/", { enabled: !channel.enabled });
      await this.load();
    } catch (err) {
      reportError(err);
    }
  }

  async remove(channel) {
    if (!window.confirm("Delete this channel? Alerts will no longer be sent to it.")) return;
    try {
      await api.del(this.url + channel.id + "/");
      await this.load();
    } catch (err) {
      reportError(err);
    }
  }

  render() {
    const list = $("channels-list");
    list.textContent = "";
    if (!this.channels.length) { list.appendChild(el("li", "muted", "No channels yet.")); return; }
    this.channels.forEach((c) => list.appendChild(this.item(c)));
  }

  item(c) {
    const li = el("li", "rule-item" + (c.enabled ? "" : " disabled"));
    li.dataset.id = c.id;
    const text = el("div", "rule-text");
    text.appendChild(el("strong", null, c.name || c.kind));
    text.appendChild(el("span", "muted small", " " + c.kind + " → " + c.target
      + (c.secret_set ? " (secret " + c.secret_hint + ")" : "")
      + (c.include_simulated ? " · simulated too" : "") + (c.enabled ? "" : " · disabled")));
    li.appendChild(text);
    li.appendChild(button("Test", null, "Send a test message to " + (c.name || c.kind), () => this.test(c)));
    li.appendChild(button(c.enabled ? "Disable" : "Enable", null, null, () => this.toggle(c)));
    li.appendChild(button("Delete", "danger", "Delete " + (c.name || c.kind), () => this.remove(c)));
    return li;
  }
}

const root = $("notifications");
if (root) new Channels(root).load().catch(reportError);
