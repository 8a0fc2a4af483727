/* The watch list: symbols followed without holding them, one ticker row each
 * (the server's latest price with its source, 24h %, a sparkline). Entries
 * from /api/watchlist/, first prices from /api/prices/, then price frames. */
import * as api from "./api.js";
import * as Dec from "./decimal-format.js";
import { $, button, el, setExact, setFigure, signClass, sourceName } from "./dom.js";
import { clearErrors, clearErrorsOnInput, fieldValue, showErrors } from "./forms.js";
import { recordPrice, Sparkline } from "./sparkline.js";
import { reportError, toast } from "./toasts.js";

export class WatchList {
  constructor({ url, pricesUrl }) {
    this.url = url;
    this.pricesUrl = pricesUrl;
    this.entries = []; // [{id, symbol}]
    this.prices = {}; // symbol -> latest price entry (REST or frame), as sent
    this.rows = {}; // symbol -> {li, spark}
    this.list = $("watch-list");
    this.form = $("watch-form");
    clearErrorsOnInput(this.form);
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.add(); });
  }

  async load() {
    const [entries, prices] = await Promise.all([api.list(this.url), api.get(this.pricesUrl)]);
    this.entries = entries;
    prices.forEach((p) => this.take(p));
    this.render();
  }

  // A price entry from REST or a frame; older ones never replace newer.
  take(p) {
    if (!p || !p.symbol || p.price === null || p.price === undefined) return false;
    const shown = this.prices[p.symbol];
    if (shown && Date.parse(shown.timestamp || shown.price_timestamp) > Date.parse(p.timestamp || p.price_timestamp)) {
      return false;
    }
    this.prices[p.symbol] = p;
    recordPrice(p.symbol, p.price, p.timestamp || p.price_timestamp);
    return true;
  }

  // Price frames: update the rows of watched symbols that moved.
  ticks(prices) {
    prices.forEach((p) => {
      if (!this.rows[p.symbol] || !this.take(p)) return;
      this.update(p.symbol);
    });
  }

  buildRow(entry) {
    const li = el("li", "ticker");
    li.dataset.symbol = entry.symbol;
    li.appendChild(el("span", "t-sym", entry.symbol));
    const price = el("span", "t-price");
    price.appendChild(el("span", "price-text"));
    price.appendChild(el("span", "source-badge"));
    li.appendChild(price);
    li.appendChild(el("span", "t-change figure"));
    const spark = new Sparkline(entry.symbol);
    li.appendChild(spark.canvas);
    li.appendChild(button("Remove", "btn-danger", "Stop watching " + entry.symbol, () => this.remove(entry)));
    return { li, spark };
  }

  update(symbol) {
    const row = this.rows[symbol];
    const p = this.prices[symbol];
    const text = row.li.querySelector(".price-text");
    const badge = row.li.querySelector(".source-badge");
    const change = row.li.querySelector(".t-change");
    setExact(text, p ? p.price : null);
    text.textContent = p ? Dec.price(p.price) : "no price yet";
    text.classList.toggle("muted", !p);
    badge.textContent = p ? sourceName(p.source) + (p.source === "mock" || !p.quote ? "" : " · " + p.quote) : "";
    badge.className = "source-badge" + (p ? " src-" + p.source : "");
    const pct = p ? p.change_percent_24h : null;
    setFigure(change, Dec.percent(pct), signClass(pct));
    setExact(change, pct);
    row.spark.draw();
  }

  render() {
    this.list.textContent = "";
    this.rows = {};
    if (!this.entries.length) {
      this.list.appendChild(el("li", "muted", "Not watching anything yet: add a symbol to follow its price."));
      return;
    }
    this.entries.forEach((entry) => {
      const row = this.buildRow(entry);
      this.rows[entry.symbol] = row;
      this.list.appendChild(row.li);
      this.update(entry.symbol);
    });
  }

  async add() {
    clearErrors(this.form);
    const symbol = fieldValue(this.form, "symbol").toUpperCase();
    try {
      await api.post(this.url, { symbol });
      toast("Watching " + symbol + ".", "info");
      this.form.reset();
      await this.load();
    } catch (err) {
      if (err.status === 400) showErrors(this.form, err); else reportError(err);
    }
  }

  async remove(entry) {
    try {
      await api.del(this.url + entry.id + "/");
      toast("No longer watching " + entry.symbol + ".", "info");
      await this.load();
    } catch (err) { reportError(err); }
  }
}
