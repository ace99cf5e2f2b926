/*! Agent Panel chat widget. Options, test hooks, keyboard: docs/widget.md */
(() => {
'use strict';
if (window.AgentPanel) return;
const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
const ds = script ? script.dataset : {};
const ORIGIN = new URL(script ? script.src : location.href, location.href).origin;
const NS = '/customer', KEY = 'agentpanel:' + ORIGIN + ':', MAX = 4000, MIB = 1048576;
const cfg = {
  dept: ds.department, title: ds.title || 'Chat with us', color: ds.color, side: ds.position === 'left' ? 'left' : 'right',
  greeting: ds.greeting || 'Hi! How can we help you today?', prechat: ds.prechat !== 'off',
};
// Storage may be blocked: then a chat lasts as long as the page.
const store = {
  get: (k) => { try { return localStorage.getItem(KEY + k); } catch { return null; } },
  set: (k, v) => { try { v ? localStorage.setItem(KEY + k, v) : localStorage.removeItem(KEY + k); } catch { /* blocked */ } },
};
// A v4 UUID; crypto.randomUUID would need a secure context.
const uuid = () => '10000000-1000-4000-8000-100000000000'
  .replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));

// ---- a small Socket.IO v5 / Engine.IO v4 client over WebSocket, one namespace ----
class Socket {
  constructor(url, auth, on) { Object.assign(this, { url, auth, on, ws: null, connected: false, acks: new Map(), id: 0, tries: 0 }); }
  open() {
    clearTimeout(this.retry);
    if (this.ws || this.stopped) return;
    const ws = (this.ws = new WebSocket(this.url));
    this.alive(20000); // a handshake that never ends is a failed try
    ws.onmessage = (e) => typeof e.data === 'string' && this.frame(e.data);
    ws.onclose = () => this.ws === ws && this.drop();
  }
  kick() { if (!this.ws && !this.stopped) { this.tries = 0; this.open(); } }
  frame(s) {
    if (s[0] === '0') {
      const hs = JSON.parse(s.slice(1));
      this.wait = hs.pingInterval + hs.pingTimeout;
      this.alive();
      this.send('0' + NS + ',' + JSON.stringify(this.auth()));
    } else if (s[0] === '2') { this.alive(); this.ws.send('3'); } // ping → pong
    else if (s[0] === '1') this.drop();
    else if (s[0] === '4') this.packet(s.slice(1));
  }
  // A server silent past pingInterval + pingTimeout is gone.
  alive(ms) { clearTimeout(this.beat); this.beat = setTimeout(() => this.drop(), ms || this.wait); }
  packet(s) {
    const m = /^(\d)(?:(\/[^,]*),?)?(\d*)([^]*)$/.exec(s);
    if (!m || (m[2] || '/') !== NS) return;
    const [, type, , id, json] = m, data = json ? JSON.parse(json) : null;
    if (type === '0') { this.connected = true; this.tries = 0; this.on.connect(); }
    else if (type === '4') {
      // A refusal by policy will not change by retrying.
      this.stopped = /^(forbidden|unauthorized)$/.test(data && data.message);
      this.on.error(data && data.message);
      this.drop();
    } else if (type === '1') this.drop();
    else if (type === '2') { this.on.event(data[0], data[1]); if (id) this.send('3' + NS + ',' + id + '[]'); }
    else if (type === '3' && this.acks.has(id)) this.acks.get(id)(data[0]);
  }
  send(p) { if (this.ws && this.ws.readyState === 1) this.ws.send('4' + p); }
  // Resolves with the ack, or {ok:false} with code offline/timeout.
  emit(name, data) {
    return new Promise((resolve) => {
      if (!this.connected) return resolve({ ok: false, error: { code: 'offline' } });
      const id = String(this.id++);
      const done = (a) => { clearTimeout(t); this.acks.delete(id); resolve(a); };
      const t = setTimeout(() => done({ ok: false, error: { code: 'timeout' } }), 10000);
      this.acks.set(id, done);
      this.send('2' + NS + ',' + id + JSON.stringify([name, data]));
    });
  }
  notify(name, data) { if (this.connected) this.send('2' + NS + ',' + JSON.stringify([name, data])); }
  drop() {
    clearTimeout(this.beat);
    const ws = this.ws, was = this.connected;
    this.ws = null;
    this.connected = false;
    if (ws) { ws.onclose = ws.onmessage = null; ws.close(); }
    for (const done of [...this.acks.values()]) done({ ok: false, error: { code: 'offline' } });
    if (was) this.on.disconnect();
    // Capped exponential backoff with jitter: a restarted server is not stampeded.
    const d = Math.min(30000, 500 * 2 ** this.tries++);
    if (!this.stopped) this.retry = setTimeout(() => this.open(), d / 2 + Math.random() * d / 2);
  }
}

