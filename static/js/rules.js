/* Alert rules: the list and the add / edit form (REST). */
import * as api from "./api.js";
import { fixed, price } from "./decimal-format.js";
import { $, button, el } from "./dom.js";
import { clearErrors, clearErrorsOnInput, fieldValue, showErrors } from "./forms.js";
import { setRules, store } from "./state.js";
import { reportError, toast } from "./toasts.js";

function isPortfolioKind(kind) { return kind.startsWith("portfolio_"); }

export class Rules {
  constructor({ url }) {
    this.url = url;
    this.form = $("rule-form");
    this.labels = {};
    Array.from(this.form.elements.kind.options).forEach((o) => { this.labels[o.value] = o.textContent; });
    clearErrorsOnInput(this.form);
    this.form.elements.kind.addEventListener("change", () => this.syncSymbol());
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    $("rule-cancel").addEventListener("click", () => this.reset());
    this.syncSymbol();
  }

  async load() { setRules(await api.list(this.url)); }

  syncSymbol() {
    const f = this.form.elements;
    const portfolio = isPortfolioKind(f.kind.value);
    f.symbol.disabled = portfolio;
    if (portfolio) f.symbol.value = "";
  }

  text(rule) {
    const unit = rule.kind.startsWith("change_pct")
      ? fixed(rule.threshold, 2, { trim: true }) + "%" : price(rule.threshold);
    return (rule.symbol ? rule.symbol + " " : "") + this.labels[rule.kind].toLowerCase() + " " + unit;
  }

  render() {
    const list = $("rules-list");
    list.textContent = "";
    if (!store.rules.length) { list.appendChild(el("li", "muted", "No rules yet.")); return; }
    store.rules.forEach((rule) => list.appendChild(this.item(rule)));
  }

  item(rule) {
    const li = el("li", "rule" + (rule.enabled ? "" : " disabled"));
    li.dataset.id = rule.id;
    const text = this.text(rule);
    li.appendChild(el("span", "rule-text", text));
    li.appendChild(el("span", "muted small", (rule.enabled ? "" : "disabled · ") +
      (rule.one_shot ? "once · " : "") + "fired " + rule.trigger_count + "×"));
    li.appendChild(button("Edit", null, "Edit rule " + text, () => this.edit(rule)));
    li.appendChild(button("Delete", "btn-danger", "Delete rule " + text, () => {
      api.del(this.url + rule.id + "/").then(() => this.load()).catch(reportError);
    }));
    return li;
  }

  reset() {
    this.form.reset();
    this.form.elements.id.value = "";
    clearErrors(this.form);
    this.syncSymbol();
    $("rule-form-title").textContent = "Add a rule";
    $("rule-submit").textContent = "Add rule";
    $("rule-cancel").hidden = true;
  }

  edit(rule) {
    clearErrors(this.form);
    const f = this.form.elements;
    f.id.value = rule.id;
    f.kind.value = rule.kind;
    this.syncSymbol();
    f.symbol.value = rule.symbol;
    f.threshold.value = rule.threshold;
    f.cooldown_seconds.value = rule.cooldown_seconds;
    f.enabled.checked = rule.enabled;
    f.one_shot.checked = rule.one_shot;
    $("rule-form-title").textContent = "Edit rule";
    $("rule-submit").textContent = "Save rule";
    $("rule-cancel").hidden = false;
    f.threshold.focus();
  }

  async submit() {
    const form = this.form;
    clearErrors(form);
    const f = form.elements;
    const id = f.id.value;
    const body = {
      kind: f.kind.value,
      symbol: isPortfolioKind(f.kind.value) ? "" : fieldValue(form, "symbol").toUpperCase(),
      threshold: fieldValue(form, "threshold"),
      cooldown_seconds: fieldValue(form, "cooldown_seconds") || "300",
      enabled: f.enabled.checked,
      one_shot: f.one_shot.checked
    };
    try {
      await (id ? api.patch(this.url + id + "/", body) : api.post(this.url, body));
    } catch (err) {
      showErrors(form, err);
      return;
    }
    toast(id ? "Rule saved." : "Rule added.", "info");
    this.reset();
    await this.load().catch(reportError);
  }
}
