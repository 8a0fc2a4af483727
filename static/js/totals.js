/* The summary card: the server's totals (value, 24h change, unrealized P/L) as sent. */
import { percent, usd } from "./decimal-format.js";
import { $, setExact, setFigure, signClass } from "./dom.js";

function withPercent(amount, pct) { return usd(amount, true) + " (" + percent(pct) + ")"; }

export function renderTotals(totals) {
  const value = $("total-value");
  // Nothing priced: the server's "0" is no value at all, not $0.00.
  const priced = totals.priced_count > 0;
  value.textContent = priced ? usd(totals.value) : "—";
  setExact(value, totals.value);
  value.classList.toggle("simulated", !!totals.simulated);
  const mark = $("total-simulated");
  if (mark) mark.hidden = !totals.simulated;

  const change = $("total-change");
  setFigure(change, totals.change_24h === null || !priced ? "—" : withPercent(totals.change_24h, totals.change_percent_24h),
    signClass(totals.change_24h));
  setExact(change, totals.change_24h);

  const pl = $("total-pl");
  setFigure(pl, !priced ? "—" : totals.unrealized_pl === null ? "— (no cost basis)"
    : withPercent(totals.unrealized_pl, totals.unrealized_pl_percent), signClass(totals.unrealized_pl));
  setExact(pl, totals.unrealized_pl);

  const notes = [];
  if (totals.simulated) notes.push("rests on simulated prices");
  if (totals.stale_count) notes.push(totals.stale_count + " priced from stale data");
  if (!priced && totals.holding_count) notes.push("no price yet for any holding");
  else if (totals.unpriced_count) notes.push(totals.unpriced_count + " without a price yet (not in the total)");
  $("summary-note").textContent = notes.join(" · ");
}

// Only a total of every holding is a point of the value history (as on the server).
export function isCompleteTotal(totals) {
  return !!totals && totals.priced_count > 0 && !totals.unpriced_count && totals.value !== null;
}
