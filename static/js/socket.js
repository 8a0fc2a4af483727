/* LiveSocket: the /ws/stream/ connection that reconnects by itself.
 * Backoff doubles from 0.5 s up to 10 s (with jitter); every (re)connect
 * re-subscribes to the public rooms and tells the page, so it can re-sync. */
(function (global) {
  "use strict";

  var MIN_DELAY = 500, MAX_DELAY = 10000, PING_EVERY = 20000;

  function LiveSocket(opts) {
    this.url = opts.url;
    this.rooms = opts.rooms || [];
    this.onFrame = opts.onFrame || function () {};
    this.onState = opts.onState || function () {};
    this.onOpen = opts.onOpen || function () {};
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.pinger = null;
    this.everConnected = false;
    this.state = "offline";
  }

  LiveSocket.prototype.setState = function (state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  };

  LiveSocket.prototype.connect = function () {
    var self = this;
    clearTimeout(this.timer);
    var ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      self.attempt = 0;
      if (self.rooms.length) self.send({ action: "subscribe", rooms: self.rooms });
      clearInterval(self.pinger);
      self.pinger = setInterval(function () { self.send({ action: "ping" }); }, PING_EVERY);
      self.setState("connected");
      var again = self.everConnected;
      self.everConnected = true;
      self.onOpen(again);
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      if (frame && typeof frame.type === "string") self.onFrame(frame);
    };
    ws.onclose = function () {
      if (self.ws !== ws) return;
      clearInterval(self.pinger);
      self.ws = null;
      self.scheduleReconnect();
    };
    ws.onerror = function () { /* onclose follows and reconnects */ };
  };

  LiveSocket.prototype.scheduleReconnect = function () {
    var self = this;
    var base = Math.min(MAX_DELAY, MIN_DELAY * Math.pow(2, this.attempt));
    var delay = Math.min(MAX_DELAY, base / 2 + Math.random() * base / 2);
    this.attempt += 1;
    // After many failures in a row we call it offline (still retrying, capped).
    this.setState(this.attempt > 6 || !navigator.onLine ? "offline" : "reconnecting");
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.connect(); }, delay);
  };

  LiveSocket.prototype.send = function (obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  };

  // Drop the current socket as if the network had failed (used by tests, too).
  LiveSocket.prototype.drop = function () {
    if (this.ws) this.ws.close();
  };

  LiveSocket.streamUrl = function (path) {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + path;
  };

  global.LiveSocket = LiveSocket;
})(window);
