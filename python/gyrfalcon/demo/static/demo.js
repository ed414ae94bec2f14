// The demo page: two WebSocket connections (chat and feed) to the app that
// served this page. Plain JavaScript; no library, no build step.
//
// Each connection:
//   1. asks GET /token for a signed token (a browser cannot set headers on a
//      WebSocket handshake, so the token goes in the query string);
//   2. opens ws(s)://<this host>/ws/<room>?token=... offering the
//      "gyrfalcon.demo.v1" subprotocol (the server refuses clients that
//      don't);
//   3. handles JSON messages, and reconnects with a growing delay when the
//      connection drops (but not after a clean close the user asked for).
'use strict';

const SUBPROTOCOL = 'gyrfalcon.demo.v1';
const $ = (id) => document.getElementById(id);

// Our name: ?name=... in the page URL, or a random guest.
const params = new URLSearchParams(location.search);
const myName = params.get('name') || 'guest-' + String(Math.floor(Math.random() * 10000)).padStart(4, '0');

// -- messages per second, over both connections ------------------------------
const arrivals = [];  // reception times of the messages of the last second
let total = 0;

function countMessage() {
  arrivals.push(performance.now());
  total += 1;
}

setInterval(() => {
  const horizon = performance.now() - 1000;
  while (arrivals.length && arrivals[0] < horizon) arrivals.shift();
  $('rate').textContent = arrivals.length;
  $('total').textContent = total;
}, 250);

// -- a WebSocket connection that keeps itself open ---------------------------
class Connection {
  constructor(room, onMessage) {
    this.room = room;
    this.onMessage = onMessage;
    this.state = $(room + '-state');
    this.ws = null;
    this.retryDelay = 500;
    this.stopped = false;
  }

  setState(state, detail) {
    this.state.dataset.state = state;
    this.state.textContent = detail ? `${state} (${detail})` : state;
  }

  async open() {
    this.stopped = false;
    this.setState('connecting');
    let token;
    try {
      const response = await fetch('/token?name=' + encodeURIComponent(myName));
      if (!response.ok) throw new Error('GET /token: ' + response.status);
      token = (await response.json()).token;
    } catch (err) {
      this.setState('closed', 'no token');
      this.retry();
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}/ws/${this.room}?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url, [SUBPROTOCOL]);
    this.ws = ws;
    ws.onopen = () => {
      this.retryDelay = 500;
      this.setState('open');
    };
    ws.onmessage = (event) => {
      countMessage();
      this.onMessage(JSON.parse(event.data));
    };
    ws.onclose = (event) => {
      // 1000 is a clean close (our /quit); anything else is worth a retry.
      // A refused handshake (401, 400) shows up here as 1006: browsers do
      // not tell scripts the HTTP status.
      this.setState('closed', event.code + (event.reason ? ' ' + event.reason : ''));
      if (event.code !== 1000) this.retry();
    };
  }

  retry() {
    if (this.stopped) return;
    setTimeout(() => this.open(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, 10000);
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  get isClosed() {
    return !this.ws || this.ws.readyState === WebSocket.CLOSED;
  }
}

// -- the chat room ------------------------------------------------------------
const chatLog = $('chat-log');

function clock(ts) {
  return new Date(ts * 1000).toLocaleTimeString([], { hour12: false });
}

// Everything goes in with textContent: what other people type is never HTML.
function addLine(className, parts) {
  const li = document.createElement('li');
  if (className) li.className = className;
  for (const [tag, cls, text] of parts) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = text;
    li.appendChild(el);
  }
  chatLog.appendChild(li);
  while (chatLog.children.length > 200) chatLog.firstChild.remove();
  chatLog.scrollTop = chatLog.scrollHeight;
}

function showChatMessage(message) {
  addLine(message.from === myName ? 'message mine' : 'message', [
    ['time', '', clock(message.ts)],
    ['span', 'from', message.from],
    ['span', 'text', message.text],
  ]);
}

function showNote(text, className = 'note') {
  addLine(className, [['span', '', text]]);
}

const chat = new Connection('chat', (message) => {
  switch (message.type) {
    case 'welcome':
      chatLog.replaceChildren();
      message.history.forEach(showChatMessage);
      showNote(`Welcome, ${message.name}.`);
      $('online').textContent = message.online.join(', ');
      break;
    case 'message':
      showChatMessage(message);
      break;
    case 'joined':
    case 'left':
      showNote(`${message.name} ${message.type}.`);
      $('online').textContent = message.online.join(', ') || '–';
      break;
    case 'error':
      showNote(message.error, 'error');
      break;
  }
});

$('me').textContent = myName;
$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('chat-input');
  const text = input.value.trim();
  if (!text) return;
  if (chat.isClosed) chat.open();  // after /quit, sending reconnects
  if (chat.send({ text })) input.value = '';
});

// -- the event feed -----------------------------------------------------------
const feedLog = $('feed-log');
const values = [];

function drawChart() {
  const canvas = $('feed-chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth * ratio;
  const height = canvas.clientHeight * ratio;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, width, height);
  if (values.length < 2) return;
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const pad = 8 * ratio;
  ctx.beginPath();
  values.forEach((value, i) => {
    const x = pad + (i / (values.length - 1)) * (width - 2 * pad);
    const y = height - pad - ((value - low) / span) * (height - 2 * pad);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.strokeStyle = '#60a5fa';
  ctx.lineWidth = 2 * ratio;
  ctx.stroke();
}

const feed = new Connection('feed', (message) => {
  if (message.type === 'hello') {
    $('feed-server').textContent = `${message.rate} events/s, ${message.server}`;
    return;
  }
  if (message.type !== 'tick') return;
  $('feed-seq').textContent = message.seq;
  $('feed-value').textContent = message.value.toFixed(2);
  // Both clocks are this machine's when the demo runs locally.
  $('feed-age').textContent = Math.max(0, Date.now() - message.ts * 1000).toFixed(0) + ' ms';
  $('feed-listeners').textContent = message.listeners;

  values.push(message.value);
  if (values.length > 120) values.shift();
  drawChart();

  const li = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = clock(message.ts);
  const text = document.createElement('b');
  text.textContent = `#${message.seq}  value ${message.value.toFixed(2)}`;
  li.append(time, text);
  feedLog.prepend(li);
  while (feedLog.children.length > 8) feedLog.lastChild.remove();
});

chat.open();
feed.open();
