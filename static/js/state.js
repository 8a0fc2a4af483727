/* The dashboard's state and its change events. Figures are the server's:
 * the latest portfolio summary (REST or a portfolio_update frame) is kept as
 * it came; price frames only record when each price was last confirmed. */
import { cmp } from "./decimal-format.js";

const listeners = {};

export function on(event, fn) { (listeners[event] ||= []).push(fn); }

function emit(event, arg) { (listeners[event] || []).forEach((fn) => fn(arg)); }

export const store = {
  summary: null,   // the server's summary, exactly as sent
  ticks: {},       // symbol -> latest price frame entry (never used to value)
  apiHoldings: {}, // symbol -> holding from /api/holdings/ (for edit / remove)
  alerts: [],
  rules: [],
  sort: { key: "symbol", dir: 1 },
  range: "24h",
  lastUpdate: null
};

function time(iso) { const t = Date.parse(iso); return isFinite(t) ? t : null; }

// A summary replaces the one shown unless it is older (a frame overtaken by REST).
export function setSummary(summary) {
  if (!summary || !Array.isArray(summary.holdings) || !summary.totals) return false;
  const current = store.summary;
  const incoming = time(summary.as_of), shown = current && time(current.as_of);
  if (incoming !== null && shown !== null && incoming < shown) return false;
  store.summary = summary;
  emit("summary", summary);
  return true;
}

export function holdings() { return store.summary ? store.summary.holdings : []; }

export function setTicks(prices) {
  const touched = [];
  prices.forEach((p) => {
    if (!p || !p.symbol) return;
    const prev = store.ticks[p.symbol];
    if (prev && time(prev.timestamp) > time(p.timestamp)) return;
    store.ticks[p.symbol] = p;
    touched.push(p.symbol);
  });
  if (touched.length) emit("ticks", touched);
}

// When the price a row shows was last confirmed: a newer tick of the same price counts.
export function confirmedAt(row) {
  if (row.price === null || row.price === undefined) return null;
  const tick = store.ticks[row.symbol];
  const own = time(row.price_timestamp);
  if (tick && cmp(tick.price, row.price) === 0) {
    const seen = time(tick.timestamp);
    if (seen !== null && (own === null || seen > own)) return seen;
  }
  return own;
}

export function setApiHoldings(list) {
  store.apiHoldings = {};
  list.forEach((h) => { store.apiHoldings[h.symbol] = h; });
}

export function setSort(key) {
  const s = store.sort;
  store.sort = { key, dir: s.key === key ? -s.dir : (key === "symbol" ? 1 : -1) };
  emit("sort", store.sort);
}

export function setRange(range) { store.range = range; }

export function setRules(rules) { store.rules = rules; emit("rules", rules); }

export function setAlerts(alerts) { store.alerts = alerts; emit("alerts", alerts); }

export function upsertAlert(alert) {
  let found = false;
  store.alerts = store.alerts.map((a) => {
    if (a.id !== alert.id) return a;
    found = true;
    return { ...a, ...alert };
  });
  if (!found) store.alerts.push(alert);
  emit("alerts", store.alerts);
  return !found;
}

export function markUpdated() {
  store.lastUpdate = new Date();
  emit("updated", store.lastUpdate);
}