// ---- DOM: text from others goes in as text, never as markup; `tid` is data-testid ----
const el = (tag, attrs, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (v != null && v !== false) n.setAttribute(k === 'tid' ? 'data-testid' : k, v === true ? '' : v);
  }
  if (tag === 'button' && !n.hasAttribute('type')) n.type = 'button';
  n.append(...kids);
  return n;
};
// Bidi overrides and invisible characters could disguise a message; drop them.
const clean = (s) => String(s || '').replace(/[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g, '');
const icon = (d) => {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg'), p = document.createElementNS(svg.namespaceURI, 'path');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', true);
  p.setAttribute('d', d);
  svg.append(p);
  return svg;
};
const mine = (e) => e.author.kind === 'customer';
const size = (n) => n < 1024 ? n + ' B' : n < MIB ? (n / 1024).toFixed(1) + ' KB' : (n / MIB).toFixed(1) + ' MB';
const time = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

const S = cfg.side;
const STYLE = `:host{all:initial!important}
.w{font:14px/1.4 system-ui,sans-serif;color:#1c2230;--ap:#1f5eff;--fg:#fff}
*{box-sizing:border-box;font:inherit;letter-spacing:normal}
[hidden]{display:none!important}
button{cursor:pointer;border:0;border-radius:8px;padding:8px 12px;background:var(--ap);color:var(--fg)}
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
.launch,.panel{position:fixed;z-index:2147483000;${S}:20px;bottom:20px}
.launch{width:56px;height:56px;border-radius:50%;padding:14px;box-shadow:0 4px 14px #0004}
svg{width:100%;height:100%;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;border-radius:11px;background:#d92d20;color:#fff;font-size:12px;font-weight:700;line-height:22px;padding:0 6px}
.panel,.body,.msgs,.card,label{display:flex;flex-direction:column}
.body,.msgs,.card,.compose{gap:8px}
.panel{bottom:88px;width:370px;height:min(600px,100vh - 108px);background:#fff;border-radius:14px;box-shadow:0 10px 40px #0005;overflow:hidden}
header{background:var(--ap);color:var(--fg);padding:12px 8px 12px 16px;display:flex;align-items:center;gap:4px}
header div{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:700}
.sub{font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
header button{background:none;color:inherit;padding:7px;width:34px;height:34px}
.x{font-size:26px;line-height:0}
.body{flex:1;overflow-y:auto;padding:12px;background:#f5f6fa}
.m{max-width:82%;align-self:flex-start}
.b{padding:8px 12px;border-radius:14px 14px 14px 4px;background:#fff;border:1px solid #e1e4ec;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate}
[data-author=customer]{align-self:flex-end}
[data-author=customer] .b{background:var(--ap);color:var(--fg);border-color:var(--ap);border-radius:14px 14px 4px 14px}
[data-kind=event]{align-self:center}
[data-kind=event] .b{background:none;border:0;color:#5b6275;font-size:12px;padding:0}
.who,.meta,.typing{font-size:11px;color:#5b6275;margin:0 4px}
.typing{min-height:15px}
[data-author=customer] .meta{text-align:right}
[data-state=failed] .meta{color:#b42318}
.meta button{padding:0 4px;background:none;color:#1f4fd1;text-decoration:underline}
.net{background:#fff4e5;color:#7a4b00;padding:4px 12px;font-size:12px}
.card{background:#fff;border:1px solid #e1e4ec;border-radius:12px;padding:12px;margin:0}
label{font-size:12px;color:#3b4254;gap:2px}
input,textarea{border:1px solid #b9bfcc;border-radius:8px;padding:8px 10px;background:#fff;color:#1c2230;width:100%}
.compose{padding:10px;border-top:1px solid #e1e4ec}
.row{display:flex;gap:6px;align-items:flex-end}
.row textarea{resize:none;height:40px;max-height:120px}
.clip{flex:none;width:40px;height:40px;padding:9px;background:none;color:#5b6275}
.clip svg{fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round}
.chips,.files{display:flex;flex-wrap:wrap;gap:6px}
.chip,.f{border-radius:8px;background:#eef0f5;color:#1c2230;padding:4px 8px;font-size:12px;overflow-wrap:anywhere;text-align:left}
.chip button{background:none;color:inherit;padding:0 4px}
.f{text-decoration:underline}
[data-author=customer] .files{justify-content:flex-end}
.f img{display:block;max-width:180px;max-height:140px;margin-bottom:4px;border-radius:4px}
.err{color:#b42318;font-size:12px}
.kb{display:flex;flex-direction:column;gap:4px;font-size:13px}
.kb a{color:inherit;font-weight:600}
.kb p{margin:0;color:#5b6275}
.kb .ask{display:flex;gap:6px;align-items:center}
.alt{background:none;color:inherit;border:1px solid #b9bfcc}
.stars{display:flex;gap:6px}
.stars button{flex:1;background:#eef0f5;color:#1c2230}
.stars [aria-checked=true]{background:var(--ap);color:var(--fg)}
@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0}.panel:not([hidden])~.launch{display:none}}`;

