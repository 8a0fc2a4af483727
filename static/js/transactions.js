/* The transactions page: list (with filters), add, edit, delete; import/export
 * in transactions-import.js. Every figure is the server's exact decimal string,
 * shown as sent: no arithmetic on money here. */
import { ApiError, del, get, patch, post } from "./api.js";
import { $, button, el } from "./dom.js";
import { clearErrors, clearErrorsOnInput, fieldValue, showErrors } from "./forms.js";
import { ImportPanel } from "./transactions-import.js";

const root = $("transactions");
const API = root.dataset.apiTransactions;
const KINDS = { buy: "Buy", sell: "Sell", transfer_in: "Transfer in", transfer_out: "Transfer out" };
const form = $("tx-form");
let rows = [];

function text(value) { return value === null || value === undefined || value === "" ? "—" : value; }

// "2024-01-31T14:05:00Z" <-> the datetime-local value, both in UTC.
function toInput(iso) { return iso.replace(/Z$|[+-]\d\d:\d\d$/, "").slice(0, 19); }
function fromInput(value) { return value ? (value.length === 16 ? value + ":00" : value) + "Z" : ""; }

function query() {
  const f = $("tx-filters");
  const params = new URLSearchParams();
  const symbol = f.elements.symbol.value.trim().toUpperCase();
  if (symbol) params.set("symbol", symbol);
  if (f.elements.kind.value) params.set("kind", f.elements.kind.value);
  if (f.elements.since.value) params.set("since", f.elements.since.value + "T00:00:00Z");
  if (f.elements.until.value) params.set("until", f.elements.until.value + "T23:59:59Z");
  return params.toString();
}

async function load() {
  const q = query();
  const data = await get(API + (q ? "?" + q : ""));
  rows = Array.isArray(data) ? data : data.results || [];
  $("export-link").href = root.dataset.apiExport + (q ? "?" + q : "");
  render();
}

function cell(tr, value, cls) {
  const td = el("td", cls || null, text(value));
  if (cls && cls.includes("num") && value) td.dataset.exact = value;
  tr.appendChild(td);
}

function render() {
  const body = $("tx-body");
  body.textContent = "";
  if (!rows.length) {
    const tr = el("tr", "empty");
    const td = el("td", null, "No transactions yet: add one or import a file below.");
    td.colSpan = 10;
    tr.appendChild(td);
    body.appendChild(tr);
    return;
  }
  rows.forEach((row) => {
    const tr = el("tr");
    tr.dataset.id = row.id;
    cell(tr, row.executed_at.replace("T", " ").replace(/Z$|\+00:00$/, ""));
    cell(tr, KINDS[row.kind] || row.kind, "kind");
    cell(tr, row.symbol, "sym");
    cell(tr, row.amount, "num amount");
    cell(tr, row.price, "num price");
    cell(tr, row.fee, "num fee");
    cell(tr, row.total, "num total");
    cell(tr, row.note, "note");
    cell(tr, row.origin === "import" ? row.import_source : "manual", "origin");
    const actions = el("td", "actions");
    actions.appendChild(button("Edit", "edit", "Edit transaction " + row.id, () => edit(row)));
    const remove = button("Delete", "btn-danger remove", "Delete transaction " + row.id);
    remove.addEventListener("click", () => removeRow(row, remove));
    actions.appendChild(remove);
    tr.appendChild(actions);
    body.appendChild(tr);
  });
}

function edit(row) {
  clearErrors(form);
  ["id", "kind", "symbol", "amount", "note"].forEach((n) => { form.elements[n].value = row[n] ?? ""; });
  ["price", "fee"].forEach((n) => { form.elements[n].value = row[n] ?? ""; });
  form.elements.executed_at.value = toInput(row.executed_at);
  $("tx-form-title").textContent = "Edit transaction";
  $("tx-submit").textContent = "Save";
  $("tx-cancel").hidden = false;
  form.elements.amount.focus();
}

function resetForm() {
  form.reset();
  form.elements.id.value = "";
  clearErrors(form);
  $("tx-form-title").textContent = "Add a transaction";
  $("tx-submit").textContent = "Add";
  $("tx-cancel").hidden = true;
}

async function removeRow(row, btn) {
  if (btn.dataset.armed !== "1") {
    btn.dataset.armed = "1";
    btn.textContent = "Confirm delete";
    return;
  }
  try {
    await del(API + row.id + "/");
    await load();
  } catch (err) {
    btn.textContent = "Delete";
    btn.dataset.armed = "";
    const box = form.querySelector('.field-errors[data-for="non_field_errors"]');
    box.textContent = err instanceof ApiError ? Object.values(err.body).flat().join(" ") : String(err);
  }
}

function body() {
  const data = {
    kind: form.elements.kind.value,
    symbol: fieldValue(form, "symbol").toUpperCase(),
    amount: fieldValue(form, "amount"),
    executed_at: fromInput(form.elements.executed_at.value),
    note: fieldValue(form, "note"),
  };
  // Empty money fields are sent as null (unknown), never as 0.
  ["price", "fee"].forEach((n) => { data[n] = fieldValue(form, n) || null; });
  return data;
}

async function submit(event) {
  event.preventDefault();
  clearErrors(form);
  const id = form.elements.id.value;
  try {
    if (id) await patch(API + id + "/", body());
    else await post(API, body());
    resetForm();
    await load();
  } catch (err) {
    showErrors(form, err);
  }
}

form.addEventListener("submit", submit);
clearErrorsOnInput(form);
$("tx-cancel").addEventListener("click", resetForm);
$("tx-filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
new ImportPanel({ url: root.dataset.apiImport, onImported: load });
load();
