/* Toasts: short-lived notices, and alerts that can be acknowledged from the toast. */
import { $, button, el } from "./dom.js";

export function toast(message, kind = "info", { alertId = null, onAck = null } = {}) {
  const box = el("div", "toast toast-" + kind);
  box.setAttribute("role", kind === "alert" ? "alert" : "status");
  box.appendChild(el("span", "toast-text", message));
  if (alertId !== null) {
    box.dataset.alertId = alertId;
    box.appendChild(button("Acknowledge", "ack", null, () => onAck && onAck(alertId)));
  }
  const close = button("×", "btn-link toast-close", "Dismiss", () => box.remove());
  box.appendChild(close);
  $("toasts").appendChild(box);
  setTimeout(() => box.remove(), alertId !== null ? 20000 : 5000);
  return box;
}

export function removeAlertToasts(alertId) {
  document.querySelectorAll('.toast[data-alert-id="' + alertId + '"]').forEach((t) => t.remove());
}

export function reportError(err) {
  if (err && (err.status === 401 || err.status === 403)) { location.reload(); return; } // session gone: go to login
  toast((err && err.message) || "Could not reach the server.", "error");
}
