// Starts the real `widget-server` binary on a free loopback port with a fresh data
// directory, one department and one agent, and stops it afterwards.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const pkgDir = path.resolve(here, '..');
export const artifactsDir = path.join(pkgDir, 'artifacts');
// WIDGET_SERVER_BIN wins; otherwise the debug build in CARGO_TARGET_DIR or the workspace's target/.
export const serverBin = process.env.WIDGET_SERVER_BIN
  ? path.resolve(process.cwd(), process.env.WIDGET_SERVER_BIN)
  : path.resolve(process.env.CARGO_TARGET_DIR ? path.resolve(process.cwd(), process.env.CARGO_TARGET_DIR) : path.resolve(pkgDir, '../../target'), 'debug/widget-server');

export const DEPARTMENT = 'support';
export const AGENT = { email: 'ana@example.com', name: 'Ana Agent', password: 'correct-horse-battery' };

/** The OS picks a free port; we release it and hand it to the server (the CLI takes a fixed address). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a CLI command to completion; rejects with its output if it fails. */
function run(args, stdin) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverBin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`widget-server ${args.join(' ')} exited ${code}:\n${out}`)),
    );
    child.stdin.end(stdin ?? '');
  });
}

/**
 * Starts a server. `name` names its log file under artifacts/.
 * Returns {url, port, dataDir, login(), stop()}.
 */
export async function startServer(name, extraArgs = []) {
  if (!existsSync(serverBin)) {
    throw new Error(`${serverBin} not found: run \`cargo build -p widget-server\` or set WIDGET_SERVER_BIN`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agent-panel-js-'));
  await mkdir(artifactsDir, { recursive: true });
  await run(['admin', 'create-department', '--name', DEPARTMENT, '--data-dir', dataDir]);
  await run(
    ['admin', 'create-agent', '--email', AGENT.email, '--name', AGENT.name, '--role', 'agent',
      '--department', DEPARTMENT, '--password-stdin', '--data-dir', dataDir],
    AGENT.password + '\n',
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(path.join(artifactsDir, `server-${name}.log`));
  const child = spawn(
    serverBin,
    ['serve', '--bind', `127.0.0.1:${port}`, '--data-dir', dataDir, '--send-rate-limit', '0', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' } },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  const gone = new Promise((resolve) => child.on('exit', (code, sig) => resolve((exited = { code, sig }))));

  // Ready when /healthz answers; a server that dies first fails the test at once.
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`widget-server exited during startup (${JSON.stringify(exited)}); see artifacts/server-${name}.log`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok && (await res.json()).status === 'ok') break;
    } catch { /* not listening yet */ }
    if (i > 600) throw new Error('widget-server did not become healthy; see artifacts/server-' + name + '.log');
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    port,
    dataDir,
    async login(email = AGENT.email, password = AGENT.password) {
      const res = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      if (!res.ok) throw new Error(`login answered ${res.status}: ${await res.text()}`);
      return res.json();
    },
    async api(token, route) {
      const res = await fetch(`${url}/api/v1${route}`, { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${route} answered ${res.status}: ${text}`);
      return JSON.parse(text);
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      log.end();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
