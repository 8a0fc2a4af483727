/* Status chips: the socket's state and the price feeds (system room). */
import { $, el, sourceName } from "./dom.js";

const CONN_LABELS = { connected: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

export function setConnection(state) {
  $("conn").dataset.state = state;
  $("conn-label").textContent = CONN_LABELS[state] || state;
}

export function setLastUpdate(date) {
  if (date) $("last-update").textContent = date.toLocaleTimeString();
}

function feedChip(name, provider, symbols) {
  const status = String(provider.status || "unknown").toLowerCase();
  const chip = el("span", "feed-chip status-" + status);
  chip.appendChild(el("span", "dot"));
  chip.appendChild(document.createTextNode(sourceName(name) + (symbols.length ? ": " + symbols.join(", ") : "")));
  chip.title = sourceName(name) + " — " + (provider.status || "unknown") + (provider.is_primary ? " (primary)" : "");
  return chip;
}

export function renderFeedStatus(data) {
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