const st = {
  token: store.get('token'), chatId: null, chat: null, list: [], last: 0, chatEv: 0, agentRead: 0, readSent: 0,
  open: false, unread: 0, name: (ds.name || store.get('name') || '').trim().slice(0, 100), email: (ds.email || store.get('email') || '').trim(), online: false,
};
st.prechat = cfg.prechat && !st.name;
let sock = null, busy = false, score = 0, typingAt = 0, typingStop = 0, typingOffAt = 0;

const host = el('div', { id: 'agent-panel-widget' });
const root = host.attachShadow({ mode: 'open' });
if (root.adoptedStyleSheets) {
  // Unlike an inline <style>, a constructed sheet passes a strict page CSP.
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(STYLE);
  root.adoptedStyleSheets = [sheet];
} else root.append(el('style', null, STYLE));
const badge = el('span', { class: 'badge', hidden: true });
const launcher = el('button', { class: 'launch', tid: 'launcher', 'aria-controls': 'ap-panel', onclick: () => toggle() },
  icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'), badge);
const sub = el('div', { class: 'sub', 'aria-live': 'polite' });
const net = el('div', { class: 'net', role: 'status', hidden: true });
const list = el('div', { class: 'msgs', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation', tid: 'messages' });
const typing = el('div', { class: 'typing', role: 'status', tid: 'typing' });
const nameIn = el('input', { name: 'name', autocomplete: 'name', maxlength: 100, tid: 'name' });
const emailIn = el('input', { type: 'email', name: 'email', autocomplete: 'email', maxlength: 200, tid: 'email' });
const prechat = el('form', { class: 'card', 'aria-label': 'Before we start', onsubmit: (e) => { e.preventDefault(); begin(); } },
  el('label', null, 'Your name (optional)', nameIn), el('label', null, 'Email (optional, for follow-ups)', emailIn),
  el('button', { type: 'submit', tid: 'start' }, 'Start chat'));
const stars = el('div', { class: 'stars', role: 'radiogroup', 'aria-label': 'Rating, 1 (poor) to 5 (excellent)' });
for (let i = 1; i <= 5; i++) stars.append(el('button', { role: 'radio', 'aria-checked': 'false', 'aria-label': `${i} of 5`, 'data-score': i, onclick: () => pick(i) }, i + ' ★'));
const comment = el('textarea', { rows: 2, maxlength: 1000, 'aria-label': 'Comment (optional)', placeholder: 'Anything to add? (optional)' });
const rateErr = el('div', { role: 'alert' });
const rating = el('form', { class: 'card', tid: 'rating', 'aria-label': 'Rate this chat', onsubmit: (e) => { e.preventDefault(); rate(); } },
  el('strong', null, 'How did we do?'), stars, comment, rateErr, el('button', { type: 'submit' }, 'Send rating'));
const thanks = el('div', { class: 'card', role: 'status' }, 'Thank you for your feedback!');
const again = el('button', { class: 'alt', onclick: () => fresh(true) }, 'Start a new chat');
const chips = el('div', { class: 'chips', 'aria-label': 'Files to send', tid: 'chips' });
const ferr = el('div', { class: 'err', role: 'alert' });
const fileIn = el('input', { type: 'file', multiple: true, hidden: true, onchange: pickFiles });
const body = el('div', { class: 'body', tabindex: 0, 'aria-label': 'Chat history' },
  el('div', { class: 'm' }, el('div', { class: 'b' }, cfg.greeting)), prechat, list, typing, rating, thanks, again);
const input = el('textarea', { rows: 1, maxlength: MAX, placeholder: 'Type your message…', 'aria-label': 'Message', tid: 'input', onkeydown: onKey, oninput: onInput });
const attach = el('button', { class: 'clip', 'aria-label': 'Attach a file', tid: 'attach', onclick: () => fileIn.click() },
  icon('M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17a1.7 1.7 0 0 1-2.4-2.4L15 7'));
// Deflection: while the visitor types a first question, matching public articles.
const kb = el('div', { class: 'kb', tid: 'kb', 'aria-live': 'polite', hidden: true });
const compose = el('div', { class: 'compose' }, kb, chips, ferr,
  el('div', { class: 'row' }, attach, input, el('button', { tid: 'send', onclick: submit }, 'Send'), fileIn));
const panel = el('section', { class: 'panel', id: 'ap-panel', role: 'dialog', 'aria-labelledby': 'ap-title', tid: 'panel', hidden: true,
  onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); toggle(false); } } },
el('header', null, el('div', null, el('h2', { id: 'ap-title' }, cfg.title), sub),
  el('button', { 'aria-label': 'Download transcript', onclick: transcript }, icon('M11 3h2v10l3.5-3.5 1.4 1.4-5.9 5.9-5.9-5.9 1.4-1.4L11 13zM5 19h14v2H5z')),
  el('button', { class: 'x', 'aria-label': 'Close chat window', onclick: () => toggle(false) }, '×')),
net, body, compose);
const wrap = el('div', { class: 'w' }, panel, launcher);
root.append(wrap);
// An invalid colour is ignored; the text on it follows its lightness.
function paintColor() {
  const c = cfg.color, s = wrap.style;
  if (!c || !CSS.supports('color', c)) return;
  s.setProperty('--ap', c);
  s.color = c;
  const [r, g, b] = getComputedStyle(wrap).color.match(/[\d.]+/g);
  s.color = '';
  if (r * 0.3 + g * 0.59 + b * 0.11 > 160) s.setProperty('--fg', '#111');
}

