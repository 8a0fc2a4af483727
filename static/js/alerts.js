/* Alerts: the list (REST), live ALERT frames as toasts, and acknowledging them. */
import * as api from "./api.js";
import { $, button, el } from "./dom.js";
import { setAlerts, store, upsertAlert } from "./state.js";
import { removeAlertToasts, reportError, toast } from "./toasts.js";

// Where the alert was sent: "Sent: ops webhook · Failed: inbox (HTTP 410)".
function deliveryLine(deliveries) {
  const line = el("span", "muted small deliveries");
  line.textContent = deliveries.map((d) => {
    const state = d.state.charAt(0).toUpperCase() + d.state.slice(1);
    const detail = d.state === "sent" ? "" : " (" + d.attempts + " attempts"
      + (d.last_error ? ": " + d.last_error : "") + ")";
    return state + ": " + d.channel_name + detail;
  }).join(" · ");
  return line;
}

export class Alerts {
  constructor({ url, onNewAlert }) {
    this.url = url;
    this.onNewAlert = onNewAlert || (() => {});
    $("ack-all").addEventListener("click", () => this.acknowledgeAll());
  }

  async load() { setAlerts(await api.list(this.url)); }

  // An ALERT frame: a toast the first time it is seen unacknowledged.
  received(alert) {
    const isNew = upsertAlert(alert);
    if (isNew && !alert.acknowledged) {
      toast(alert.message, "alert", { alertId: alert.id, onAck: (id) => this.acknowledge(id) });
      this.onNewAlert(alert);
    }
  }

  async acknowledge(id) {
    try {
      upsertAlert(await api.post(this.url + id + "/acknowledge/"));
      removeAlertToasts(id);
    } catch (err) {
      reportError(err);
    }
  }

  acknowledgeAll() {
    const ids = store.alerts.filter((a) => !a.acknowledged).map((a) => a.id);
    if (!ids.length) return;
    api.post(this.url + "acknowledge/", { ids }).then(() => this.load()).catch(reportError);
  }

  render() {
    const list = $("alerts-list");
    const alerts = store.alerts.slice().sort((a, b) => {
      if (a.acknowledged !== b.acknowledged) return a.acknowledged ? 1 : -1;
      return Date.parse(b.triggered_at) - Date.parse(a.triggered_at);
    });
    const open = alerts.filter((a) => !a.acknowledged);
    $("alerts-count").hidden = !open.length;
    $("alerts-count").textContent = open.length + " new";
    $("ack-all").hidden = open.length < 2;
    list.textContent = "";
    if (!alerts.length) { list.appendChild(el("li", "muted", "No alerts yet.")); return; }
    alerts.slice(0, 50).forEach((a) => list.appendChild(this.item(a)));
  }

  item(a) {
    const li = el("li", "alert-item" + (a.acknowledged ? " acked" : " open"));
    li.dataset.id = a.id;
    const text = el("div", "alert-text");
    text.appendChild(el("span", "alert-message", a.message));
    if (a.simulated) text.appendChild(el("span", "source-badge src-mock", "Simulated"));
    text.appendChild(el("time", "muted small", new Date(a.triggered_at).toLocaleString()));
    if (a.deliveries && a.deliveries.length) text.appendChild(deliveryLine(a.deliveries));
    li.appendChild(text);
    if (a.acknowledged) {
      li.appendChild(el("span", "muted small ack-state", "acknowledged"));
    } else {
      const btn = button("Acknowledge", "ack", "Acknowledge: " + a.message, () => {
        btn.disabled = true;
        this.acknowledge(a.id);
      });
      li.appendChild(btn);
    }
    return li;
  }
}
