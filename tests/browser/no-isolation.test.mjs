// A static host that sends no COOP/COEP headers: the page is not cross-origin isolated, so it
// cannot share memory between threads. The README promises that everything still works there
// on one thread: the worker runs the single-threaded build (www/pkg), says why, and a reply
// streams. The offline copy keeps that build and neither threaded one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, poll } from './harness.mjs';
import { waitForModel, openFirstStarter, sendAndWatch } from './chat-page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ isolated: false });
  browser = await launchBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('without COOP/COEP the page runs on one thread and replies', { timeout: 600_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/?max_tokens=12&seed=7`);
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), false, 'the page is not isolated');
  const loaded = await waitForModel(page, 300_000);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  assert.doesNotMatch(loaded.info, /threads/, `one thread is not called threads: ${loaded.info}`);
  const wasm = browser.requests.filter((url) => url.endsWith('_bg.wasm')).map((url) => new URL(url).pathname);
  assert.ok(wasm.includes('/pkg/kindred_web_bg.wasm'), `the single-threaded build was loaded: ${wasm}`);

  await page.getByRole('link', { name: 'Models' }).click();
  const why = page.locator('#view-models').getByText(/not cross-origin isolated/);
  await why.first().waitFor({ timeout: 30_000 });

  await page.getByRole('link', { name: 'Characters', exact: true }).click();
  await openFirstStarter(page);
  const { reply } = await sendAndWatch(page, 'What do you like to do on a rainy day?');
  assert.equal(reply.status, 'done');
  assert.ok(reply.text.length > 0, 'a reply streamed');

  await poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state === 'activated'),
    { timeout: 30_000, message: 'the service worker to finish activating' });
  const kept = await page.evaluate(async () => {
    const out = [];
    for (const name of await caches.keys()) {
      for (const r of await (await caches.open(name)).keys()) out.push(new URL(r.url).pathname);
    }
    return out;
  });
  assert.ok(kept.includes('/pkg/kindred_web_bg.wasm'), 'the single-threaded build is kept offline');
  assert.deepEqual(kept.filter((p) => p.startsWith('/pkg-mt')), [], 'no threaded build is kept');
  assert.deepEqual(browser.requests.filter((url) => !url.startsWith('blob:') && new URL(url).origin !== server.origin), []);
  assert.deepEqual(browser.pageErrors, []);
});