function render() {
  const c = st.chat, closed = !!c && c.status === 'closed';
  prechat.hidden = !st.prechat;
  compose.hidden = st.prechat || closed;
  rating.hidden = !closed || !!c.rating;
  again.hidden = !closed;
  thanks.hidden = !closed || !c.rating;
  sub.textContent = !c ? 'We usually reply within minutes'
    : closed ? 'This chat has ended'
      : c.status === 'waiting' ? 'Waiting for an agent' + (c.queue_position ? ` · you are number ${c.queue_position} in the queue` : '…')
        : `You are chatting with ${clean(c.assignee_name) || 'our team'}`;
  badge.hidden = !st.unread;
  badge.textContent = st.unread;
  launcher.setAttribute('aria-label', (st.open ? 'Close chat' : 'Open chat') + (st.unread ? ` (${st.unread} unread)` : ''));
  launcher.setAttribute('aria-expanded', st.open);
  st.list.forEach(paint);
}

function paint(e) {
  if (!e.el) {
    e.el = el('div', { class: 'm', 'data-author': e.author.kind });
    if (e.author.kind === 'agent') e.el.append(el('div', { class: 'who' }, clean(e.author.name)));
    e.el.append((e.text = el('div', { class: 'b', dir: 'auto' })), (e.meta = el('div', { class: 'meta' })));
  }
  e.text.textContent = clean(e.body);
  e.text.hidden = !e.body;
  files(e);
  e.el.dataset.kind = e.kind;
  if (e.seq) e.el.dataset.seq = e.seq;
  const state = !mine(e) ? '' : e.state === 'sent' && e.seq <= st.agentRead ? 'read' : e.state;
  if (state) e.el.dataset.state = state;
  const label = { pending: e.up ? ' · Uploading…' : ' · Sending…', sent: ' · Sent', read: ' · Read', failed: ' · Not sent ' }[state] || '';
  e.meta.replaceChildren(e.kind === 'event' ? '' : time(e.created_at) + label + (state === 'failed' ? e.error : ''));
  if (state === 'failed') e.meta.append(el('button', { onclick: () => { e.state = 'pending'; connect(); flush(); } }, 'Retry'));
}

