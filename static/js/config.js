/* The page's configuration: only what the template passes in, as data attributes
 * of #dashboard (URLs from Django's reverse(), the stale-price threshold). */

export function readConfig(root) {
  const d = root.dataset;
  return Object.freeze({
    wsPath: d.wsPath,
    staleAfterMs: Math.round(Number(d.staleAfter || "10") * 1000),
    apiPortfolio: d.apiPortfolio,
    apiHistory: d.apiHistory,
    apiPriceHistory: d.apiPriceHistory,
    apiHoldings: d.apiHoldings,
    apiRules: d.apiRules,
    apiAlerts: d.apiAlerts,
    apiWatchlist: d.apiWatchlist,
    apiPrices: d.apiPrices
  });
}
