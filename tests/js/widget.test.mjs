// The customer widget in headless Chromium against the real widget-server, with an
// agent on the official socket.io-client answering.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer, artifactsDir, AGENT } from './lib/server.mjs';
import { connect, next, call } from './lib/socket.mjs';
import { launch } from './lib/browser.mjs';

let server, browser, page, agent, token;
const problems = []; // page errors and CSP violations: there must be none
before(async () => {
  server = await startServer('widget');
  token = (await server.login()).token;
  agent = await connect(server.url, '/agent', { token }).ready;
  browser = await launch();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
});
after(async () => {
  agent?.close();
  await browser?.close();
  await server?.stop();
});

const byId = (id) => page.getByTestId(id);
const messages = () => byId('messages');
const say = (body, kind) => call(agent, 'message:send', { chat_id: chatId, client_msg_id: randomUUID(), body, ...(kind ? { kind } : {}) });
/** Waits until an element inside the widget matches. */
const shows = (selector, hasText) => page.locator(selector, hasText ? { hasText } : undefined).first().waitFor({ state: 'visible' });

let chatId;

test('the server serves the widget and its demo page', async () => {
  const js = await fetch(`${server.url}/widget.js`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'application/javascript; charset=utf-8');
  assert.ok(js.headers.get('etag'));
  // The binary embeds the file: a stale build would serve an older script.
  assert.equal(await js.text(), await readFile(new URL('../../widget-server/static/widget.js', import.meta.url), 'utf8'));
  const again = await fetch(`${server.url}/widget.js`, { headers: { 'if-none-match': js.headers.get('etag') } });
  assert.equal(again.status, 304);
  const html = await fetch(`${server.url}/widget`);
  assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(html.headers.get('content-security-policy'), /script-src 'self'/);
});

test('a page of a foreign origin cannot open a visitor socket; the own origin can', async () => {
  const foreign = connect(server.url, '/customer', {}, { extraHeaders: { Origin: 'https://evil.example' } });
  await assert.rejects(foreign.ready, (err) => err.message === 'forbidden');
  const own = connect(server.url, '/customer', {}, { extraHeaders: { Origin: server.url } });
  const session = next(own.socket, 'session');
  await own.ready;
  assert.equal(typeof (await session).visitor_token, 'string');
  own.socket.close();
});