// Files of a message: the stored ones as download buttons (images with a preview),
// or while sending the chosen files by name. Rebuilt only when they change.
function files(e) {
  const all = e.attachments && e.attachments.length ? e.attachments : e.picked || [], key = all.map((a) => a.id || a.name).join('/');
  if (e.fkey === key) return;
  e.fkey = key;
  if (!e.files) e.text.after((e.files = el('div', { class: 'files' })));
  e.files.replaceChildren(...all.map((a) => {
    const label = `${clean(a.name)} · ${size(a.size)}`;
    if (!a.id) return el('span', { class: 'chip' }, label);
    const img = /^image\/(png|jpeg|gif|webp)$/.test(a.content_type) && el('img', { alt: '' });
    if (img) blob(a.id).then((u) => (img.src = u), () => img.remove());
    return el('button', { class: 'f', tid: 'file', 'aria-label': 'Download ' + label, onclick: () => save(a) }, img || '', label);
  }));
}
// Downloads need the visitor token in a header, so files come through fetch as blobs.
const blobs = new Map();
function blob(id) {
  if (!blobs.has(id)) {
    blobs.set(id, fetch(`${ORIGIN}/api/v1/visitor/attachments/${encodeURIComponent(id)}`, { headers: { 'x-visitor-token': st.token } })
      .then((r) => { if (!r.ok) throw r.status; return r.blob(); })
      .then((b) => URL.createObjectURL(b), (x) => { blobs.delete(id); throw x; }));
  }
  return blobs.get(id);
}
function save(a) {
  ferr.textContent = '';
  blob(a.id).then((href) => el('a', { href, download: clean(a.name) }).click(), () => (ferr.textContent = `Could not download ${clean(a.name)}. Please try again.`));
}

// Keeps the list in `seq` order; unsent messages stay at the end in the order typed.
function place(e) {
  st.list = st.list.filter((o) => o !== e);
  let at = e.seq ? st.list.findIndex((o) => !o.seq || o.seq > e.seq) : -1;
  if (at < 0) at = st.list.length;
  st.list.splice(at, 0, e);
  paint(e);
  const stick = body.scrollHeight - body.scrollTop - body.clientHeight < 80;
  list.insertBefore(e.el, st.list[at + 1] ? st.list[at + 1].el : null);
  if (stick || mine(e)) body.scrollTop = body.scrollHeight;
}

