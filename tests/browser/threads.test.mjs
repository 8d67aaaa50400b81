// Threads in the tab: on a cross-origin isolated page (kindred serve sends COOP/COEP) the worker
// runs a shared-memory engine build (www/pkg-mt, or www/pkg-mt-relaxed where the browser has
// relaxed SIMD, as Chromium does: relaxed-simd.test.mjs) with a pool of Web Workers, says so, and
// replies exactly as the single-threaded build does (mat-vec rows are split between threads,
// never a sum, and the relaxed kernels give the same sums, so the numbers are the same).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser } from './harness.mjs';
import { replyInNewChat } from './chat-page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ model: 'test' });
  browser = await launchBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function replyWith(threads) {
  const { page } = browser;
  const first = browser.requests.length;
  const { loaded, reply } = await replyInNewChat(page, `${server.origin}/?max_tokens=12&seed=7&threads=${threads}`,
    'What do you like to do on a rainy day?');
  const wasm = browser.requests.slice(first).filter((url) => url.endsWith('_bg.wasm')).map((url) => new URL(url).pathname);
  return { info: loaded.info, reply, wasm, isolated: await page.evaluate(() => self.crossOriginIsolated) };
}

test('two threads over shared memory reply exactly as one thread does', { timeout: 600_000 }, async () => {
  const two = await replyWith(2);
  assert.ok(two.isolated, 'kindred serve makes the page cross-origin isolated');
  assert.match(two.info, /× 2 threads/, `the page says how many threads run: ${two.info}`);
  assert.ok(two.wasm.some((p) => /^\/pkg-mt(-relaxed)?\/kindred_web_bg\.wasm$/.test(p)), `a threaded build was loaded: ${two.wasm}`);
  assert.equal(two.reply.status, 'done');
  assert.ok(two.reply.text.length > 0, 'a reply streamed');

  const one = await replyWith(1);
  assert.doesNotMatch(one.info, /threads/, `one thread is not called threads: ${one.info}`);
  assert.ok(one.wasm.includes('/pkg/kindred_web_bg.wasm'), `the single-threaded build was loaded: ${one.wasm}`);
  assert.equal(one.reply.text, two.reply.text, 'the same seed gives the same reply on 1 and 2 threads');
});

test('no request left the origin and nothing failed in the page', () => {
  assert.deepEqual(browser.requests.filter((url) => new URL(url).origin !== server.origin), []);
  assert.deepEqual(browser.pageErrors, []);
});