test('a visitor chats with an agent through the widget', async (t) => {
  await page.goto(`${server.url}/widget`);

  await t.test('the launcher opens the panel with the pre-chat form', async () => {
    assert.equal(await byId('panel').isVisible(), false);
    await byId('launcher').click();
    await byId('panel').waitFor({ state: 'visible' });
    assert.equal(await byId('launcher').getAttribute('aria-expanded'), 'true');
    // Focus moves into the form for keyboard users.
    assert.equal(await page.evaluate(() => document.querySelector('#agent-panel-widget').shadowRoot.activeElement?.dataset.testid), 'name');
    await byId('name').fill('Vera Visitor');
    await byId('email').fill('vera@example.com');
    await byId('start').click();
    await byId('input').waitFor({ state: 'visible' });
  });

  await t.test('Enter sends the first message, which starts the chat', async () => {
    const created = next(agent, 'chat:created');
    await byId('input').fill('Hello, my projector will not focus');
    await byId('input').press('Enter');
    const { chat } = await created;
    chatId = chat.id;
    assert.equal(chat.customer.name, 'Vera Visitor');
    assert.equal(chat.customer.email, 'vera@example.com');
    await shows('[data-testid=messages] [data-author=customer][data-state=sent]', 'Hello, my projector will not focus');
    assert.equal(await byId('input').inputValue(), '');
    await shows('[data-testid=panel] .sub', 'Waiting for an agent');
  });

  await t.test('Shift+Enter makes a new line instead of sending', async () => {
    await byId('input').press('Shift+Enter');
    await byId('input').pressSequentially('x');
    assert.equal(await byId('input').inputValue(), '\nx');
    await byId('input').fill('');
  });

  await t.test('the agent claims; the visitor sees the agent name, typing and read receipt', async () => {
    await call(agent, 'chat:claim', { chat_id: chatId });
    await shows('[data-testid=panel] .sub', `chatting with ${AGENT.name}`);
    agent.emit('typing', { chat_id: chatId, typing: true });
    await shows('[data-testid=typing]', `${AGENT.name} is typing`);
    await call(agent, 'message:read', { chat_id: chatId, seq: 1 });
    await shows('[data-testid=messages] [data-author=customer][data-seq="1"][data-state=read]', 'Read');
  });

  await t.test("the agent's answer appears; the widget marks it read", async () => {
    const read = next(agent, 'message:read', (d) => d.chat_id === chatId && d.seq >= 2);
    const sent = await say('Hi Vera, hold the focus key for two seconds.');
    await shows('[data-testid=messages] [data-author=agent]', 'hold the focus key');
    const who = await messages().locator('[data-author=agent]').first().textContent();
    assert.ok(who.includes(AGENT.name), 'the agent message shows the agent name');
    assert.equal(await byId('typing').textContent(), '', 'a message ends the typing indicator');
    const r = await read;
    assert.equal(r.seq, sent.seq);
    assert.equal(r.reader.kind, 'customer');
  });

  await t.test('the agent sees the visitor typing', async () => {
    const typing = next(agent, 'typing', (d) => d.chat_id === chatId && d.typing === true);
    await byId('input').pressSequentially('It wo');
    const ev = await typing;
    assert.equal(ev.author.kind, 'customer');
    const message = next(agent, 'message:new', (d) => d.message.chat_id === chatId && d.message.author.kind === 'customer');
    await byId('input').pressSequentially("rked, thanks! One more question");
    await byId('send').click();
    assert.equal((await message).message.body, 'It worked, thanks! One more question');
  });

  await t.test('screenshots at 1280x800 and 360x740', async () => {
    await shows('[data-testid=messages] [data-author=customer][data-state=sent]', 'It worked, thanks!');
    await page.screenshot({ path: path.join(artifactsDir, 'widget-1280x800.png') });
    await page.setViewportSize({ width: 360, height: 740 });
    // On a phone the panel takes the whole screen and nothing overflows sideways.
    const box = await byId('panel').boundingBox();
    assert.equal(Math.round(box.width), 360);
    assert.equal(await byId('send').isVisible(), true);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scroll');
    await page.screenshot({ path: path.join(artifactsDir, 'widget-360x740.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('a reload resumes the conversation', async () => {
    await page.reload();
    await byId('launcher').click();
    await shows('[data-testid=messages] [data-author=agent]', 'hold the focus key');
    await shows('[data-testid=messages] [data-author=customer]', 'Hello, my projector will not focus');
    assert.equal(await byId('name').isVisible(), false, 'no pre-chat form for a resumed chat');
    assert.equal(await messages().locator('[data-author=customer]').count(), 2);
    await shows('[data-testid=panel] .sub', `chatting with ${AGENT.name}`);
    // and it still sends into the same chat
    const message = next(agent, 'message:new', (d) => d.message.author.kind === 'customer');
    await byId('input').fill('Still here after a reload');
    await byId('input').press('Enter');
    const m = (await message).message;
    assert.equal(m.chat_id, chatId);
    assert.equal(m.body, 'Still here after a reload');
  });

  await t.test('markup from the agent is shown as text and runs nothing', async () => {
    await say('<img src=x onerror=window.__pwned=1>');
    await say('<script>window.__pwned=2</script>');
    await shows('[data-testid=messages] [data-author=agent]', '<script>window.__pwned=2</script>');
    await shows('[data-testid=messages] [data-author=agent]', '<img src=x onerror=window.__pwned=1>');
    assert.equal(await messages().locator('img, script').count(), 0);
    assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined');
  });

  await t.test('an internal note never appears', async () => {
    await say('NOTE: visitor is on firmware 1.2', 'note');
    await say('Anything else I can help with?');
    await shows('[data-testid=messages] [data-author=agent]', 'Anything else I can help with?');
    const text = await byId('panel').textContent();
    assert.ok(!text.includes('firmware 1.2'), 'note text is not in the widget');
  });

  await t.test('Esc closes the panel; new answers count on the launcher, also after a reload', async () => {
    await byId('input').press('Escape');
    await byId('panel').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.querySelector('#agent-panel-widget').shadowRoot.activeElement?.dataset.testid), 'launcher');
    await say('Are you still there?');
    await page.locator('[data-testid=launcher] .badge', { hasText: '1' }).waitFor({ state: 'visible' });
    assert.match(await byId('launcher').getAttribute('aria-label'), /1 unread/);
    // Moving to another page of the site keeps the count.
    await page.reload();
    await page.locator('[data-testid=launcher] .badge', { hasText: '1' }).waitFor({ state: 'visible' });
    await byId('launcher').focus();
    await page.keyboard.press('Enter');
    await byId('panel').waitFor({ state: 'visible' });
    await page.locator('[data-testid=launcher] .badge').waitFor({ state: 'hidden' });
    await shows('[data-testid=messages] [data-author=agent]', 'Are you still there?');
  });

  await t.test('the transcript downloads with the conversation', async () => {
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download transcript' }).click();
    const file = await (await download).path();
    const text = await readFile(file, 'utf8');
    assert.match(text, /You: Hello, my projector will not focus/);
    assert.match(text, new RegExp(`${AGENT.name}: Hi Vera, hold the focus key`));
    assert.ok(!text.includes('firmware 1.2'));
  });

  await t.test('the agent closes; the visitor rates it and the rating is stored', async () => {
    await call(agent, 'chat:close', { chat_id: chatId, resolution: 'solved' });
    await byId('rating').waitFor({ state: 'visible' });
    assert.equal(await byId('input').isVisible(), false, 'a closed chat takes no more messages');
    await byId('rating').locator('[data-score="4"]').click();
    await byId('rating').locator('textarea').fill('Quick and friendly');
    await byId('rating').getByRole('button', { name: 'Send rating' }).click();
    await shows('[data-testid=panel] [role=status]', 'Thank you');
    const chat = await server.api(token, `/chats/${chatId}`);
    assert.equal(chat.status, 'closed');
    assert.equal(chat.rating.score, 4);
    assert.equal(chat.rating.comment, 'Quick and friendly');
  });

  await t.test('the page ran without errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

test('after a lost connection the widget reconnects, sends what was pending and syncs what it missed', async (t) => {
  // Playwright's WebSocket routing stands between this page and the server, so the
  // test can cut the link and lose one ack. (The flow above runs on plain WebSockets.)
  const p = await browser.context.newPage();
  const link = { up: true, open: new Set(), loseAckOf: null };
  await p.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (!link.up) return ws.close({ code: 4000, reason: 'offline' });
    const server = ws.connectToServer();
    link.open.add(ws);
    let lostId = null;
    ws.onMessage((m) => {
      if (link.loseAckOf && typeof m === 'string' && m.includes(link.loseAckOf)) {
        lostId = /^42\/customer,(\d+)\[/.exec(m)[1];
        link.loseAckOf = null;
      }
      server.send(m);
    });
    server.onMessage((m) => {
      if (lostId !== null && typeof m === 'string' && m.startsWith(`43/customer,${lostId}[`)) return (lostId = null);
      ws.send(m);
    });
  });
  const id = (x) => p.getByTestId(x);
  const see = (selector, hasText) => p.locator(selector, hasText ? { hasText } : undefined).first().waitFor({ state: 'visible' });
  const history = async () => (await server.api(token, `/chats/${chat2}/messages?limit=500`)).items;

  await p.goto(`${server.url}/widget`);
  await id('launcher').click();
  // The previous chat was rated, so this is a fresh one; the name is remembered.
  await id('input').waitFor({ state: 'visible' });
  assert.equal(await p.locator('[data-testid=messages] [data-author]').count(), 0);
  const created = next(agent, 'chat:created');
  await id('input').fill('A second question');
  await id('input').press('Enter');
  const chat2 = (await created).chat.id;
  assert.notEqual(chat2, chatId);
  await call(agent, 'chat:claim', { chat_id: chat2 });
  await see('[data-testid=panel] .sub', `chatting with ${AGENT.name}`);

  await t.test('while offline a message waits as pending; after reconnecting it is sent once and missed ones arrive', async () => {
    link.up = false;
    for (const ws of link.open) await ws.close({ code: 4000, reason: 'cut' });
    link.open.clear();
    await see('[data-testid=panel] .net', 'Reconnecting');
    await id('input').fill('Typed while offline');
    await id('input').press('Enter');
    await see('[data-testid=messages] [data-state=pending]', 'Typed while offline');
    await call(agent, 'message:send', { chat_id: chat2, client_msg_id: randomUUID(), body: 'Sent while you were away' });
    const arrived = next(agent, 'message:new', (d) => d.message.body === 'Typed while offline');
    link.up = true;
    await see('[data-testid=messages] [data-author=agent]', 'Sent while you were away');
    await see('[data-testid=messages] [data-state=sent]', 'Typed while offline');
    await arrived;
    await p.locator('[data-testid=panel] .net').waitFor({ state: 'hidden' });
    assert.equal((await history()).filter((m) => m.body === 'Typed while offline').length, 1);
  });

  await t.test('a send whose ack is lost shows as failed; Retry reuses the client_msg_id and stores it once', async () => {
    const stored = next(agent, 'message:new', (d) => d.message.body === 'Ack lost on the way');
    link.loseAckOf = 'Ack lost on the way';
    await id('input').fill('Ack lost on the way');
    await id('input').press('Enter');
    const first = (await stored).message;
    await see('[data-testid=messages] [data-state=failed]', 'Ack lost on the way');
    await p.locator('[data-testid=messages] [data-state=failed]').getByRole('button', { name: 'Retry' }).click();
    await see('[data-testid=messages] [data-state=sent]', 'Ack lost on the way');
    const copies = (await history()).filter((m) => m.body === 'Ack lost on the way');
    assert.equal(copies.length, 1);
    assert.equal(copies[0].client_msg_id, first.client_msg_id);
    assert.equal(await p.locator('[data-testid=messages] [data-author=customer]', { hasText: 'Ack lost on the way' }).count(), 1);
  });

  await call(agent, 'chat:close', { chat_id: chat2 });
  await p.close();
});
