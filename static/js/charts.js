/* The value-over-time line and the allocation doughnut (Chart.js, served locally).
 * Chart.js plots numbers, so values become floats here and only here: the labels
 * and tooltips show the exact decimal strings the server sent. */
import { fixed, percent, toNumber, usd } from "./decimal-format.js";

const COLORS = ["#f7931a", "#627eea", "#14f195", "#e84142", "#2a5ada", "#c2a633",
                "#8247e5", "#23292f", "#00aae4", "#ff007a"];
const MAX_LIVE_POINTS = 600;

// The vendored UMD build (static/vendor/chartjs) is a classic script: its one global.
function ChartJs() { return globalThis.Chart; }

export function chartsAvailable() { return typeof ChartJs() === "function"; }

function timeLabel(ms, range, span) {
  const d = new Date(ms);
  if (span < 2 * 3600 * 1000) {
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  if (range === "1h" || range === "24h" || span < 36 * 3600 * 1000) {
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  if (span > 200 * 86400 * 1000) return d.toLocaleDateString([], { month: "short", year: "2-digit" });
  return d.toLocaleDateString([], { month: "short", day: "numeric" });
}

export class ValueChart {
  constructor(canvas) {
    const Chart = ChartJs();
    this.range = "24h";
    this.points = []; // {x: ms, y: float, s: exact string}
    this.chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [{
        label: "Portfolio value (USD)",
        data: this.points,
        borderColor: "#3b82f6",
        backgroundColor: "rgba(59,130,246,0.12)",
        fill: true, borderWidth: 2, tension: 0.2,
        pointRadius: (ctx) => (ctx.dataset.data.length === 1 ? 3 : 0)
      }] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        parsing: false, normalized: true,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: {
            title: (items) => (items.length ? new Date(items[0].parsed.x).toLocaleString() : ""),
            label: (item) => (item.raw.s === null ? "no market data"
              : usd(item.raw.s) + (item.raw.sim ? " (simulated prices)" : ""))
          } }
        },
        scales: {
          x: { type: "linear", ticks: { maxTicksLimit: 6,
            callback: (v) => timeLabel(v, this.range, this.span()) } },
          y: { ticks: { maxTicksLimit: 6, callback: (v) => "$" + Number(v).toLocaleString() } }
        }
      }
    });
  }

  setHistory(range, points) {
    this.range = range;
    this.points.length = 0;
    for (const p of points) {
      this.points.push({ x: Date.parse(p.timestamp), y: toNumber(p.value), s: p.value, sim: !!p.simulated });
    }
    this.redraw();
  }

  // One point alone would get an x-axis of days around it (5 % of epoch ms): a minute.
  redraw() {
    const x = this.chart.options.scales.x;
    const lone = this.points.length === 1 ? this.points[0].x : null;
    x.min = lone === null ? undefined : lone - 30000;
    x.max = lone === null ? undefined : lone + 30000;
    this.chart.update("none");
  }

  // One live point: a complete total the server sent (never one computed here).
  extend(timestamp, value, simulated = false) {
    const x = Date.parse(timestamp);
    if (!isFinite(x) || value === null || value === undefined) return;
    const last = this.points[this.points.length - 1];
    if (last && x <= last.x) return;
    this.points.push({ x, y: toNumber(value), s: value, sim: !!simulated });
    if (this.points.length > MAX_LIVE_POINTS) this.points.shift();
    this.redraw();
  }

  span() {
    const n = this.points.length;
    return n > 1 ? this.points[n - 1].x - this.points[0].x : 0;
  }

  count() { return this.points.length; }
}

export class AllocationChart {
  constructor(canvas) {
    const Chart = ChartJs();
    this.chart = new Chart(canvas, {
      type: "doughnut",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderWidth: 1 }] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: {
            label: (item) => item.label + ": " + percent(item.dataset.exact[item.dataIndex], false)
          } }
        }
      }
    });
    this.chart.data.datasets[0].exact = [];
    this.key = "";
  }

  // The server's allocation_percent per holding; unpriced holdings are left out.
  update(holdings) {
    const rows = holdings.filter((h) => h.allocation_percent !== null && h.allocation_percent !== undefined);
    // Redraw only when the rounded split changes (updates come many times a second).
    const key = rows.map((h) => h.symbol + ":" + fixed(h.allocation_percent, 1)).join("|");
    if (key === this.key) return;
    this.key = key;
    const ds = this.chart.data.datasets[0];
    this.chart.data.labels = rows.map((h) => h.symbol);
    ds.data = rows.map((h) => toNumber(h.allocation_percent));
    ds.exact = rows.map((h) => h.allocation_percent);
    ds.backgroundColor = rows.map((_, i) => COLORS[i % COLORS.length]);
    this.chart.update("none");
  }
}