// ---- applying server events ----
function adopt(id) {
  if (st.chatId === id) return true;
  // A newer chat of this visitor (e.g. from another tab) replaces a finished one.
  if (st.chatId && !(st.chat && st.chat.status === 'closed')) return false;
  if (st.chatId) fresh();
  st.chatId = id;
  store.set('chat', id);
  return true;
}
function onMessage(m, live) {
  if (!m || m.kind === 'note' || !adopt(m.chat_id)) return;
  let e = st.list.find((o) => o.id === m.id || (mine(m) && o.cmid === m.client_msg_id));
  if (!e && live && !mine(m)) { typingOff(); if (!st.open || document.hidden) st.unread++; }
  e = Object.assign(e || {}, m, { cmid: m.client_msg_id, state: 'sent' });
  place(e);
  markRead();
}
function onChat(ev) {
  const c = ev.chat, wasClosed = st.chat && st.chat.status === 'closed';
  if (!adopt(c.id) || ev.event_id < st.chatEv) return;
  st.chatEv = ev.event_id || st.chatEv;
  st.chat = c;
  st.agentRead = Math.max(st.agentRead, c.agent_read_seq || 0);
  if (c.status === 'closed' && !wasClosed) { typingOff(); setTimeout(() => (body.scrollTop = body.scrollHeight)); }
}
function typingOff() { clearTimeout(typingOffAt); typing.textContent = ''; }
const handlers = {
  'message:new': (d, live) => onMessage(d.message, live),
  'chat:updated': onChat,
  'message:read': (d) => { if (d.chat_id === st.chatId && (!d.reader || d.reader.kind === 'agent')) st.agentRead = Math.max(st.agentRead, d.seq); },
  typing: (d) => {
    if ((d.chat_id && d.chat_id !== st.chatId) || (d.author && d.author.kind === 'customer')) return;
    if (!d.typing) return typingOff();
    typing.textContent = `${clean(d.author && d.author.name) || 'Agent'} is typing…`;
    clearTimeout(typingOffAt);
    typingOffAt = setTimeout(typingOff, 8000); // a lost "stopped" must not leave it on
  },
  session: (d) => {
    const first = !st.online;
    st.online = true;
    store.set('token', (st.token = d.visitor_token));
    if (d.chat_id) adopt(d.chat_id);
    else if (first && !st.chatId) st.chatId = store.get('chat'); // a closed one, perhaps still to rate
    if (st.chatId) st.prechat = false;
    resync(first ? 0 : st.last);
  },
};
function apply(name, data, live) {
  if (!handlers[name] || !data) return;
  st.last = Math.max(st.last, data.event_id || 0);
  handlers[name](data, live);
  render();
}
// After (re)connecting, fetch what was missed; on a page's first connect, the history.
async function resync(since) {
  const a = await sock.emit('sync', { since_event_id: since });
  if (a.ok && a.data.resync && st.chatId) {
    // Too much to replay: fetch the messages instead (same origin, or CORS allowed).
    const r = await fetch(`${ORIGIN}/api/v1/visitor/messages?limit=500&chat_id=${st.chatId}`, { headers: { 'x-visitor-token': st.token } }).catch(() => 0);
    if (r && r.ok) (await r.json()).items.forEach((m) => onMessage(m));
  }
  if (a.ok) {
    for (const { event, data } of a.data.events || []) {
      const of = data && (data.chat ? data.chat.id : data.message ? data.message.chat_id : data.chat_id);
      if (since || (st.chatId && of === st.chatId)) apply(event, data, false);
    }
    st.last = Math.max(st.last, a.data.latest_event_id || 0);
    // A chat rated before this page load is not brought back.
    if (!since && st.chatId && (st.chat ? st.chat.status === 'closed' && (st.chat.rating || store.get('rated') === st.chatId) : !st.list.length)) {
      fresh();
      st.prechat = cfg.prechat && !st.name;
    }
    // What arrived while the page was away counts as unread until the panel is open.
    if (!st.open && st.chat) st.unread = st.list.filter((e) => e.author.kind === 'agent' && e.seq > Math.max(st.readSent, store.get('read') || 0, st.chat.customer_read_seq)).length;
  }
  render();
  flush();
}

// ---- sending: an ordered outbox, one write in flight, idempotent by client_msg_id ----
function submit() {
  const text = input.value.trim(), starts = !st.chatId && !st.list.some((o) => o.state === 'pending');
  if (!text && !picked.length) return;
  // chat:start takes text only: a first message's files follow it in a second message.
  if (starts && !text) return (ferr.textContent = 'Please type a message to start the chat.');
  input.value = ferr.textContent = '';
  input.style.height = '';
  kb.hidden = true;
  sendTyping(false);
  const split = starts && picked.length, add = (body, f) => place({ cmid: uuid(), body, picked: f, ids: [], kind: 'text', author: { kind: 'customer' }, state: 'pending', created_at: new Date() });
  if (text) add(text, split ? [] : picked);
  if (picked.length && (split || !text)) add('', picked);
  picked = [];
  showPicked();
  connect();
  flush();
}
// Chosen files wait as chips (with a remove button) until Send.
let picked = [];
function pickFiles() {
  ferr.textContent = '';
  for (const f of fileIn.files) {
    const bad = picked.length >= 5 ? 'At most 5 files per message.' : f.size > 10 * MIB ? `${f.name} is larger than 10 MiB.` : !f.size && `${f.name} is empty.`;
    if (bad) ferr.textContent = bad;
    else picked.push(f);
  }
  fileIn.value = '';
  showPicked();
}
function showPicked() {
  chips.replaceChildren(...picked.map((f) => el('span', { class: 'chip' }, `${clean(f.name)} · ${size(f.size)}`,
    el('button', { 'aria-label': 'Remove ' + clean(f.name), onclick: () => { picked = picked.filter((o) => o !== f); showPicked(); attach.focus(); } }, '×'))));
}
// Uploads one file; already uploaded ones are kept across retries.
async function upload(f) {
  const r = await fetch(`${ORIGIN}/api/v1/visitor/attachments?name=${encodeURIComponent(f.name)}`,
    { method: 'POST', headers: { 'x-visitor-token': st.token, 'content-type': f.type || 'application/octet-stream' }, body: f });
  if (r.ok) return (await r.json()).id;
  throw r.status === 413 ? 'file is larger than 10 MiB' : ((await r.json().catch(() => 0)) || {}).error?.message;
}
async function flush() {
  const e = st.list.find((o) => o.state === 'pending');
  if (busy || !e || !sock || !sock.connected || !st.token) return render();
  busy = true;
  e.up = !!(e.picked && e.picked.length);
  render();
  let a;
  try {
    for (const [i, f] of (e.picked || []).entries()) e.ids[i] ||= await upload(f);
  } catch (x) { a = { ok: false, error: { code: 'upload', message: typeof x == 'string' ? x : 'upload failed' } }; }
  e.up = false;
  a ||= await (st.chatId
    ? sock.emit('message:send', { client_msg_id: e.cmid, body: e.body, chat_id: st.chatId, attachment_ids: e.ids || [] })
    : sock.emit('chat:start', { body: e.body, client_msg_id: e.cmid, name: st.name || undefined, email: st.email || undefined, department_id: cfg.dept }));
  busy = false;
  if (a.ok) {
    if (a.data.chat) onChat({ chat: a.data.chat });
    onMessage(a.data.message || a.data);
  } else if (a.error.code !== 'offline') {
    // Retried by hand with the same client_msg_id: the server stores it once.
    e.state = 'failed';
    e.error = a.error.code === 'timeout' ? '(no answer)' : `(${a.error.message || a.error.code})`;
  }
  if (a.ok || a.error.code !== 'offline') flush(); else render(); // offline: resent on reconnect
}

