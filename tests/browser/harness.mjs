// Shared setup for the real-browser tests: the project's own server, Debian's Chromium
// driven by playwright-core, a request log, and screenshots.
import { spawn, spawnSync } from 'node:child_process';
import { renameSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(REPO, 'tests', 'output', 'screenshots');
const BIN = process.env.KINDRED_BIN || join(REPO, 'target', 'release', 'kindred');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The models a test's server can give the page as its default (`startServer({ model })`):
// - 'scripted' (the default): the scripted model (`kindred scripted-model`, written here from
//   TEST_MODEL's tokenizer): Gemma's tokenizer and chat format, weights that answer in a few
//   fixed sentences at once. For the tests about the page, which then wait on no decoding.
// - 'test': TEST_MODEL, Gemma 3 270M, the engine's reference: real decoding, a quarter of the
//   app's default's prefill time (newcomer flow, threads, SIMD builds, the GPU).
// - 'default': the manifest as it is, the app's own default (Qwen2.5-Coder 0.5B Instruct).
export const TEST_MODEL = 'gemma-3-270m-q4_k_m';
export const SCRIPTED_MODEL = 'scripted.gguf';
// A second scripted model, in an instruct model's format: the app's default's tokenizer and
// its own (Jinja, ChatML) template, so the role-play layout.
export const SCRIPTED_CHATML = 'scripted-chatml.gguf';
// One that says a roll and nothing else, as a room's narrator may: the room must roll it. No
// colon in what it says: a scripted reply starts after the prompt's last token when that is
// one of its own, and a transcript's prompt ends "Narrator:".
export const SCRIPTED_DICE = 'scripted-dice.gguf';
const SCRIPTED = {
  [SCRIPTED_MODEL]: { from: `${TEST_MODEL}.gguf` },
  [SCRIPTED_CHATML]: { from: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf' },
  [SCRIPTED_DICE]: { from: `${TEST_MODEL}.gguf`, say: 'I roll {{roll d20}} for the door.' },
};

// Writes models/FILE (a scripted model) unless it is newer than both the binary and the file
// its tokenizer comes from.
export function ensureScripted(file = SCRIPTED_MODEL) {
  const out = join(REPO, 'models', file);
  const { from, say } = SCRIPTED[file];
  const source = join(REPO, 'models', from);
  const age = (path) => { try { return statSync(path).mtimeMs; } catch { return -1; } };
  if (age(out) > Math.max(age(BIN), age(source))) return;
  // Written aside and renamed: test files run two at a time, and a server may be reading it.
  const part = `${out}.${process.pid}.partial`;
  const run = spawnSync(BIN, ['scripted-model', '--tokenizer-from', source, '--out', part, ...(say ? ['--say', say] : [])],
    { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${BIN} scripted-model failed: ${run.stderr || run.error}`);
  renameSync(part, out);
}

// Starts `kindred serve --port N` from the repository root and waits until it answers.
// `model` picks the page's default (above); `isolated: false` serves without COOP/COEP, as a
// plain static host would; `modelRate` (MB a second) sends model files no faster, as a slow
// connection.
export async function startServer({ model = 'scripted', isolated = true, modelRate = null } = {}) {
  const port = await freePort();
  const choice = { scripted: SCRIPTED_MODEL, test: TEST_MODEL, default: null }[model];
  if (choice === undefined) throw new Error(`startServer: no model '${model}'`);
  if (model === 'scripted') ensureScripted();
  const args = ['serve', '--port', String(port), ...(isolated ? [] : ['--no-isolation']),
    ...(choice ? ['--default-model', choice] : []), ...(modelRate ? ['--model-rate', String(modelRate)] : [])];
  const child = spawn(BIN, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  child.on('error', (err) => { exited = { error: err.message }; });
  // A hook that throws before stop() (a browser's close() on a foreign request does) must
  // neither keep this process alive on the pipes nor leave the server running after it.
  for (const handle of [child, child.stdout, child.stderr]) handle.unref();
  const killOnExit = () => { if (!exited) child.kill('SIGTERM'); };
  process.once('exit', killOnExit);
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`${BIN} exited before serving: ${JSON.stringify(exited)}\n${output}`);
    try {
      const res = await fetch(`${origin}/`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`${BIN} did not answer on ${origin} within 60 s\n${output}`);
    }
    await sleep(200);
  }
  return {
    origin,
    port,
    output: () => output,
    async stop() {
      process.off('exit', killOnExit);
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(5000)]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

// Where the page may send requests: its own server (http and ws on the loopback host) and
// the browser-made blob: and data: addresses. Anything else would leave the machine.
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLocalUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'blob:' || parsed.protocol === 'data:') return true;
  return (parsed.protocol === 'http:' || parsed.protocol === 'ws:') && LOCAL_HOSTS.has(parsed.hostname);
}

const matches = (url, pattern) => (pattern instanceof RegExp ? pattern.test(url) : url.startsWith(pattern));

// A fresh profile per call; reloads within it keep IndexedDB. Every request the page or its
// workers make is recorded, and page errors are collected for the tests to assert on.
// Every request off the loopback host is aborted and recorded in `foreign`, and close()
// throws listing them, so each test file's `after` hook fails on one. A test that makes such
// a request on purpose names it in `allowForeign` (URL prefixes or RegExps): it is still
// aborted, recorded in `allowedForeign`, and does not fail close(). A dead proxy stops what
// routing cannot see (a worker's WebSocket, the browser's own traffic); loopback bypasses it.
export async function launchBrowser({ allowForeign = [] } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'kindred-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: VIEWPORTS.desktop,
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--proxy-server=http://127.0.0.1:9',
    ],
  });
  const requests = [];
  const foreign = [];
  const allowedForeign = [];
  const pageErrors = [];
  const consoleErrors = [];
  const refuse = (url) => {
    if (allowForeign.some((p) => matches(url, p))) allowedForeign.push(url);
    else foreign.push(url);
  };
  context.on('request', (req) => requests.push(req.url()));
  // Registered first, so a test's own route (registered later) is asked before this one.
  await context.route((url) => !isLocalUrl(url.href), (route) => {
    refuse(route.request().url());
    return route.abort('blockedbyclient');
  });
  const watched = new WeakSet();
  const watchSockets = (p) => {
    if (watched.has(p)) return;
    watched.add(p);
    p.on('websocket', (ws) => { if (!isLocalUrl(ws.url())) refuse(ws.url()); });
  };
  context.on('page', watchSockets);
  const page = context.pages()[0] || await context.newPage();
  for (const p of context.pages()) watchSockets(p);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('crash', () => pageErrors.push('page crashed'));
  return {
    context,
    page,
    requests,
    foreign,
    allowedForeign,
    pageErrors,
    consoleErrors,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true }).catch(() => {});
      if (foreign.length) {
        throw new Error(`${foreign.length} request(s) went off the page's origin (all aborted):\n${[...new Set(foreign)].join('\n')}`);
      }
    },
  };
}

// Saves <name>-desktop.png and <name>-phone.png, restoring the desktop size afterwards.
export async function screenshots(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const paths = [];
  for (const [kind, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await sleep(300); // let layout and the scroll position settle
    const path = join(SCREENSHOTS, `${name}-${kind}.png`);
    await page.screenshot({ path });
    paths.push(path);
  }
  await page.setViewportSize(VIEWPORTS.desktop);
  return paths;
}

// Calls fn every few milliseconds until it returns a truthy value or the time runs out.
// `message` may be a function, read when the wait times out (to say what was seen last).
export async function poll(fn, { timeout = 60_000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${typeof message === 'function' ? message() : message}`);
    await sleep(interval);
  }
}

