/* The holdings table: one row per holding of the server's summary, exactly as
 * valued there (price, value, 24h %, allocation, P/L, average cost, realized P/L),
 * plus the age of each price. COLUMNS drives the header, the cells and the
 * phone cards' labels: a new column is one more entry (and its cell in updateRow). */
import * as Dec from "./decimal-format.js";
import { $, button, el, flash, setExact, setFigure, signClass, sourceName } from "./dom.js";
import { Sparkline } from "./sparkline.js";
import { confirmedAt, holdings, setSort, store } from "./state.js";

// cls: the cell's class; key: the summary field it sorts on; label: header and card.
export const COLUMNS = [
  { cls: "amount", key: "amount", label: "Amount" },
  { cls: "price", key: "price", label: "Price" },
  { cls: "value", key: "value", label: "Value" },
  { cls: "change", key: "change_percent_24h", label: "24h %" },
  { cls: "alloc", key: "allocation_percent", label: "Alloc." },
  { cls: "pl", key: "unrealized_pl", label: "P/L" },
  { cls: "avgcost", key: "average_cost", label: "Avg. cost" },
  { cls: "realized", key: "realized_pl", label: "Realized" }
];

export function ageText(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.floor(s / 60) + "m ago";
  if (s < 86400) return Math.floor(s / 3600) + "h ago";
  return Math.floor(s / 86400) + "d ago";
}

function isNull(v) { return v === null || v === undefined; }

export class HoldingsTable {
  constructor({ staleAfterMs, onEdit, onRemove }) {
    this.body = $("holdings-body");
    this.staleAfterMs = staleAfterMs;
    this.onEdit = onEdit;
    this.onRemove = onRemove;
    this.rows = {}; // symbol -> <tr>
    this.sparks = {}; // symbol -> Sparkline
    this.buildHead();
  }

  buildHead() {
    const tr = $("holdings-head");
    tr.textContent = "";
    const head = (key, label, cls) => {
      const th = el("th", cls);
      th.scope = "col";
      const btn = el("button", "sort", label);
      btn.type = "button";
      btn.dataset.key = key;
      btn.addEventListener("click", () => this.sortBy(btn));
      th.appendChild(btn);
      if (key === store.sort.key) th.setAttribute("aria-sort", "ascending");
      tr.appendChild(th);
    };
    head("symbol", "Symbol", null);
    COLUMNS.forEach((c) => head(c.key, c.label, "num"));
    const actions = el("th");
    actions.scope = "col";
    actions.appendChild(el("span", "visually-hidden", "Actions"));
    tr.appendChild(actions);
  }

  sortBy(btn) {
    setSort(btn.dataset.key);
    document.querySelectorAll("#holdings-table th").forEach((th) => th.removeAttribute("aria-sort"));
    btn.parentElement.setAttribute("aria-sort", store.sort.dir > 0 ? "ascending" : "descending");
  }

  buildRow(symbol) {
    const tr = el("tr");
    tr.dataset.symbol = symbol;
    const th = el("th", "sym");
    th.scope = "row";
    th.appendChild(el("span", "sym-text", symbol));
    const spark = new Sparkline(symbol);
    this.sparks[symbol] = spark;
    th.appendChild(spark.canvas);
    tr.appendChild(th);
    COLUMNS.forEach((c) => {
      const td = el("td", "num " + c.cls);
      td.dataset.label = c.label; // the phone card's caption
      tr.appendChild(td);
    });
    const priceCell = tr.querySelector(".price");
    priceCell.appendChild(el("span", "price-text"));
    const meta = el("span", "price-meta");
    meta.appendChild(el("span", "source-badge"));
    meta.appendChild(el("span", "age"));
    priceCell.appendChild(meta);
    const actions = el("td", "actions");
    actions.appendChild(button("Edit", "edit", "Edit " + symbol, () => this.onEdit(symbol)));
    const remove = button("Remove", "btn-danger remove", "Remove " + symbol);
    remove.addEventListener("click", () => this.onRemove(symbol, remove));
    actions.appendChild(remove);
    tr.appendChild(actions);
    return tr;
  }