// ---- typing (throttled here, expired on the far side too) and read receipts ----
function sendTyping(on) {
  if (!st.chatId || !sock) return;
  clearTimeout(typingStop);
  if (on) {
    if (Date.now() - typingAt > 3000) { typingAt = Date.now(); sock.notify('typing', { typing: true, chat_id: st.chatId }); }
    typingStop = setTimeout(() => sendTyping(false), 4000);
  } else if (typingAt) { typingAt = 0; sock.notify('typing', { typing: false, chat_id: st.chatId }); }
}
function onInput() {
  input.style.height = '';
  input.style.height = Math.min(120, input.scrollHeight + 2) + 'px';
  sendTyping(!!input.value.trim());
  suggest();
}
// Before the chat starts, offer articles that match what is being typed; a visitor
// who opened one is asked whether it helped, and the answer is counted.
let kbTimer = 0, kbAsked = 0;
function suggest() {
  clearTimeout(kbTimer);
  const q = input.value.trim();
  if (st.chatId || q.length < 3 || kbAsked) { if (!kbAsked) kb.hidden = true; return; }
  kbTimer = setTimeout(async () => {
    try {
      const r = await fetch(ORIGIN + '/api/v1/public/kb/search?limit=3&q=' + encodeURIComponent(q.slice(0, 200)));
      const items = r.ok ? (await r.json()).items : [];
      if (st.chatId || kbAsked || input.value.trim() !== q) return;
      kb.replaceChildren();
      kb.hidden = !items.length;
      if (!items.length) return;
      kb.append(el('p', null, 'These articles may answer your question:'));
      for (const h of items) {
        kb.append(el('a', { href: ORIGIN + h.url, target: '_blank', rel: 'noopener', tid: 'kb-hit', onclick: () => ask(h.slug) }, clean(h.title)),
          el('p', null, clean(h.snippet).replace(/\[\[|\]\]/g, '')));
      }
    } catch { kb.hidden = true; }
  }, 250);
}
function ask(slug) {
  kbAsked = 1;
  const vote = (helpful) => {
    fetch(ORIGIN + '/api/v1/public/kb/' + encodeURIComponent(slug) + '/vote',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ helpful }) }).catch(() => {});
    kb.replaceChildren(el('p', { tid: 'kb-thanks' }, helpful ? 'Glad it helped!' : 'Sorry. Send your question and we will help.'));
  };
  kb.replaceChildren(el('div', { class: 'ask' }, 'Did this answer your question?',
    el('button', { class: 'alt', tid: 'kb-yes', onclick: () => vote(true) }, 'Yes'),
    el('button', { class: 'alt', tid: 'kb-no', onclick: () => vote(false) }, 'No')));
}
function onKey(e) { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } }
function markRead() {
  if (!st.open || document.hidden) return;
  st.unread = 0;
  const seq = Math.max(0, ...st.list.filter((e) => !mine(e) && e.seq).map((e) => e.seq));
  if (seq > st.readSent && sock && sock.connected) {
    st.readSent = seq;
    store.set('read', seq); // the server does not echo the visitor's own reads back
    sock.emit('message:read', { seq, chat_id: st.chatId });
  }
}

