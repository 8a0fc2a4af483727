/* Add, edit and remove holdings through the REST API; the page then re-reads
 * the server's summary (it never values a holding itself). */
import * as api from "./api.js";
import { $ } from "./dom.js";
import { clearErrors, clearErrorsOnInput, fieldValue, showErrors } from "./forms.js";
import { store } from "./state.js";
import { reportError, toast } from "./toasts.js";

export class HoldingForm {
  constructor({ url, reload }) {
    this.url = url;
    this.reload = reload;
    this.form = $("holding-form");
    clearErrorsOnInput(this.form);
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    $("holding-cancel").addEventListener("click", () => this.reset());
  }

  reset() {
    this.form.reset();
    this.form.elements.id.value = "";
    clearErrors(this.form);
    $("holding-form-title").textContent = "Add a holding";
    $("holding-submit").textContent = "Add holding";
    $("holding-cancel").hidden = true;
  }

  edit(symbol) {
    const h = store.apiHoldings[symbol];
    if (!h) return;
    const f = this.form.elements;
    clearErrors(this.form);
    f.id.value = h.id;
    f.symbol.value = h.symbol;
    f.amount.value = h.amount;
    f.cost_basis.value = h.cost_basis || "";
    $("holding-form-title").textContent = "Edit " + symbol;
    $("holding-submit").textContent = "Save";
    $("holding-cancel").hidden = false;
    f.amount.focus();
  }

  // First click arms the button, a second within 4 s removes.
  async remove(symbol, btn) {
    const h = store.apiHoldings[symbol];
    if (!h) return;
    if (btn.dataset.confirm !== "1") {
      btn.dataset.confirm = "1";
      btn.textContent = "Confirm";
      setTimeout(() => { btn.dataset.confirm = ""; btn.textContent = "Remove"; }, 4000);
      return;
    }
    try {
      await api.del(this.url + h.id + "/");
      toast("Removed " + symbol + ".", "info");
      await this.reload();
    } catch (err) {
      reportError(err);
    }
  }

  async submit() {
    const form = this.form;
    clearErrors(form);
    const id = form.elements.id.value;
    const body = {
      symbol: fieldValue(form, "symbol").toUpperCase(),
      amount: fieldValue(form, "amount"),
      cost_basis: fieldValue(form, "cost_basis") || null
    };
    let saved;
    try {
      saved = await (id ? api.patch(this.url + id + "/", body) : api.post(this.url, body));
    } catch (err) {
      showErrors(form, err);
      return;
    }
    toast((id ? "Saved " : "Added ") + saved.symbol + ".", "info");
    this.reset();
    await this.reload().catch(reportError);
  }
}
