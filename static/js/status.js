/* The status pill, the truth banner and the feed chips.
 * The pill describes the DATA, not only the socket: "Live" only while the
 * socket is open, the worker reports, and every shown price is real and fresh.
 * Inputs are the server's: the system room's status (data_state, mock_active,
 * interval) and the summary's totals (simulated, stale_count). */
import { $, el, sourceName } from "./dom.js";

// A status older than this many intervals (plus slack) means the worker is
// gone: a standby is taking over, or nobody publishes prices.
const MISSED_INTERVALS = 3, SLACK_MS = 2000;

const view = { socket: "offline", status: null, statusAt: 0, totals: null };

const PILL = {
  offline: "Disconnected",
  reconnecting: "Reconnecting…",
  takeover: "Worker takeover — prices paused",
  simulated: "Simulated prices",
  stale: "Stale prices",
  waiting: "Waiting for exchanges",
  live: "Live"
};

const BANNER = {
  offline: "Disconnected from the server — the figures below may be out of date.",
  reconnecting: "Reconnecting to the server — the figures below may be out of date.",
  takeover: "The price worker stopped reporting (a standby is taking over) — prices are paused, figures may be out of date.",
  simulated: "Simulated prices — not market data. No exchange is reachable; figures marked Simulated are invented.",
  stale: "Stale prices — some figures rest on prices no exchange has confirmed recently.",
  waiting: null,
  live: null
};

function workerGone(now) {
  const status = view.status;
  if (!status || status.available === false) return false;
  const interval = Number(status.interval) || 5;
  return now - view.statusAt > interval * 1000 * MISSED_INTERVALS + SLACK_MS;
}

// One word for what the page shows, most serious first.
export function dataState(now = Date.now()) {
  if (view.socket !== "connected") return view.socket === "reconnecting" ? "reconnecting" : "offline";
  if (workerGone(now)) return "takeover";
  const status = view.status || {};
  const totals = view.totals || {};
  if (status.data_state === "simulated" || status.mock_active || totals.simulated) return "simulated";
  if (status.data_state === "stale" || totals.stale_count > 0) return "stale";
  if (!view.status || status.data_state === "waiting") return "waiting";
  return "live";
}

export function renderTruth(now = Date.now()) {
  const state = dataState(now);
  const pill = $("conn");
  pill.dataset.state = view.socket;
  pill.dataset.data = state;
  let label = PILL[state];
  if (state === "waiting" && view.status && view.status.available === false) label = "Waiting for the price worker";
  $("conn-label").textContent = label;
  pill.title = BANNER[state] || label;
  // Chips from a status the worker no longer confirms are history, not health.
  $("feed-status").classList.toggle("outdated", ["takeover", "offline", "reconnecting"].includes(state));
  const banner = $("truth-banner");
  const text = BANNER[state];
  banner.hidden = !text;
  banner.dataset.state = state;
  $("truth-banner-text").textContent = text || "";
}

export function setConnection(state) {
  view.socket = state;
  renderTruth();
}

export function setTotalsProvenance(totals) {
  view.totals = totals || null;
  renderTruth();
}

export function setLastUpdate(date) {
  if (date) $("last-update").textContent = date.toLocaleTimeString();
}

function feedChip(name, provider, symbols) {
  const simulated = name === "mock";
  // The simulation is never "healthy": its chip says simulated, in its own colour.
  const status = simulated ? "simulated" : String(provider.status || "unknown").toLowerCase();
  const chip = el("span", "feed-chip status-" + status);
  chip.appendChild(el("span", "dot"));
  const what = simulated ? "Simulated (not market data)" : sourceName(name);
  chip.appendChild(document.createTextNode(what + (symbols.length ? ": " + symbols.join(", ") : "")));
  // "stale": the server's word for an open socket that sent no data lately.
  const said = status === "stale" ? "connected, but no data lately" : provider.status || "unknown";
  chip.title = sourceName(name) + " — " + (simulated ? "simulated prices" : said)
    + (provider.is_primary ? " (primary)" : "");
  return chip;
}

export function renderFeedStatus(data) {
  view.status = data;
  view.statusAt = Date.now();
  renderTruth();
  const box = $("feed-status");
  box.textContent = "";
  const providers = data.providers || {};
  const serving = data.serving || {};
  const names = Object.keys(providers);
  Object.values(serving).forEach((name) => {
    if (name && !names.includes(name)) names.push(name); // e.g. the mock fallback
  });
  names.sort().forEach((name) => {
    const symbols = Object.keys(serving).filter((s) => serving[s] === name).sort();
    box.appendChild(feedChip(name, providers[name] || { status: "connected" }, symbols));
  });
  const stale = data.stale_symbols || [];
  if (stale.length) box.appendChild(el("span", "feed-note warn", "No live feed: " + stale.join(", ")));
  if (data.mock_active) box.appendChild(el("span", "feed-note sim", "Simulated prices in use"));
  if (data.message) box.appendChild(el("span", "feed-note", data.message));
}
