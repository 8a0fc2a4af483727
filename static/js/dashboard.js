/* The live dashboard's entry point: wires the modules together. REST gives the
 * first state and applies changes; the WebSocket brings the server's portfolio
 * summaries (portfolio_update), price ticks (ages only), alerts and feed status.
 * Nothing here values a holding: every figure shown is the server's. */
import { Alerts } from "./alerts.js";
import * as api from "./api.js";
import { AllocationChart, chartsAvailable } from "./charts.js";
import { readConfig } from "./config.js";
import { $ } from "./dom.js";
import { History } from "./history.js";
import { HoldingForm } from "./holding-form.js";
import { HoldingsTable } from "./holdings-table.js";
import { Rules } from "./rules.js";
import { PriceChart } from "./price-chart.js";
import { LiveSocket, streamUrl } from "./socket.js";
import { recordFrame, recordPrice } from "./sparkline.js";
import { markUpdated, on, setApiHoldings, setSummary, setTicks, store } from "./state.js";
import { renderFeedStatus, renderTruth, setConnection, setLastUpdate, setTotalsProvenance } from "./status.js";
import { reportError, toast } from "./toasts.js";
import { renderTotals } from "./totals.js";
import { WatchList } from "./watchlist.js";

function start(root) {
  const cfg = readConfig(root);
  const chartsOn = chartsAvailable();
  const allocation = chartsOn ? new AllocationChart($("alloc-chart")) : null;
  const history = new History({ url: cfg.apiHistory, chartsOn });
  const prices = new PriceChart({ urlTemplate: cfg.apiPriceHistory, chartsOn });
  const rules = new Rules({ url: cfg.apiRules });
  const watch = new WatchList({ url: cfg.apiWatchlist, pricesUrl: cfg.apiPrices });
  // A new alert may have changed trigger counts or disabled a one-shot rule.
  const alerts = new Alerts({ url: cfg.apiAlerts, onNewAlert: () => rules.load().catch(reportError) });

  async function loadPortfolio() {
    const [summary, list] = await Promise.all([api.get(cfg.apiPortfolio), api.list(cfg.apiHoldings)]);
    setApiHoldings(list);
    setSummary(summary);
    markUpdated();
  }

  const form = new HoldingForm({ url: cfg.apiHoldings, reload: loadPortfolio });
  const table = new HoldingsTable({
    staleAfterMs: cfg.staleAfterMs,
    onEdit: (symbol) => form.edit(symbol),
    onRemove: (symbol, btn) => form.remove(symbol, btn)
  });

  on("summary", (summary) => {
    summary.holdings.forEach((h) => recordPrice(h.symbol, h.price, h.price_timestamp));
    renderTotals(summary.totals);
    setTotalsProvenance(summary.totals);
    table.render();
    table.redrawSparks(summary.holdings.map((h) => h.symbol));
    if (allocation) allocation.update(summary.holdings);
    prices.setSymbols(summary.holdings.map((h) => h.symbol));
  });
  on("sort", () => table.render());
  on("ticks", () => table.refreshAges());
  on("rules", () => rules.render());
  on("alerts", () => alerts.render());
  on("updated", setLastUpdate);

  function resync() {
    return Promise.all([loadPortfolio(), alerts.load(), rules.load(), history.load(), watch.load()])
      .catch(reportError);
  }

  function onFrame(frame) {
    const data = frame.data || {};
    switch (frame.type) {
      case "price_update":
        setTicks(data.prices || []);
        table.redrawSparks(recordFrame(data.prices || []));
        watch.ticks(data.prices || []);
        markUpdated();
        break;
      case "portfolio_update":
        if (setSummary(data)) history.extend(data);
        markUpdated();
        break;
      case "alert":
        alerts.received(data);
        break;
      case "system_status":
        renderFeedStatus(data);
        break;
      case "error":
        toast(data.message || "Server error.", "error");
        break;
      default:
        break; // status frames (connected, subscribed, pong)
    }
  }

  const startedAt = Date.now();
  const socket = new LiveSocket({
    url: streamUrl(cfg.wsPath),
    rooms: ["prices", "system"],
    onFrame,
    onState: setConnection,
    // A reconnect (or a first connect long after the page loaded) re-syncs from REST.
    onOpen: (again) => { if (again || Date.now() - startedAt > 5000) resync(); }
  });

  resync();
  socket.connect();
  // Each second: ages, and the pill (a worker that stopped reporting is noticed).
  setInterval(() => { table.refreshAges(); setLastUpdate(store.lastUpdate); renderTruth(); }, 1000);
  window.addEventListener("online", () => { if (!socket.ws) socket.connect(); });
}

const root = document.getElementById("dashboard");
if (root) start(root);
