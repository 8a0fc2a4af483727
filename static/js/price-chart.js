/* One asset's closing prices (exchange candles) over the chosen range: a small
 * line chart with the symbol picker. Gaps stay gaps; the server's note says when
 * it has no market data. Values are plotted as numbers, shown as the server's
 * exact strings. */
import * as api from "./api.js";
import { toNumber, usd } from "./decimal-format.js";
import { $ } from "./dom.js";
import { store } from "./state.js";
import { reportError } from "./toasts.js";

function ChartJs() { return globalThis.Chart; }

export class PriceChart {
  constructor({ urlTemplate, chartsOn }) {
    this.urlTemplate = urlTemplate; // ".../prices/SYMBOL/history/"
    this.select = $("price-symbol");
    this.points = [];
    this.symbols = "";
    this.chart = chartsOn && this.select ? this.build($("price-chart")) : null;
    if (!this.select) return;
    this.select.addEventListener("change", () => this.load().catch(reportError));
    document.querySelectorAll(".range").forEach((btn) => {
      btn.addEventListener("click", () => this.load().catch(reportError));
    });
  }

  build(canvas) {
    const Chart = ChartJs();
    return new Chart(canvas, {
      type: "line",
      data: { datasets: [{ label: "Close (USD)", data: this.points, borderColor: "#f7931a",
        borderWidth: 1.5, pointRadius: 0, tension: 0 }] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: false }, tooltip: { callbacks: {
          title: (items) => (items.length ? new Date(items[0].parsed.x).toLocaleString() : ""),
          label: (item) => (item.raw.s === null ? "no market data" : usd(item.raw.s) + " · " + item.raw.src)
        } } },
        scales: {
          x: { type: "linear", ticks: { maxTicksLimit: 5,
            callback: (v) => new Date(v).toLocaleDateString([], { month: "short", day: "numeric" }) } },
          y: { ticks: { maxTicksLimit: 4 } }
        }
      }
    });
  }

  // The symbols of the server's summary (held or once held), in its order.
  setSymbols(symbols) {
    const key = symbols.join(",");
    if (!this.select || key === this.symbols) return;
    const current = this.select.value;
    this.symbols = key;
    this.select.replaceChildren(...symbols.map((s) => new Option(s, s)));
    if (symbols.includes(current)) this.select.value = current;
    $("price-card").hidden = symbols.length === 0;
    if (this.select.value !== current) this.load().catch(reportError);
  }

  async load() {
    const symbol = this.select && this.select.value;
    if (!symbol) return;
    const url = this.urlTemplate.replace("SYMBOL", encodeURIComponent(symbol));
    const data = await api.get(url + "?range=" + encodeURIComponent(store.range));
    if (this.select.value !== symbol) return; // a newer pick is on its way
    const note = $("price-chart-note");
    note.textContent = data.note || "";
    note.hidden = !data.note;
    if (!this.chart) return;
    this.points.length = 0;
    for (const p of data.points) {
      this.points.push({ x: Date.parse(p.timestamp), y: toNumber(p.close), s: p.close, src: p.source });
    }
    this.chart.update("none");
    // No close at all: no empty 0…1 axis, only the server's note.
    const priced = data.points.some((p) => p.close !== null && p.close !== undefined);
    $("price-chart").parentElement.hidden = !priced;
  }
}
