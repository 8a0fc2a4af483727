/* The live dashboard: REST for state and changes, the WebSocket for motion.
 * Every figure is kept as an exact decimal string (see decimal-format.js). */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root) return;
  var cfg = root.dataset;
  var STALE_AFTER_MS = Math.round(parseFloat(cfg.staleAfter || "10") * 1000);
  var SOURCES = { binance: "Binance", coinbase: "Coinbase", mock: "Simulated", manual: "Manual" };

  var state = {
    holdings: [],        // summary rows (exact strings), revalued on live prices
    ids: {},             // symbol -> holding id (for edit / remove)
    apiHoldings: {},     // symbol -> holding from /api/holdings/
    prices: {},          // symbol -> latest price dict from price_update frames
    totals: null,
    sort: { key: "symbol", dir: 1 },
    range: "24h",
    alerts: [],
    rules: [],
    lastUpdate: null
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function signClass(s) { var n = Dec.sign(s); return n > 0 ? "up" : (n < 0 ? "down" : "flat"); }

  // ---- valuation of one row from a live price (mirrors portfolio.valuation) ----
  function revalue(row, price) {
    var out = Object.assign({}, row);
    out.price = price.price;
    out.value = Dec.mul(row.amount, price.price);
    out.source = price.source;
    out.price_timestamp = price.timestamp;
    out.simulated = price.source === "mock";
    out.change_24h = price.change_24h ? Dec.mul(row.amount, price.change_24h) : null;
    out.change_percent_24h = out.change_24h === null ? null
      : Dec.div(Dec.mul(out.change_24h, "100"), Dec.sub(out.value, out.change_24h), 4);
    if (row.cost_basis !== null && row.cost_basis !== undefined) {
      out.unrealized_pl = Dec.sub(out.value, row.cost_basis);
      out.unrealized_pl_percent = Dec.div(Dec.mul(out.unrealized_pl, "100"), row.cost_basis, 4);
    }
    return out;
  }

  function totalsOf(rows) {
    var priced = rows.filter(function (r) { return r.value !== null && r.value !== undefined; });
    var withChange = priced.filter(function (r) { return r.change_24h !== null && r.change_24h !== undefined; });
    var withCost = priced.filter(function (r) { return r.cost_basis !== null && r.cost_basis !== undefined; });
    var pick = function (list, key) { return list.map(function (r) { return r[key]; }); };
    var value = Dec.sum(pick(priced, "value"));
    var change = Dec.sum(pick(withChange, "change_24h"));
    var cost = Dec.sum(pick(withCost, "cost_basis"));
    var pl = Dec.sum(pick(withCost, "unrealized_pl"));
    priced.forEach(function (r) { r.allocation_percent = Dec.div(Dec.mul(r.value, "100"), value, 4); });
    return {
      value: value,
      change_24h: withChange.length ? change : null,
      change_percent_24h: withChange.length ? Dec.div(Dec.mul(change, "100"), Dec.sub(value, change), 4) : null,
      cost_basis: withCost.length ? cost : null,
      unrealized_pl: withCost.length ? pl : null,
      unrealized_pl_percent: withCost.length ? Dec.div(Dec.mul(pl, "100"), cost, 4) : null,
      holding_count: rows.length,
      priced_count: priced.length,
      unpriced_count: rows.length - priced.length
    };
  }

  function newer(price, row) {
    if (!price) return false;
    if (!row.price_timestamp) return true;
    return Date.parse(price.timestamp) > Date.parse(row.price_timestamp);
  }

  function applySummary(summary) {
    state.holdings = summary.holdings.map(function (row) {
      var live = state.prices[row.symbol];
      return newer(live, row) ? revalue(row, live) : Object.assign({}, row);
    });
    state.totals = totalsOf(state.holdings);
    render();
  }

  function applyPrices(prices) {
    var touched = false;
    prices.forEach(function (p) {
      var prev = state.prices[p.symbol];
      if (prev && Date.parse(prev.timestamp) > Date.parse(p.timestamp)) return;
      state.prices[p.symbol] = p;
      state.holdings = state.holdings.map(function (row) {
        if (row.symbol !== p.symbol) return row;
        touched = true;
        return revalue(row, p);
      });
    });
    if (touched) {
      state.totals = totalsOf(state.holdings);
      render();
    }
  }

  // ---- rendering -------------------------------------------------------------
  var rowsBySymbol = {};
  var valueChart = null, allocChart = null;

  function setFigure(node, text, cls) {
    node.textContent = text;
    node.classList.remove("up", "down", "flat");
    if (cls) node.classList.add(cls);
  }

  function render() {
    var t = state.totals;
    if (t) {
      $("total-value").textContent = Dec.usd(t.value);
      setFigure($("total-change"), t.change_24h === null ? "—"
        : Dec.usd(t.change_24h, true) + " (" + Dec.percent(t.change_percent_24h) + ")", signClass(t.change_24h));
      setFigure($("total-pl"), t.unrealized_pl === null ? "— (no cost basis)"
        : Dec.usd(t.unrealized_pl, true) + " (" + Dec.percent(t.unrealized_pl_percent) + ")", signClass(t.unrealized_pl));
      var notes = [];
      if (t.unpriced_count) notes.push(t.unpriced_count + " without a price yet (not in the total)");
      $("summary-note").textContent = notes.join(" · ");
    }
    renderHoldings();
    if (allocChart) allocChart.update(state.holdings);
  }

  function buildRow(symbol) {
    var tr = el("tr");
    tr.dataset.symbol = symbol;
    var th = el("th", "sym", symbol);
    th.scope = "row";
    tr.appendChild(th);
    ["amount", "price", "value", "change", "alloc", "pl"].forEach(function (name) {
      tr.appendChild(el("td", "num " + name));
    });
    var priceCell = tr.querySelector(".price");
    priceCell.appendChild(el("span", "price-text"));
    var meta = el("span", "price-meta");
    meta.appendChild(el("span", "source-badge"));
    meta.appendChild(el("span", "age"));
    priceCell.appendChild(meta);
    var actions = el("td", "actions");
    var edit = el("button", "btn btn-small edit", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", "Edit " + symbol);
    var remove = el("button", "btn btn-small btn-danger remove", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", "Remove " + symbol);
    actions.appendChild(edit);
    actions.appendChild(remove);
    tr.appendChild(actions);
    edit.addEventListener("click", function () { editHolding(symbol); });
    remove.addEventListener("click", function () { removeHolding(symbol, remove); });
    return tr;
  }

  function flash(node, dir) {
    node.classList.remove("flash-up", "flash-down");
    void node.offsetWidth; // restart the animation
    node.classList.add(dir > 0 ? "flash-up" : "flash-down");
  }

  function updateRow(tr, row) {
    tr.querySelector(".amount").textContent = Dec.amount(row.amount);
    var priceText = tr.querySelector(".price-text");
    var badge = tr.querySelector(".source-badge");
    if (row.price === null || row.price === undefined) {
      priceText.textContent = "no price yet";
      priceText.classList.add("muted");
      badge.textContent = "";
      badge.className = "source-badge";
      tr.dataset.ts = "";
    } else {
      var prev = tr.dataset.price;
      if (prev && Dec.cmp(row.price, prev) !== 0) flash(tr.querySelector(".price"), Dec.cmp(row.price, prev));
      priceText.classList.remove("muted");
      priceText.textContent = Dec.price(row.price);
      badge.textContent = SOURCES[row.source] || row.source || "?";
      badge.className = "source-badge src-" + (row.source || "unknown");
      badge.title = row.source === "mock"
        ? "Simulated price: no exchange is connected for this symbol"
        : "Price from " + (SOURCES[row.source] || row.source);
      tr.dataset.ts = row.price_timestamp || "";
    }
    tr.dataset.price = row.price || "";
    tr.querySelector(".value").textContent = row.value === null ? "—" : Dec.usd(row.value);
    setFigure(tr.querySelector(".change"), Dec.percent(row.change_percent_24h), signClass(row.change_percent_24h));
    tr.querySelector(".alloc").textContent = row.allocation_percent === null || row.allocation_percent === undefined
      ? "—" : Dec.percent(row.allocation_percent, false);
    var pl = tr.querySelector(".pl");
    setFigure(pl, row.unrealized_pl === null || row.unrealized_pl === undefined ? "—" : Dec.usd(row.unrealized_pl, true),
      signClass(row.unrealized_pl));
    updateAge(tr);
  }

  function updateAge(tr) {
    var ageNode = tr.querySelector(".age");
    var ts = tr.dataset.ts;
    if (!ts) { ageNode.textContent = ""; tr.classList.remove("stale"); return; }
    var ageMs = Math.max(0, Date.now() - Date.parse(ts));
    var stale = ageMs > STALE_AFTER_MS;
    ageNode.textContent = stale ? "stale · " + ageText(ageMs) : ageText(ageMs);
    tr.classList.toggle("stale", stale);
  }

  function ageText(ms) {
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m ago";
    if (s < 86400) return Math.floor(s / 3600) + "h ago";
    return Math.floor(s / 86400) + "d ago";
  }

  function sortedRows() {
    var key = state.sort.key, dir = state.sort.dir;
    return state.holdings.slice().sort(function (a, b) {
      var c = key === "symbol" ? (a.symbol < b.symbol ? -1 : (a.symbol > b.symbol ? 1 : 0)) : Dec.cmp(a[key], b[key]);
      return c * dir || (a.symbol < b.symbol ? -1 : 1);
    });
  }

  function renderHoldings() {
    var body = $("holdings-body");
    var rows = sortedRows();
    var seen = {};
    if (!rows.length) {
      body.textContent = "";
      rowsBySymbol = {};
      var tr = el("tr", "empty");
      var td = el("td", null, "No holdings yet: add one below.");
      td.colSpan = 8;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    var empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    rows.forEach(function (row) {
      seen[row.symbol] = true;
      var tr = rowsBySymbol[row.symbol] || (rowsBySymbol[row.symbol] = buildRow(row.symbol));
      updateRow(tr, row);
    });
    Object.keys(rowsBySymbol).forEach(function (sym) {
      if (!seen[sym]) { rowsBySymbol[sym].remove(); delete rowsBySymbol[sym]; }
    });
    var current = Array.prototype.map.call(body.children, function (n) { return n.dataset.symbol; }).join();
    var wanted = rows.map(function (r) { return r.symbol; }).join();
    if (current !== wanted) rows.forEach(function (r) { body.appendChild(rowsBySymbol[r.symbol]); });
  }

  function tick() {
    Object.keys(rowsBySymbol).forEach(function (s) { updateAge(rowsBySymbol[s]); });
    if (state.lastUpdate) $("last-update").textContent = state.lastUpdate.toLocaleTimeString();
  }

  // ---- sorting ---------------------------------------------------------------
  document.querySelectorAll("#holdings-table .sort").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var key = btn.dataset.key;
      state.sort = { key: key, dir: state.sort.key === key ? -state.sort.dir : (key === "symbol" ? 1 : -1) };
      document.querySelectorAll("#holdings-table th").forEach(function (th) { th.removeAttribute("aria-sort"); });
      btn.parentElement.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
      renderHoldings();
    });
  });

  // ---- REST sync ---------------------------------------------------------------
  function loadPortfolio() {
    return Promise.all([Api.get(cfg.apiPortfolio), Api.list(cfg.apiHoldings)]).then(function (res) {
      state.apiHoldings = {};
      res[1].forEach(function (h) { state.apiHoldings[h.symbol] = h; });
      applySummary(res[0]);
      markUpdated();
    });
  }

  function loadHistory() {
    return Api.get(cfg.apiHistory + "?range=" + encodeURIComponent(state.range)).then(function (data) {
      if (!valueChart) return;
      valueChart.setHistory(data.range, data.points);
      $("value-chart-empty").hidden = valueChart.count() > 0;
    });
  }

  function resync() {
    return Promise.all([loadPortfolio(), loadAlerts(), loadRules(), loadHistory()]).catch(reportError);
  }

  function reportError(err) {
    if (err && err.status === 403) { location.reload(); return; } // session gone: go to login
    toast((err && err.message) || "Could not reach the server.", "error");
  }

  function markUpdated() {
    state.lastUpdate = new Date();
    $("last-update").textContent = state.lastUpdate.toLocaleTimeString();
  }

  // ---- forms -------------------------------------------------------------------
  function clearErrors(form) {
    form.querySelectorAll(".field-errors").forEach(function (n) { n.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
  }

  function showErrors(form, err) {
    var body = (err && err.body) || {};
    var shown = false;
    Object.keys(body).forEach(function (field) {
      var box = form.querySelector('.field-errors[data-for="' + field + '"]');
      var messages = Array.isArray(body[field]) ? body[field] : [String(body[field])];
      if (box) {
        box.textContent = messages.join(" ");
        var input = form.querySelector('[name="' + field + '"]');
        if (input) input.setAttribute("aria-invalid", "true");
        shown = true;
      }
    });
    if (!shown) form.querySelector('.field-errors[data-for="non_field_errors"]').textContent = err.message;
    var first = form.querySelector("[aria-invalid]");
    if (first) first.focus();
  }

  function value(form, name) {
    var input = form.elements[name];
    return input.value.trim();
  }

  // An error goes away as soon as its field is edited.
  [$("holding-form"), $("rule-form")].forEach(function (form) {
    form.addEventListener("input", function (event) {
      var name = event.target.name;
      var box = name && form.querySelector('.field-errors[data-for="' + name + '"]');
      if (box) box.textContent = "";
      if (name) event.target.removeAttribute("aria-invalid");
    });
  });

  var holdingForm = $("holding-form");
  function resetHoldingForm() {
    holdingForm.reset();
    holdingForm.elements.id.value = "";
    clearErrors(holdingForm);
    $("holding-form-title").textContent = "Add a holding";
    $("holding-submit").textContent = "Add holding";
    $("holding-cancel").hidden = true;
  }

  function editHolding(symbol) {
    var h = state.apiHoldings[symbol];
    if (!h) return;
    clearErrors(holdingForm);
    holdingForm.elements.id.value = h.id;
    holdingForm.elements.symbol.value = h.symbol;
    holdingForm.elements.amount.value = h.amount;
    holdingForm.elements.cost_basis.value = h.cost_basis || "";
    $("holding-form-title").textContent = "Edit " + symbol;
    $("holding-submit").textContent = "Save";
    $("holding-cancel").hidden = false;
    holdingForm.elements.amount.focus();
  }

  function removeHolding(symbol, button) {
    var h = state.apiHoldings[symbol];
    if (!h) return;
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = "Confirm";
      setTimeout(function () { button.dataset.confirm = ""; button.textContent = "Remove"; }, 4000);
      return;
    }
    Api.del(cfg.apiHoldings + h.id + "/").then(function () {
      toast("Removed " + symbol + ".", "info");
      return loadPortfolio();
    }).catch(reportError);
  }

  holdingForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(holdingForm);
    var id = holdingForm.elements.id.value;
    var body = {
      symbol: value(holdingForm, "symbol").toUpperCase(),
      amount: value(holdingForm, "amount"),
      cost_basis: value(holdingForm, "cost_basis") || null
    };
    var call = id ? Api.patch(cfg.apiHoldings + id + "/", body) : Api.post(cfg.apiHoldings, body);
    call.then(function (saved) {
      toast((id ? "Saved " : "Added ") + saved.symbol + ".", "info");
      resetHoldingForm();
      return loadPortfolio();
    }).catch(function (err) { showErrors(holdingForm, err); });
  });
  $("holding-cancel").addEventListener("click", resetHoldingForm);

  // ---- alert rules -----------------------------------------------------------------
  var ruleForm = $("rule-form");
  var KIND_LABELS = {};
  Array.prototype.forEach.call(ruleForm.elements.kind.options, function (o) { KIND_LABELS[o.value] = o.textContent; });

  function isPortfolioKind(kind) { return kind.indexOf("portfolio_") === 0; }

  function syncRuleSymbol() {
    var portfolio = isPortfolioKind(ruleForm.elements.kind.value);
    ruleForm.elements.symbol.disabled = portfolio;
    if (portfolio) ruleForm.elements.symbol.value = "";
  }
  ruleForm.elements.kind.addEventListener("change", syncRuleSymbol);

  function ruleText(rule) {
    var unit = rule.kind.indexOf("change_pct") === 0 ? Dec.fixed(rule.threshold, 2, { trim: true }) + "%" : Dec.price(rule.threshold);
    return (rule.symbol ? rule.symbol + " " : "") + KIND_LABELS[rule.kind].toLowerCase() + " " + unit;
  }

  function loadRules() {
    return Api.list(cfg.apiRules).then(function (rules) { state.rules = rules; renderRules(); });
  }

  function renderRules() {
    var list = $("rules-list");
    list.textContent = "";
    if (!state.rules.length) { list.appendChild(el("li", "muted", "No rules yet.")); return; }
    state.rules.forEach(function (rule) {
      var li = el("li", "rule" + (rule.enabled ? "" : " disabled"));
      li.dataset.id = rule.id;
      var text = el("span", "rule-text", ruleText(rule));
      li.appendChild(text);
      var meta = el("span", "muted small", (rule.enabled ? "" : "disabled · ") + (rule.one_shot ? "once · " : "") +
        "fired " + rule.trigger_count + "×");
      li.appendChild(meta);
      var edit = el("button", "btn btn-small", "Edit");
      edit.type = "button";
      edit.setAttribute("aria-label", "Edit rule " + ruleText(rule));
      edit.addEventListener("click", function () { editRule(rule); });
      var del = el("button", "btn btn-small btn-danger", "Delete");
      del.type = "button";
      del.setAttribute("aria-label", "Delete rule " + ruleText(rule));
      del.addEventListener("click", function () {
        Api.del(cfg.apiRules + rule.id + "/").then(loadRules).catch(reportError);
      });
      li.appendChild(edit);
      li.appendChild(del);
      list.appendChild(li);
    });
  }

  function resetRuleForm() {
    ruleForm.reset();
    ruleForm.elements.id.value = "";
    clearErrors(ruleForm);
    syncRuleSymbol();
    $("rule-form-title").textContent = "Add a rule";
    $("rule-submit").textContent = "Add rule";
    $("rule-cancel").hidden = true;
  }

  function editRule(rule) {
    clearErrors(ruleForm);
    var f = ruleForm.elements;
    f.id.value = rule.id;
    f.kind.value = rule.kind;
    syncRuleSymbol();
    f.symbol.value = rule.symbol;
    f.threshold.value = rule.threshold;
    f.cooldown_seconds.value = rule.cooldown_seconds;
    f.enabled.checked = rule.enabled;
    f.one_shot.checked = rule.one_shot;
    $("rule-form-title").textContent = "Edit rule";
    $("rule-submit").textContent = "Save rule";
    $("rule-cancel").hidden = false;
    f.threshold.focus();
  }

  ruleForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(ruleForm);
    var f = ruleForm.elements;
    var id = f.id.value;
    var body = {
      kind: f.kind.value,
      symbol: isPortfolioKind(f.kind.value) ? "" : value(ruleForm, "symbol").toUpperCase(),
      threshold: value(ruleForm, "threshold"),
      cooldown_seconds: value(ruleForm, "cooldown_seconds") || "300",
      enabled: f.enabled.checked,
      one_shot: f.one_shot.checked
    };
    var call = id ? Api.patch(cfg.apiRules + id + "/", body) : Api.post(cfg.apiRules, body);
    call.then(function () {
      toast(id ? "Rule saved." : "Rule added.", "info");
      resetRuleForm();
      return loadRules();
    }).catch(function (err) { showErrors(ruleForm, err); });
  });
  $("rule-cancel").addEventListener("click", resetRuleForm);

  // ---- alerts ----------------------------------------------------------------------
  function loadAlerts() {
    return Api.list(cfg.apiAlerts).then(function (alerts) { state.alerts = alerts; renderAlerts(); });
  }

  function upsertAlert(alert) {
    var found = false;
    state.alerts = state.alerts.map(function (a) {
      if (a.id !== alert.id) return a;
      found = true;
      return Object.assign({}, a, alert);
    });
    if (!found) state.alerts.push(alert);
    renderAlerts();
  }

  function acknowledge(id) {
    return Api.post(cfg.apiAlerts + id + "/acknowledge/").then(function (alert) {
      upsertAlert(alert);
      document.querySelectorAll('.toast[data-alert-id="' + id + '"]').forEach(function (t) { t.remove(); });
    }).catch(reportError);
  }

  function renderAlerts() {
    var list = $("alerts-list");
    var alerts = state.alerts.slice().sort(function (a, b) {
      if (a.acknowledged !== b.acknowledged) return a.acknowledged ? 1 : -1;
      return Date.parse(b.triggered_at) - Date.parse(a.triggered_at);
    });
    var open = alerts.filter(function (a) { return !a.acknowledged; });
    $("alerts-count").hidden = !open.length;
    $("alerts-count").textContent = open.length + " new";
    $("ack-all").hidden = open.length < 2;
    list.textContent = "";
    if (!alerts.length) { list.appendChild(el("li", "muted", "No alerts yet.")); return; }
    alerts.slice(0, 50).forEach(function (a) {
      var li = el("li", "alert-item" + (a.acknowledged ? " acked" : " open"));
      li.dataset.id = a.id;
      var text = el("div", "alert-text");
      text.appendChild(el("span", "alert-message", a.message));
      text.appendChild(el("time", "muted small", new Date(a.triggered_at).toLocaleString()));
      li.appendChild(text);
      if (a.acknowledged) {
        li.appendChild(el("span", "muted small ack-state", "acknowledged"));
      } else {
        var btn = el("button", "btn btn-small ack", "Acknowledge");
        btn.type = "button";
        btn.setAttribute("aria-label", "Acknowledge: " + a.message);
        btn.addEventListener("click", function () { btn.disabled = true; acknowledge(a.id); });
        li.appendChild(btn);
      }
      list.appendChild(li);
    });
  }

  $("ack-all").addEventListener("click", function () {
    var ids = state.alerts.filter(function (a) { return !a.acknowledged; }).map(function (a) { return a.id; });
    if (!ids.length) return;
    Api.post(cfg.apiAlerts + "acknowledge/", { ids: ids }).then(loadAlerts).catch(reportError);
  });

  // ---- toasts ----------------------------------------------------------------------
  function toast(message, kind, alert) {
    var box = el("div", "toast toast-" + (kind || "info"));
    box.setAttribute("role", kind === "alert" ? "alert" : "status");
    box.appendChild(el("span", "toast-text", message));
    if (alert) {
      box.dataset.alertId = alert.id;
      var ack = el("button", "btn btn-small ack", "Acknowledge");
      ack.type = "button";
      ack.addEventListener("click", function () { acknowledge(alert.id); });
      box.appendChild(ack);
    }
    var close = el("button", "btn btn-small btn-link toast-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", function () { box.remove(); });
    box.appendChild(close);
    $("toasts").appendChild(box);
    setTimeout(function () { box.remove(); }, alert ? 20000 : 5000);
  }

  // ---- feed status (system room) -------------------------------------------------------
  function renderFeedStatus(data) {
    var box = $("feed-status");
    box.textContent = "";
    var providers = data.providers || {};
    var serving = data.serving || {};
    var names = Object.keys(providers);
    Object.keys(serving).forEach(function (s) {
      var name = serving[s];
      if (name && names.indexOf(name) < 0) names.push(name); // e.g. the mock fallback
    });
    names.sort().forEach(function (name) {
      var p = providers[name] || { status: "connected" };
      var chip = el("span", "feed-chip status-" + String(p.status || "unknown").toLowerCase());
      chip.appendChild(el("span", "dot"));
      var symbols = Object.keys(serving).filter(function (s) { return serving[s] === name; }).sort();
      chip.appendChild(document.createTextNode((SOURCES[name] || name) + (symbols.length ? ": " + symbols.join(", ") : "")));
      chip.title = (SOURCES[name] || name) + " — " + (p.status || "unknown") + (p.is_primary ? " (primary)" : "");
      box.appendChild(chip);
    });
    var stale = data.stale_symbols || [];
    if (stale.length) box.appendChild(el("span", "feed-note warn", "No live feed: " + stale.join(", ")));
    if (data.mock_active) box.appendChild(el("span", "feed-note sim", "Simulated prices in use"));
    if (data.message) box.appendChild(el("span", "feed-note", data.message));
  }

  // ---- the socket ----------------------------------------------------------------------
  var CONN_LABELS = { connected: "Live", reconnecting: "Reconnecting…", offline: "Offline" };
  function setConn(stateName) {
    var node = $("conn");
    node.dataset.state = stateName;
    $("conn-label").textContent = CONN_LABELS[stateName] || stateName;
  }

  function onFrame(frame) {
    var data = frame.data || {};
    switch (frame.type) {
      case "price_update":
        applyPrices(data.prices || []);
        markUpdated();
        break;
      case "portfolio_update":
        applySummary(data);
        if (valueChart && data.totals) valueChart.extend(data.as_of, data.totals.value);
        $("value-chart-empty").hidden = !valueChart || valueChart.count() > 0;
        markUpdated();
        break;
      case "alert":
        var known = state.alerts.some(function (a) { return a.id === data.id; });
        upsertAlert(data);
        if (!known && !data.acknowledged) {
          toast(data.message, "alert", data);
          loadRules().catch(reportError); // trigger counts, one-shot rules disabled
        }
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

  var startedAt = Date.now();
  var socket = new LiveSocket({
    url: LiveSocket.streamUrl(cfg.wsPath),
    rooms: ["prices", "system"],
    onFrame: onFrame,
    onState: setConn,
    // A reconnect (or a first connect long after the page loaded) re-syncs from REST.
    onOpen: function (again) { if (again || Date.now() - startedAt > 5000) resync(); }
  });
  window.dashboardSocket = socket; // for tests and the curious

  // ---- range buttons -----------------------------------------------------------------
  document.querySelectorAll(".range").forEach(function (btn) {
    btn.addEventListener("click", function () {
      state.range = btn.dataset.range;
      document.querySelectorAll(".range").forEach(function (b) { b.setAttribute("aria-pressed", String(b === btn)); });
      loadHistory().catch(reportError);
    });
  });

  // ---- start -------------------------------------------------------------------------
  if (window.Chart) {
    valueChart = new Charts.ValueChart($("value-chart"));
    allocChart = new Charts.AllocationChart($("alloc-chart"));
  }
  syncRuleSymbol();
  Promise.all([loadPortfolio(), loadAlerts(), loadRules(), loadHistory()]).catch(reportError);
  socket.connect();
  setInterval(tick, 1000);
  window.addEventListener("online", function () { if (!socket.ws) socket.connect(); });
})();
