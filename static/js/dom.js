/* Small DOM helpers shared by the dashboard's renderers. */
import { sign } from "./decimal-format.js";

export function $(id) { return document.getElementById(id); }

export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function button(text, cls, label, onClick) {
  const node = el("button", "btn btn-small" + (cls ? " " + cls : ""), text);
  node.type = "button";
  if (label) node.setAttribute("aria-label", label);
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

export function signClass(s) {
  const n = sign(s);
  return n > 0 ? "up" : (n < 0 ? "down" : "flat");
}

// Text plus up/down/flat colouring.
export function setFigure(node, text, cls) {
  node.textContent = text;
  node.classList.remove("up", "down", "flat");
  if (cls) node.classList.add(cls);
}

// The server's exact figure behind a formatted one (empty when it sent null).
export function setExact(node, value) {
  node.dataset.value = value === null || value === undefined ? "" : String(value);
}

export function flash(node, dir) {
  node.classList.remove("flash-up", "flash-down");
  void node.offsetWidth; // restart the animation
  node.classList.add(dir > 0 ? "flash-up" : "flash-down");
}

// Names of the price sources as people know them.
export const SOURCES = { binance: "Binance", coinbase: "Coinbase", mock: "Simulated", manual: "Manual" };

export function sourceName(source) { return SOURCES[source] || source; }
