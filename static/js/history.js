/* The value-over-time chart. 24h and longer: the server's history from the ledger
 * and exchange candles (value, net invested, performance per point; gaps where
 * there is no market data). 1h: snapshots, then each complete total the server
 * sends live. The range buttons pick the window. */
import * as api from "./api.js";
import { ValueChart } from "./charts.js";
import { usd } from "./decimal-format.js";
import { $ } from "./dom.js";
import { setRange, store } from "./state.js";
import { isCompleteTotal } from "./totals.js";
import { reportError } from "./toasts.js";

export class History {
  constructor({ url, chartsOn }) {
    this.url = url;
    this.basis = "snapshots";
    this.chart = chartsOn ? new ValueChart($("value-chart")) : null;
    document.querySelectorAll(".range").forEach((btn) => {
      btn.addEventListener("click", () => this.pick(btn));
    });
  }

  pick(btn) {
    setRange(btn.dataset.range);
    document.querySelectorAll(".range").forEach((b) => b.setAttribute("aria-pressed", String(b === btn)));
    this.load().catch(reportError);
  }

  async load() {
    const data = await api.get(this.url + "?range=" + encodeURIComponent(store.range));
    this.basis = data.basis || "snapshots";
    this.showSummary(data);
    if (!this.chart) return;
    this.chart.setHistory(data.range, data.points);
    this.priced = data.points.some((p) => p.value !== null);
    this.showEmpty();
    const note = $("value-chart-simulated");
    if (note) note.hidden = !data.points.some((p) => p.simulated);
  }

  // The server's words and figures only: its note, and the range's performance.
  showSummary(data) {
    const note = $("value-chart-note");
    if (note) { note.textContent = data.note || ""; note.hidden = !data.note; }
    const box = $("value-chart-summary");
    if (!box) return;
    const s = data.summary;
    box.hidden = !s;
    if (!s) return;
    $("history-performance").textContent = s.performance === null ? "unknown" : usd(s.performance, true);
    $("history-flows").textContent = s.net_flows === null ? "unknown" : usd(s.net_flows, true);
    $("history-value-end").textContent = usd(s.value_end);
  }

  // A portfolio_update frame: a point only on the live (snapshot) chart, and
  // only when every holding is priced; candle histories end at the last close.
  extend(summary) {
    if (!this.chart || this.basis !== "snapshots" || !isCompleteTotal(summary.totals)) return;
    this.chart.extend(summary.as_of, summary.totals.value, summary.totals.simulated);
    this.priced = true;
    this.showEmpty();
  }

  // No priced point: no chart at all (an empty chart drew a meaningless
  // −1…1 axis); the note says why (no market data, or nothing priced yet).
  showEmpty() {
    const empty = !this.chart || this.chart.count() === 0 || !this.priced;
    $("value-chart-empty").hidden = !empty;
    $("value-chart").parentElement.hidden = empty;
  }
}
