// File attachments in the customer widget, both ways: the visitor uploads from the
// page, the agent (official socket.io-client + REST) downloads and answers with a file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, artifactsDir } from './lib/server.mjs';
import { connect, next, call } from './lib/socket.mjs';
import { launch } from './lib/browser.mjs';

// A 1×1 PNG, so the inline preview has a real image to decode.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const NOTES = Buffer.from('Serial number: WZ-1234\nFirmware: 1.2\n');
const FIRST = Buffer.from('sent with the first message\n');

let server, browser, page, agent, token, chatId, tmp;
const problems = []; // page errors and CSP violations: there must be none
before(async () => {
  server = await startServer('attachments');
  token = (await server.login()).token;
  agent = await connect(server.url, '/agent', { token }).ready;
  browser = await launch();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // The refused upload below is answered 413 on purpose.
    if (msg.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|status of 413/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'agent-panel-files-'));
});
after(async () => {
  agent?.close();
  await browser?.close();
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const byId = (id) => page.getByTestId(id);
const shows = (selector, hasText) => page.locator(selector, hasText ? { hasText } : undefined).first().waitFor({ state: 'visible' });
/** Clicks the attach button and picks `files` in the file chooser. */
async function attach(files) {
  const chooser = page.waitForEvent('filechooser');
  await byId('attach').click();
  await (await chooser).setFiles(files);
}
const download = async (id) => {
  const res = await fetch(`${server.url}/api/v1/attachments/${id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
};
const history = async () => (await server.api(token, `/chats/${chatId}/messages?limit=500`)).items;

test('files travel between the widget and the agent', async (t) => {
  await page.goto(`${server.url}/widget`);
  await byId('launcher').click();
  await byId('name').fill('Fay Files');
  await byId('start').click();
  await byId('input').waitFor({ state: 'visible' });

  await t.test('files chosen before the first message follow it in a second message', async () => {
    await attach([{ name: 'first.txt', mimeType: 'text/plain', buffer: FIRST }]);
    // Files alone cannot start a chat: the widget asks for text and keeps them.
    await byId('send').click();
    await shows('[data-testid=panel] [role=alert]', 'type a message to start the chat');
    assert.equal(await byId('chips').locator('.chip').count(), 1);
    const created = next(agent, 'chat:created');
    const files = next(agent, 'message:new', (d) => d.message.attachments.length > 0);
    await byId('input').fill('Hello, I have a file for you');
    await byId('input').press('Enter');
    chatId = (await created).chat.id;
    const m = (await files).message;
    assert.equal(m.chat_id, chatId);
    assert.equal(m.body, '');
    assert.deepEqual(m.attachments.map((a) => a.name), ['first.txt']);
    assert.deepEqual(await download(m.attachments[0].id), FIRST);
    assert.equal(await byId('chips').locator('.chip').count(), 0);
    await call(agent, 'chat:claim', { chat_id: chatId });
  });

  await t.test('the visitor sends a PNG and a text file; the agent downloads the same bytes', async () => {
    await attach([
      { name: 'dot.png', mimeType: 'image/png', buffer: PNG },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: NOTES },
      { name: 'oops.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one') },
    ]);
    const chips = byId('chips').locator('.chip');
    assert.deepEqual(await chips.allTextContents(), [`dot.png · ${PNG.length} B×`, `notes.txt · ${NOTES.length} B×`, 'oops.txt · 12 B×']);
    // Removing a chosen file works from the keyboard and gives focus back to the clip.
    await page.getByRole('button', { name: 'Remove oops.txt' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await chips.count(), 2);
    assert.equal(await page.evaluate(() => document.querySelector('#agent-panel-widget').shadowRoot.activeElement?.dataset.testid), 'attach');

    const got = next(agent, 'message:new', (d) => d.message.attachments.length === 2);
    await byId('input').fill('Here are a photo and my notes');
    await byId('input').press('Enter');
    const m = (await got).message;
    assert.equal(m.body, 'Here are a photo and my notes');
    assert.equal(m.author.kind, 'customer');
    const [png, txt] = m.attachments;
    assert.deepEqual([png.name, png.content_type, png.size], ['dot.png', 'image/png', PNG.length]);
    assert.deepEqual([txt.name, txt.content_type, txt.size], ['notes.txt', 'text/plain', NOTES.length]);
    assert.deepEqual(await download(png.id), PNG);
    assert.deepEqual(await download(txt.id), NOTES);

    // The visitor's own bubble shows both, the image with a decoded preview.
    const mine = page.locator('[data-testid=messages] [data-author=customer][data-state=sent]', { hasText: 'Here are a photo' });
    await mine.waitFor({ state: 'visible' });
    assert.equal(await mine.getByTestId('file').count(), 2);
    await mine.locator('img').waitFor({ state: 'visible' });
    assert.ok(await mine.locator('img').evaluate((img) => img.complete && img.naturalWidth === 1), 'the preview decoded');
    assert.ok((await mine.locator('img').getAttribute('src')).startsWith('blob:'));
  });

  await t.test("the agent's file shows in the widget and downloads from the keyboard", async () => {
    const manual = Buffer.from('%PDF-1.4\n% not really a manual\n');
    const res = await fetch(`${server.url}/api/v1/attachments?name=manual.pdf`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' },
      body: manual,
    });
    assert.equal(res.status, 201);
    const up = await res.json();
    assert.equal(up.size, manual.length);
    await call(agent, 'message:send', { chat_id: chatId, client_msg_id: randomUUID(), body: 'The manual is attached.', attachment_ids: [up.id] });

    const file = page.locator('[data-testid=messages] [data-author=agent] [data-testid=file]', { hasText: 'manual.pdf' });
    await file.waitFor({ state: 'visible' });
    assert.match(await file.textContent(), /manual\.pdf · 31 B/);
    await page.screenshot({ path: path.join(artifactsDir, 'widget-attachments.png') });
    assert.equal(await file.getAttribute('aria-label'), 'Download manual.pdf · 31 B');
    const dl = page.waitForEvent('download');
    await file.focus();
    await page.keyboard.press('Enter');
    const d = await dl;
    assert.equal(d.suggestedFilename(), 'manual.pdf');
    assert.deepEqual(await readFile(await d.path()), manual);
  });

  await t.test('a file over 10 MiB is refused with a message and nothing is sent', async () => {
    const big = path.join(tmp, 'huge.bin');
    await writeFile(big, Buffer.alloc(10 * 1024 * 1024 + 1, 7));
    const before = (await history()).length;
    await attach(big);
    await shows('[data-testid=panel] [role=alert]', 'huge.bin is larger than 10 MiB');
    assert.equal(await byId('chips').locator('.chip').count(), 0);
    await byId('send').click(); // nothing chosen, nothing typed: nothing to send
    // The next message is the only one stored after the refusal.
    const got = next(agent, 'message:new', (d) => d.message.body === 'Sorry, that file was too big');
    await byId('input').fill('Sorry, that file was too big');
    await byId('input').press('Enter');
    await got;
    const after = await history();
    assert.equal(after.length, before + 1);
    assert.deepEqual(after.at(-1).attachments, []);
  });

  await t.test('a refused upload leaves the message to retry with the files already uploaded', async () => {
    const posts = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().includes('/visitor/attachments') && posts.push(new URL(r.url()).searchParams.get('name')));
    // The server refuses the second file once, as it would a file over its limit.
    const second = (url) => url.pathname.endsWith('/visitor/attachments') && url.searchParams.get('name') === 'b.txt';
    await page.route(second, (route) =>
      route.fulfill({ status: 413, contentType: 'application/json', body: JSON.stringify({ error: { code: 'too_large', message: 'file is larger than 10 MiB' } }) }));
    await attach([
      { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('first file') },
      { name: 'b.txt', mimeType: 'text/plain', buffer: Buffer.from('second file') },
    ]);
    await byId('input').fill('Two more files');
    await byId('input').press('Enter');
    const failed = page.locator('[data-testid=messages] [data-author=customer][data-state=failed]', { hasText: 'Two more files' });
    await failed.waitFor({ state: 'visible' });
    assert.match(await failed.textContent(), /Not sent \(file is larger than 10 MiB\)/);
    assert.equal((await history()).filter((m) => m.body === 'Two more files').length, 0);

    await page.unroute(second);
    const got = next(agent, 'message:new', (d) => d.message.body === 'Two more files');
    await failed.getByRole('button', { name: 'Retry' }).click();
    const m = (await got).message;
    assert.deepEqual(m.attachments.map((a) => a.name), ['a.txt', 'b.txt']);
    assert.deepEqual(await download(m.attachments[1].id), Buffer.from('second file'));
    // a.txt went up once; b.txt was refused, then uploaded on the retry.
    assert.deepEqual(posts, ['a.txt', 'b.txt', 'b.txt']);
    await shows('[data-testid=messages] [data-author=customer][data-state=sent]', 'Two more files');
    assert.equal((await history()).filter((m) => m.body === 'Two more files').length, 1);
  });

  await t.test('the page ran without errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});
