// The public knowledge base in headless Chromium against the real widget-server:
// hostile Markdown (script, event handlers, javascript: links) stays inert on the
// public page, internal articles are not there, and the widget offers matching
// articles while the visitor types the first question and counts whether one helped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, serverBin, DEPARTMENT } from './lib/server.mjs';
import { launch } from './lib/browser.mjs';

const WRITER = { email: 'sue@example.com', password: 'correct-horse-battery' };
let server, browser, page, token;

function admin(args, stdin) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverBin, ['admin', ...args, '--data-dir', server.dataDir]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
    child.stdin.end(stdin ?? '');
  });
}

async function post(route, body) {
  const res = await fetch(`${server.url}/api/v1${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 201, JSON.stringify(json));
  return json;
}

const HOSTILE = [
  '# Hostile article',
  '',
  '<script>window.pwned = "script"</script>',
  '<img src="x" onerror="window.pwned = \'onerror\'">',
  '<a href="javascript:window.pwned=\'link\'" id="js-link">click me</a>',
  '[markdown link](javascript:window.pwned=\'md\')',
  '<div onmouseover="window.pwned=\'hover\'">hover me</div>',
  '<iframe src="javascript:parent.pwned=\'iframe\'"></iframe>',
  '<svg><script>window.pwned="svg"</script></svg>',
  '[A real link](https://wzatco.com/support)',
].join('\n\n');

let hostile, internal;
before(async () => {
  server = await startServer('kb');
  await admin(['create-agent', '--email', WRITER.email, '--name', 'Sue Supervisor', '--role', 'supervisor',
    '--department', DEPARTMENT, '--password-stdin'], WRITER.password + '\n');
  token = (await server.login(WRITER.email, WRITER.password)).token;
  hostile = await post('/kb/articles', { title: 'Hostile article', body: HOSTILE, status: 'published', visibility: 'public' });
  internal = await post('/kb/articles', { title: 'Internal HDMI escalation', body: 'Team only: HDMI board swaps.', status: 'published', visibility: 'internal' });
  await post('/kb/articles', { title: 'HDMI shows no signal', body: 'Choose the right **HDMI** input with Source, then reseat the cable.', status: 'published', visibility: 'public' });
  browser = await launch();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('hostile Markdown on a public page runs nothing', async () => {
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const res = await page.goto(`${server.url}/kb/${hostile.slug}`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
  await page.getByRole('heading', { name: 'Hostile article' }).first().waitFor();
  // Poke everything a visitor could: hover, click the links.
  await page.hover('text=hover me');
  await page.click('text=click me').catch(() => {});
  await page.goto(`${server.url}/kb/${hostile.slug}`);
  await page.click('text=markdown link').catch(() => {});
  await page.goto(`${server.url}/kb/${hostile.slug}`);
  const dom = await page.evaluate(() => ({
    pwned: window.pwned ?? null,
    scripts: document.querySelectorAll('script, iframe, object, embed').length,
    handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
    jsLinks: [...document.querySelectorAll('[href], [src]')].map((e) => e.getAttribute('href') || e.getAttribute('src')).filter((u) => /^\s*javascript:/i.test(u)),
    real: document.querySelector('a[href="https://wzatco.com/support"]')?.textContent ?? null,
  }));
  assert.deepEqual(dom, { pwned: null, scripts: 0, handlers: [], jsLinks: [], real: 'A real link' });
  assert.deepEqual(dialogs, []);
});

test('internal articles are on no public page or search', async () => {
  const res = await page.goto(`${server.url}/kb/${internal.slug}`);
  assert.equal(res.status(), 404);
  await page.goto(`${server.url}/kb?q=hdmi`);
  const text = await page.textContent('body');
  assert.match(text, /HDMI shows no signal/);
  assert.doesNotMatch(text, /escalation|Team only/i);
  const found = await (await fetch(`${server.url}/api/v1/public/kb/search?q=hdmi`)).json();
  assert.deepEqual(found.items.map((h) => h.title), ['HDMI shows no signal']);
});

test('the widget offers articles while the first question is typed and counts a helpful answer', async () => {
  await page.goto(`${server.url}/widget`);
  const byId = (id) => page.getByTestId(id);
  await byId('launcher').click();
  await byId('name').fill('Dana Visitor');
  await byId('start').click();
  await byId('input').waitFor({ state: 'visible' });
  await byId('input').fill('my hdmi has no signal');
  const hit = byId('kb-hit').first();
  await hit.waitFor({ state: 'visible' });
  assert.equal(await hit.textContent(), 'HDMI shows no signal');
  assert.equal(await byId('kb-hit').count(), 1, 'the internal article is not offered');
  const [popup] = await Promise.all([browser.context.waitForEvent('page'), hit.click()]);
  await popup.close();
  await byId('kb-yes').click();
  await byId('kb-thanks').waitFor({ state: 'visible' });
  // The vote is counted on the article.
  for (let i = 0; ; i++) {
    const list = await server.api(token, '/kb/articles?q=hdmi+signal');
    const a = list.items.find((x) => x.title === 'HDMI shows no signal');
    if (a.helpful_yes === 1) break;
    if (i > 50) assert.fail(`helpful_yes is ${a.helpful_yes}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
