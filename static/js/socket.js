/* LiveSocket: the /ws/stream/ connection that reconnects by itself.
 * Backoff doubles from 0.5 s up to 10 s (with jitter); every (re)connect
 * re-subscribes to the public rooms and tells the page, so it can re-sync. */

const MIN_DELAY = 500, MAX_DELAY = 10000, PING_EVERY = 20000;

export function streamUrl(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return proto + "//" + location.host + path;
}

export class LiveSocket {
  constructor({ url, rooms = [], onFrame = () => {}, onState = () => {}, onOpen = () => {} }) {
    Object.assign(this, { url, rooms, onFrame, onState, onOpen });
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.pinger = null;
    this.everConnected = false;
    this.state = "offline";
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    clearTimeout(this.timer);
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.opened();
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      if (frame && typeof frame.type === "string") this.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      clearInterval(this.pinger);
      this.ws = null;
      this.scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows and reconnects */ };
  }

  opened() {
    this.attempt = 0;
    if (this.rooms.length) this.send({ action: "subscribe", rooms: this.rooms });
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.send({ action: "ping" }), PING_EVERY);
    this.setState("connected");
    const again = this.everConnected;
    this.everConnected = true;
    this.onOpen(again);
  }

  scheduleReconnect() {
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** this.attempt);
    const delay = Math.min(MAX_DELAY, base / 2 + Math.random() * base / 2);
    this.attempt += 1;
    // After many failures in a row we call it offline (still retrying, capped).
    this.setState(this.attempt > 6 || !navigator.onLine ? "offline" : "reconnecting");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  // Drop the current socket as if the network had failed.
  drop() {
    if (this.ws) this.ws.close();
  }
}
