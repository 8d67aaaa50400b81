// Shared setup for the real-browser tests: the project's own server, Debian's Chromium
// driven by playwright-core, a request log, and screenshots.
import { spawn } from 'node:child_process';
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

// Starts `kindred serve --port N` from the repository root and waits until it answers.
export async function startServer() {
  const port = await freePort();
  const child = spawn(BIN, ['serve', '--port', String(port)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  child.on('error', (err) => { exited = { error: err.message }; });
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
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(5000)]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

// A fresh profile per call; reloads within it keep IndexedDB. Every request the page or its
// workers make is recorded, and page errors are collected for the tests to assert on.
export async function launchBrowser() {
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
    ],
  });
  const requests = [];
  const pageErrors = [];
  const consoleErrors = [];
  context.on('request', (req) => requests.push(req.url()));
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('crash', () => pageErrors.push('page crashed'));
  return {
    context,
    page,
    requests,
    pageErrors,
    consoleErrors,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true }).catch(() => {});
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
export async function poll(fn, { timeout = 60_000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${message}`);
    await sleep(interval);
  }
}
