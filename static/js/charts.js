/* The value-over-time line and the allocation doughnut (Chart.js, served locally).
 * Chart.js plots numbers, so values become floats here and only here: the labels
 * and tooltips show the exact decimal strings. */
(function (global) {
  "use strict";

  var COLORS = ["#f7931a", "#627eea", "#14f195", "#e84142", "#2a5ada", "#c2a633",
                "#8247e5", "#23292f", "#00aae4", "#ff007a"];
  var MAX_LIVE_POINTS = 600;

  function timeLabel(ms, range, span) {
    var d = new Date(ms);
    if (span < 2 * 3600 * 1000) {
      return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
    if (range === "1h" || range === "24h" || span < 36 * 3600 * 1000) {
      return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
    return d.toLocaleDateString([], { month: "short", day: "numeric" });
  }

  function ValueChart(canvas) {
    var self = this;
    this.range = "24h";
    this.points = []; // {x: ms, y: float, s: exact string}
    this.chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [{
        label: "Portfolio value (USD)",
        data: this.points,
        borderColor: "#3b82f6",
        backgroundColor: "rgba(59,130,246,0.12)",
        fill: true, pointRadius: 0, borderWidth: 2, tension: 0.2
      }] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        parsing: false, normalized: true,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: {
            title: function (items) { return items.length ? new Date(items[0].parsed.x).toLocaleString() : ""; },
            label: function (item) { return Dec.usd(item.raw.s); }
          } }
        },
        scales: {
          x: { type: "linear", ticks: { maxTicksLimit: 6, callback: function (v) { return timeLabel(v, self.range, self.span()); } } },
          y: { ticks: { maxTicksLimit: 6, callback: function (v) { return "$" + Number(v).toLocaleString(); } } }
        }
      }
    });
  }

  ValueChart.prototype.setHistory = function (range, points) {
    this.range = range;
    this.points.length = 0;
    for (var i = 0; i < points.length; i++) {
      this.points.push({ x: Date.parse(points[i].timestamp), y: Dec.toNumber(points[i].value), s: points[i].value });
    }
    this.chart.update("none");
  };

  ValueChart.prototype.extend = function (timestamp, value) {
    var x = Date.parse(timestamp);
    if (!isFinite(x) || value === null || value === undefined) return;
    var last = this.points[this.points.length - 1];
    if (last && x <= last.x) return;
    this.points.push({ x: x, y: Dec.toNumber(value), s: value });
    if (this.points.length > MAX_LIVE_POINTS) this.points.shift();
    this.chart.update("none");
  };

  ValueChart.prototype.span = function () {
    var n = this.points.length;
    return n > 1 ? this.points[n - 1].x - this.points[0].x : 0;
  };

  ValueChart.prototype.count = function () { return this.points.length; };

  function AllocationChart(canvas) {
    this.chart = new Chart(canvas, {
      type: "doughnut",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderWidth: 1 }] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (item) {
            return item.label + ": " + Dec.percent(item.dataset.exact[item.dataIndex], false);
          } } }
        }
      }
    });
    this.chart.data.datasets[0].exact = [];
    this.key = "";
  }

  AllocationChart.prototype.update = function (holdings) {
    var rows = holdings.filter(function (h) { return h.allocation_percent !== null && h.allocation_percent !== undefined; });
    // Redraw only when the rounded split changes (prices tick many times a second).
    var key = rows.map(function (h) { return h.symbol + ":" + Dec.fixed(h.allocation_percent, 1); }).join("|");
    if (key === this.key) return;
    this.key = key;
    var ds = this.chart.data.datasets[0];
    this.chart.data.labels = rows.map(function (h) { return h.symbol; });
    ds.data = rows.map(function (h) { return Dec.toNumber(h.allocation_percent); });
    ds.exact = rows.map(function (h) { return h.allocation_percent; });
    ds.backgroundColor = rows.map(function (_, i) { return COLORS[i % COLORS.length]; });
    this.chart.update("none");
  };

  global.Charts = { ValueChart: ValueChart, AllocationChart: AllocationChart };
})(window);
