// The harness's same-origin guard, which every browser test relies on: a request off the
// loopback host, from the page, a worker or a WebSocket, is aborted and recorded, and the
// browser's close() then throws naming it, so the test file's `after` hook fails. Same-origin,
// blob: and data: requests pass; a foreign address a test allows is aborted but not a failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, poll } from './harness.mjs';

let server;

before(async () => {
  server = await startServer();
}, { timeout: 60_000 });

after(async () => {
  await server?.stop();
});

// Runs in a same-origin document with no CSP of its own, so every kind of request is tried.
function probe(page, foreignBase) {
  return page.evaluate(async (base) => {
    const outcome = (p) => p.then((r) => `ok ${r.status}`, (e) => `failed: ${e.name}`);
    const blob = URL.createObjectURL(new Blob(['blob body'], { type: 'text/plain' }));
    const worker = new Worker(URL.createObjectURL(new Blob([
      `fetch(${JSON.stringify(`${base}/from-worker`)}).then(() => postMessage('ok'), (e) => postMessage('failed: ' + e.name));`,
    ], { type: 'text/javascript' })));
    const fromWorker = new Promise((resolve) => { worker.onmessage = (e) => resolve(e.data); });
    new WebSocket(`${base.replace(/^https:/, 'wss:')}/socket`);
    return {
      same: await outcome(fetch('/characters/index.json')),
      data: await outcome(fetch('data:text/plain,hello')),
      blob: await outcome(fetch(blob)),
      foreign: await outcome(fetch(`${base}/from-page`)),
      worker: await fromWorker,
    };
  }, foreignBase);
}

test('a request off the origin is aborted, recorded and fails close()', { timeout: 60_000 }, async () => {
  const browser = await launchBrowser();
  let closed = false;
  try {
    await browser.page.goto(`${server.origin}/characters/index.json`);
    const out = await probe(browser.page, 'https://example.com/guard');
    assert.deepEqual(out, {
      same: 'ok 200', data: 'ok 200', blob: 'ok 200', foreign: 'failed: TypeError', worker: 'failed: TypeError',
    });
    await poll(() => browser.foreign.includes('wss://example.com/guard/socket'), { timeout: 10_000, message: 'the WebSocket recorded' });
    assert.deepEqual([...new Set(browser.foreign)].sort(), [
      'https://example.com/guard/from-page',
      'https://example.com/guard/from-worker',
      'wss://example.com/guard/socket',
    ]);
    closed = true;
    await assert.rejects(browser.close(), (err) => {
      assert.match(err.message, /went off the page's origin/);
      for (const path of ['from-page', 'from-worker', 'socket']) assert.match(err.message, new RegExp(`example\\.com/guard/${path}`));
      return true;
    });
  } finally {
    if (!closed) await browser.close().catch(() => {});
  }
});

test('a foreign address the test allows is still aborted but does not fail close()', { timeout: 60_000 }, async () => {
  const browser = await launchBrowser({ allowForeign: ['https://example.com/guard', /^wss:\/\/example\.com\//] });
  let closed = false;
  try {
    await browser.page.goto(`${server.origin}/characters/index.json`);
    const out = await probe(browser.page, 'https://example.com/guard');
    assert.equal(out.foreign, 'failed: TypeError', 'allowed is not let through: nothing leaves');
    assert.equal(out.worker, 'failed: TypeError');
    await poll(() => browser.allowedForeign.includes('wss://example.com/guard/socket'), { timeout: 10_000, message: 'the WebSocket recorded' });
    assert.deepEqual(browser.foreign, []);
    assert.ok(browser.allowedForeign.includes('https://example.com/guard/from-page'));
    closed = true;
    await browser.close();
  } finally {
    if (!closed) await browser.close().catch(() => {});
  }
});
