/* A sparkline per asset: the prices the server sent for it since the page
 * opened (price frames, REST first values), drawn on a small canvas. Prices
 * become floats only to place pixels; no figure is computed from them. */
import { cmp, toNumber } from "./decimal-format.js";

const MAX_POINTS = 240;
const series = {}; // symbol -> [{t: ms, p: "exact price"}], time ascending
const lines = new Set(); // every live Sparkline, for theme changes

// Keep a price the server sent; older or same-time entries are ignored.
export function recordPrice(symbol, price, timestamp) {
  const t = Date.parse(timestamp);
  if (!symbol || price === null || price === undefined || !isFinite(t)) return false;
  const list = (series[symbol] ||= []);
  const last = list[list.length - 1];
  if (last && t <= last.t) return false;
  list.push({ t, p: String(price) });
  if (list.length > MAX_POINTS) list.shift();
  return true;
}

// Price frames: returns the symbols that got a new point.
export function recordFrame(prices) {
  return prices.filter((p) => p && recordPrice(p.symbol, p.price, p.timestamp)).map((p) => p.symbol);
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class Sparkline {
  constructor(symbol, { width = 84, height = 24 } = {}) {
    this.symbol = symbol;
    this.width = width;
    this.height = height;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "spark";
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", symbol + " price since the page opened");
    lines.add(this);
    this.draw();
  }

  draw() {
    if (!this.canvas.isConnected && this.drawn) { lines.delete(this); return; }
    const ratio = window.devicePixelRatio || 1;
    const c = this.canvas;
    c.width = Math.round(this.width * ratio);
    c.height = Math.round(this.height * ratio);
    const ctx = c.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const list = series[this.symbol] || [];
    this.drawn = true;
    if (list.length < 2) { this.flat(ctx); return; }
    const ys = list.map((e) => toNumber(e.p));
    const lo = Math.min(...ys), hi = Math.max(...ys);
    const t0 = list[0].t, span = list[list.length - 1].t - t0 || 1;
    const pad = 2, h = this.height - 2 * pad, w = this.width - 2 * pad;
    const trend = cmp(list[list.length - 1].p, list[0].p);
    ctx.strokeStyle = cssVar(trend < 0 ? "--down" : (trend > 0 ? "--up" : "--muted"));
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    list.forEach((e, i) => {
      const x = pad + ((e.t - t0) / span) * w;
      const y = hi === lo ? pad + h / 2 : pad + (1 - (ys[i] - lo) / (hi - lo)) * h;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    const first = list[0].p, last = list[list.length - 1].p;
    this.canvas.title = this.symbol + ": " + list.length + " prices, " + first + " → " + last;
  }

  // Fewer than two prices yet: a dotted baseline says "no movement to show".
  flat(ctx) {
    ctx.strokeStyle = cssVar("--line");
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(2, this.height / 2);
    ctx.lineTo(this.width - 2, this.height / 2);
    ctx.stroke();
    this.canvas.title = this.symbol + ": waiting for prices";
  }
}

document.addEventListener("themechange", () => lines.forEach((l) => l.draw()));
