/* The value-over-time chart: snapshots from REST, then each complete total the
 * server sends live; the range buttons pick the window. */
import * as api from "./api.js";
import { ValueChart } from "./charts.js";
import { $ } from "./dom.js";
import { setRange, store } from "./state.js";
import { isCompleteTotal } from "./totals.js";
import { reportError } from "./toasts.js";

export class History {
  constructor({ url, chartsOn }) {
    this.url = url;
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
    if (!this.chart) return;
    this.chart.setHistory(data.range, data.points);
    this.showEmpty();
    const simulated = data.points.some((p) => p.simulated);
    const note = $("value-chart-simulated");
    if (note) note.hidden = !simulated;
  }

  // A portfolio_update frame: its total is a point only when every holding is priced.
  extend(summary) {
    if (!this.chart || !isCompleteTotal(summary.totals)) return;
    this.chart.extend(summary.as_of, summary.totals.value, summary.totals.simulated);
    this.showEmpty();
  }

  // No points: no chart at all (an empty chart drew a meaningless −1…1 axis).
  showEmpty() {
    const empty = !this.chart || this.chart.count() === 0;
    $("value-chart-empty").hidden = !empty;
    $("value-chart").parentElement.hidden = empty;
  }
}