  updatePrice(tr, row) {
    const priceText = tr.querySelector(".price-text");
    const badge = tr.querySelector(".source-badge");
    const cell = tr.querySelector(".price");
    setExact(cell, row.price);
    if (isNull(row.price)) {
      priceText.textContent = "no price yet";
      priceText.classList.add("muted");
      badge.textContent = "";
      badge.className = "source-badge";
    } else {
      const prev = tr.dataset.price;
      if (prev && Dec.cmp(row.price, prev) !== 0) flash(cell, Dec.cmp(row.price, prev));
      priceText.classList.remove("muted");
      priceText.textContent = Dec.price(row.price);
      // The quote currency is part of the price: Binance's is USDT, not USD.
      const quote = row.quote || "USD";
      badge.textContent = (sourceName(row.source) || "?") + (row.source === "mock" ? "" : " · " + quote);
      badge.className = "source-badge src-" + (row.source || "unknown");
      badge.title = row.source === "mock"
        ? "Simulated price: no exchange is connected for this symbol — not market data"
        : "Price from " + sourceName(row.source) + ", quoted in " + quote
          + (quote === "USD" ? "" : " (counted as USD in the totals)");
    }
    tr.dataset.price = row.price || "";
  }

  updateRow(tr, row) {
    const cell = (name) => tr.querySelector("." + name);
    cell("amount").textContent = Dec.amount(row.amount);
    setExact(cell("amount"), row.amount);
    this.updatePrice(tr, row);
    cell("value").textContent = isNull(row.value) ? "—" : Dec.usd(row.value);
    setExact(cell("value"), row.value);
    setFigure(cell("change"), Dec.percent(row.change_percent_24h), signClass(row.change_percent_24h));
    setExact(cell("change"), row.change_percent_24h);
    cell("alloc").textContent = isNull(row.allocation_percent) ? "—" : Dec.percent(row.allocation_percent, false);
    setExact(cell("alloc"), row.allocation_percent);
    setFigure(cell("pl"), isNull(row.unrealized_pl) ? "—" : Dec.usd(row.unrealized_pl, true),
      signClass(row.unrealized_pl));
    setExact(cell("pl"), row.unrealized_pl);
    // Ledger figures, as the server computed them (open lots, FIFO or average).
    cell("avgcost").textContent = isNull(row.average_cost) ? "—" : Dec.price(row.average_cost);
    setExact(cell("avgcost"), row.average_cost);
    setFigure(cell("realized"), isNull(row.realized_pl) ? "—" : Dec.usd(row.realized_pl, true),
      signClass(row.realized_pl));
    setExact(cell("realized"), row.realized_pl);
    this.updateAge(tr, row);
  }

  updateAge(tr, row) {
    const ageNode = tr.querySelector(".age");
    const at = confirmedAt(row);
    if (at === null) { ageNode.textContent = ""; tr.classList.remove("stale"); return; }
    const ageMs = Math.max(0, Date.now() - at);
    const stale = ageMs > this.staleAfterMs;
    ageNode.textContent = stale ? "stale · " + ageText(ageMs) : ageText(ageMs);
    tr.classList.toggle("stale", stale);
  }

  sorted() {
    const { key, dir } = store.sort;
    const bySymbol = (a, b) => (a.symbol < b.symbol ? -1 : (a.symbol > b.symbol ? 1 : 0));
    return holdings().slice().sort((a, b) => {
      const c = key === "symbol" ? bySymbol(a, b) : Dec.cmp(a[key], b[key]);
      return c * dir || bySymbol(a, b);
    });
  }

  showEmpty() {
    this.body.textContent = "";
    this.rows = {};
    const tr = el("tr", "empty");
    const td = el("td", null, "No holdings yet: add one below.");
    td.colSpan = COLUMNS.length + 2;
    tr.appendChild(td);
    this.body.appendChild(tr);
  }

  render() {
    const rows = this.sorted();
    if (!rows.length) { this.showEmpty(); return; }
    const empty = this.body.querySelector("tr.empty");
    if (empty) empty.remove();
    const seen = new Set();
    rows.forEach((row) => {
      seen.add(row.symbol);
      const tr = this.rows[row.symbol] || (this.rows[row.symbol] = this.buildRow(row.symbol));
      this.updateRow(tr, row);
    });
    Object.keys(this.rows).forEach((sym) => {
      if (!seen.has(sym)) { this.rows[sym].remove(); delete this.rows[sym]; delete this.sparks[sym]; }
    });
    const current = Array.from(this.body.children, (n) => n.dataset.symbol).join();
    if (current !== rows.map((r) => r.symbol).join()) {
      rows.forEach((r) => this.body.appendChild(this.rows[r.symbol]));
    }
  }

  // Sparklines of the symbols whose prices moved (price frames).
  redrawSparks(symbols) {
    symbols.forEach((sym) => { if (this.sparks[sym]) this.sparks[sym].draw(); });
  }

  // Ages only: called every second and on price frames.
  refreshAges() {
    holdings().forEach((row) => {
      const tr = this.rows[row.symbol];
      if (tr) this.updateAge(tr, row);
    });
  }
}