// ---- pre-chat form, rating, new chat, transcript ----
function begin() {
  if (!emailIn.checkValidity()) return emailIn.reportValidity();
  st.name = nameIn.value.trim();
  st.email = emailIn.value.trim();
  store.set('name', st.name);
  store.set('email', st.email);
  st.prechat = false;
  render();
  connect();
  input.focus();
}
function pick(i) {
  score = i;
  for (const b of stars.children) b.setAttribute('aria-checked', b.dataset.score == i);
}
async function rate() {
  rateErr.textContent = score ? '' : 'Please choose 1 to 5 stars.';
  if (!score) return;
  const text = comment.value.trim() || undefined;
  const a = await sock.emit('chat:rate', { score, comment: text, chat_id: st.chatId });
  if (!a.ok) return (rateErr.textContent = `Not sent (${a.error.message || a.error.code}). Please try again.`);
  st.chat = { ...st.chat, rating: { score, comment: text || null } };
  store.set('rated', st.chatId);
  render();
  again.focus();
}
// Forgets the current chat; `show` also brings back the form or composer.
function fresh(show) {
  st.list = [];
  list.replaceChildren();
  Object.assign(st, { chat: null, chatId: null, agentRead: 0, readSent: 0, chatEv: 0 });
  store.set('chat', null);
  store.set('read', null);
  pick(0);
  comment.value = '';
  if (!show) return;
  st.prechat = cfg.prechat && !st.name;
  render();
  (st.prechat ? nameIn : input).focus();
}
function transcript() {
  const lines = st.list.map((e) => `[${new Date(e.created_at).toLocaleString()}] ${mine(e) ? 'You' : clean(e.author.name) || 'Agent'}: ${clean(e.body)}${(e.attachments || []).map((a) => ` [file: ${clean(a.name)}]`).join('')}`);
  const a = el('a', {
    href: URL.createObjectURL(new Blob([`${cfg.title}: transcript\n\n${lines.join('\n')}\n`], { type: 'text/plain;charset=utf-8' })),
    download: `chat-transcript-${new Date().toISOString().slice(0, 10)}.txt`,
  });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
}

// ---- open / close and the connection ----
function toggle(show = !st.open) {
  st.open = show;
  panel.hidden = !show;
  if (show) connect();
  markRead();
  render();
  if (!show) return launcher.focus();
  (st.prechat ? nameIn : compose.hidden ? body : input).focus();
  body.scrollTop = body.scrollHeight;
}
// No connection (so no visitor record) until the widget is opened or a chat resumes.
function connect() {
  if (sock) return sock.kick();
  sock = new Socket(ORIGIN.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket', () => (st.token ? { visitor_token: st.token } : {}), {
    connect: () => { net.hidden = true; },
    disconnect: () => { net.textContent = 'Connection lost. Reconnecting…'; net.hidden = false; typingOff(); },
    error: (msg) => {
      // A token the server no longer knows: start over as a new visitor.
      if (msg === 'unauthorized' && st.token) { store.set('token', (st.token = null)); sock.stopped = false; }
      net.textContent = sock.stopped ? 'Chat is not available right now.' : 'Cannot reach the chat server. Retrying…';
      net.hidden = false;
    },
    event: (name, data) => apply(name, data, true),
  });
  sock.open();
}
addEventListener('online', () => sock && sock.kick());
document.addEventListener('visibilitychange', () => { if (!document.hidden && sock) { sock.kick(); markRead(); render(); } });

window.AgentPanel = { open: () => toggle(true), close: () => toggle(false) };
const mount = () => { document.body.append(host); paintColor(); render(); if (st.token) connect(); };
document.body ? mount() : addEventListener('DOMContentLoaded', mount);
})();
