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

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Axis and grid colours of the current theme (light or dark).
function themeColors() {
  return { text: cssVar("--muted"), grid: cssVar("--chart-grid"), line: cssVar("--chart-line"),
    fill: cssVar("--chart-fill"), panel: cssVar("--panel") };
}

// Tick labels with as many decimals as the step between ticks needs, so a
// move of $3 on $60,000 reads $60,003 / $60,006, not $60,000 five times.
function yTick(value, index, ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1].value - ticks[0].value) : 1;
  const places = step >= 1 || step === 0 ? 0 : Math.min(8, Math.ceil(-Math.log10(step)));
  return "$" + Number(value).toLocaleString([], { minimumFractionDigits: places, maximumFractionDigits: places });
}

function onTheme(chart, paint) {
  document.addEventListener("themechange", () => { paint(themeColors()); chart.update("none"); });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      paint(themeColors());
      chart.update("none");
    });
  }
}

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
    this.points = []; // {x: ms, y: float, s: exact string}, x strictly ascending
    const colors = themeColors();
    this.chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [{
        label: "Portfolio value (USD)",
        data: this.points,
        borderColor: colors.line,
        backgroundColor: colors.fill,
        // Monotone: the curve never bends back before an earlier point in time.
        fill: true, borderWidth: 2, cubicInterpolationMode: "monotone",
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
          x: { type: "linear", grid: { color: colors.grid },
            ticks: { maxTicksLimit: 6, color: colors.text, maxRotation: 0, autoSkipPadding: 12,
              callback: (v) => timeLabel(v, this.range, this.span()) } },
          y: { grace: "10%", grid: { color: colors.grid },
            ticks: { maxTicksLimit: 6, color: colors.text, callback: yTick } }
        }
      }
    });
    onTheme(this.chart, (c) => {
      const ds = this.chart.data.datasets[0];
      ds.borderColor = c.line;
      ds.backgroundColor = c.fill;
      for (const axis of ["x", "y"]) {
        this.chart.options.scales[axis].ticks.color = c.text;
        this.chart.options.scales[axis].grid.color = c.grid;
      }
    });
  }

  setHistory(range, points) {
    this.range = range;
    this.points.length = 0;
    const sorted = points.map((p) => ({ x: Date.parse(p.timestamp), y: toNumber(p.value), s: p.value, sim: !!p.simulated }))
      .filter((p) => isFinite(p.x)).sort((a, b) => a.x - b.x);
    for (const p of sorted) {
      const last = this.points[this.points.length - 1];
      if (!last || p.x > last.x) this.points.push(p); // time only moves forward
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
    const colors = themeColors();
    // The legend carries each share ("BTC 62.50%"): readable without hovering.
    this.chart = new Chart(canvas, {
      type: "doughnut",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderWidth: 2, borderColor: colors.panel }] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: { position: "bottom", labels: { color: cssVar("--text"), boxWidth: 12, padding: 10 } },
          tooltip: { callbacks: { label: (item) => item.label } }
        }
      }
    });
    onTheme(this.chart, (c) => {
      this.chart.options.plugins.legend.labels.color = cssVar("--text");
      this.chart.data.datasets[0].borderColor = c.panel;
    });
    this.chart.data.datasets[0].exact = [];
    this.key = null; // so the first update, even empty, draws
  }

  // The server's allocation_percent per holding; unpriced holdings are left out.
  update(holdings) {
    const rows = holdings.filter((h) => h.allocation_percent !== null && h.allocation_percent !== undefined);
    // Redraw only when the rounded split changes (updates come many times a second).
    const key = rows.map((h) => h.symbol + ":" + fixed(h.allocation_percent, 1)).join("|");
    if (key === this.key) return;
    this.key = key;
    // Nothing priced: a note instead of an empty ring.
    this.chart.canvas.parentElement.hidden = !rows.length;
    const note = document.getElementById("alloc-chart-empty");
    if (note) note.hidden = rows.length > 0;
    const ds = this.chart.data.datasets[0];
    this.chart.data.labels = rows.map((h) => h.symbol + " " + percent(h.allocation_percent, false));
    ds.data = rows.map((h) => toNumber(h.allocation_percent));
    ds.exact = rows.map((h) => h.allocation_percent);
    ds.backgroundColor = rows.map((_, i) => COLORS[i % COLORS.length]);
    this.chart.update("none");
  }
}
