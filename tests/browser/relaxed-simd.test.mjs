// Relaxed SIMD in the tab: on a cross-origin isolated page (kindred serve sends COOP/COEP) in a
// browser that validates relaxed SIMD (headless Chromium does), the worker runs the threaded build
// compiled with it (www/pkg-mt-relaxed) and the status line says so; ?simd=base runs the plain
// simd128 threaded build (www/pkg-mt); both reply alike for the same seed, because the relaxed
// kernels give the simd128 kernels' exact sums. The offline copy keeps the relaxed build too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { replyInNewChat } from './chat-page.mjs';

const ENGINE_BUILD = join(REPO, 'www', 'js', 'engine-build.js');

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

test('?simd=base is read as the hook, anything else ignored', async () => {
  const { readSettings } = await import(join(REPO, 'www', 'js', 'settings.js'));
  assert.equal(readSettings('http://127.0.0.1/?simd=base').simd, 'base');
  assert.equal(readSettings('http://127.0.0.1/?simd=relaxed').simd, undefined);
  assert.equal(readSettings('http://127.0.0.1/').simd, undefined);
});

test('the relaxed SIMD probe validates only where relaxed SIMD is on', async () => {
  const { hasRelaxedSimd } = await import(ENGINE_BUILD);
  assert.equal(hasRelaxedSimd({ validate: () => false }), false);
  assert.equal(hasRelaxedSimd({ validate: () => { throw new TypeError('not bytes'); } }), false);
  assert.equal(hasRelaxedSimd(null), false);
  // Node's V8 checks the probe's bytes for real: valid with relaxed SIMD turned on, not without.
  const script = `import(${JSON.stringify(new URL(`file://${ENGINE_BUILD}`).href)})`
    + '.then((m) => console.log(m.hasRelaxedSimd()))';
  const probe = async (flag) => (await promisify(execFile)(process.execPath, [flag, '--input-type=module', '-e', script])).stdout.trim();
  assert.equal(await probe('--experimental-wasm-relaxed-simd'), 'true', 'the probe is a valid module using a relaxed SIMD op');
  assert.equal(await probe('--no-experimental-wasm-relaxed-simd'), 'false', 'and it needs relaxed SIMD to validate');
});

// The wasm the page and its workers asked for; the service worker's own fetches (it keeps the
// build the page names in the offline copy) are left out.
function watchWasm() {
  const seen = [];
  const listener = (req) => {
    if (!req.serviceWorker() && req.url().endsWith('_bg.wasm')) seen.push(new URL(req.url()).pathname);
  };
  browser.context.on('request', listener);
  return { seen, stop: () => browser.context.off('request', listener) };
}

async function replyWith(query, screenshotName = null) {
  const { page } = browser;
  const wasmRequests = watchWasm();
  const { loaded, reply } = await replyInNewChat(page, `${server.origin}/?max_tokens=24&seed=7&threads=2${query}`,
    'What do you like to do on a rainy day?');
  wasmRequests.stop();
  const wasm = wasmRequests.seen;
  const shots = screenshotName ? await screenshots(page, screenshotName) : [];
  // Why that build: the Models page's reading of the model in use.
  await page.evaluate(() => { location.hash = '#/models'; });
  const reason = await poll(() => page.evaluate(() => document.querySelector('#view-models .models-details dd[data-field="Why"]')?.textContent),
    { timeout: 30_000, message: 'the Models page to say why' });
  const seen = await page.evaluate(async (url) => ({
    isolated: self.crossOriginIsolated,
    relaxed: (await import(url)).hasRelaxedSimd(),
    build: document.getElementById('model-status').dataset.cpuBuild,
  }), `${server.origin}/js/engine-build.js`);
  return { info: loaded.info, reply, wasm, reason, shots, ...seen };
}

test('an isolated page runs the relaxed SIMD build, ?simd=base the simd128 one, with the same reply',
  { timeout: 900_000 }, async (t) => {
    const relaxed = await replyWith('', 'relaxed-simd-status');
    t.diagnostic(`relaxed: ${relaxed.info} · wasm ${relaxed.wasm.join(' ')} · ${JSON.stringify(relaxed.reply.text)}`);
    assert.ok(relaxed.isolated, 'kindred serve makes the page cross-origin isolated');
    assert.ok(relaxed.relaxed, 'headless Chromium validates relaxed SIMD');
    assert.equal(relaxed.build, 'threads-relaxed');
    assert.match(relaxed.info, /× 2 threads, relaxed SIMD/, `the status line names the build: ${relaxed.info}`);
    assert.ok(relaxed.wasm.includes('/pkg-mt-relaxed/kindred_web_bg.wasm'), `the relaxed build was loaded: ${relaxed.wasm}`);
    assert.ok(!relaxed.wasm.includes('/pkg-mt/kindred_web_bg.wasm'), `the simd128 build was not: ${relaxed.wasm}`);
    // One engine build in all: the page's own thread loads the build without the engine.
    assert.deepEqual([...new Set(relaxed.wasm)].sort(), ['/pkg-mt-relaxed/kindred_web_bg.wasm', '/pkg-ui/kindred_web_bg.wasm'],
      `the page and its workers fetched the page's build and one engine build: ${relaxed.wasm}`);
    assert.match(relaxed.reason, /relaxed SIMD, which this browser has/, `the Models page says why: ${relaxed.reason}`);
    assert.equal(relaxed.reply.status, 'done');
    assert.ok(relaxed.reply.text.length > 0, 'a reply streamed');
    assert.equal(relaxed.shots.length, 2);

    const base = await replyWith('&simd=base');
    t.diagnostic(`base: ${base.info} · wasm ${base.wasm.join(' ')} · ${JSON.stringify(base.reply.text)}`);
    assert.equal(base.build, 'threads');
    assert.match(base.info, /× 2 threads/, `two threads still: ${base.info}`);
    assert.doesNotMatch(base.info, /relaxed/, `?simd=base is not called relaxed: ${base.info}`);
    assert.ok(base.wasm.includes('/pkg-mt/kindred_web_bg.wasm'), `the simd128 threaded build was loaded: ${base.wasm}`);
    assert.ok(!base.wasm.includes('/pkg-mt-relaxed/kindred_web_bg.wasm'), `the relaxed build was not: ${base.wasm}`);
    assert.match(base.reason, /simd128, as asked/, `the Models page says why: ${base.reason}`);
    assert.equal(base.reply.status, 'done');
    assert.equal(relaxed.reply.text, base.reply.text, 'the same seed gives the same reply on both builds');
  });

test('a relaxed SIMD build that does not start gives way to the simd128 one', { timeout: 600_000 }, async (t) => {
  const missing = '**/pkg-mt-relaxed/kindred_web_bg.wasm';
  await browser.context.route(missing, (route) => route.fulfill({ status: 404, body: 'gone' }));
  try {
    const fallback = await replyWith('');
    t.diagnostic(`fallback: ${fallback.info} · ${fallback.reason}`);
    assert.match(fallback.reason, /the relaxed SIMD build did not start/, `the Models page says why: ${fallback.reason}`);
    assert.ok(fallback.relaxed, 'the browser has relaxed SIMD, so the relaxed build was tried');
    assert.ok(fallback.wasm.includes('/pkg-mt-relaxed/kindred_web_bg.wasm'), `the relaxed build was asked for: ${fallback.wasm}`);
    assert.ok(fallback.wasm.includes('/pkg-mt/kindred_web_bg.wasm'), `then the simd128 threaded build: ${fallback.wasm}`);
    assert.equal(fallback.build, 'threads');
    assert.match(fallback.info, /× 2 threads/);
    assert.doesNotMatch(fallback.info, /relaxed/, `the status line does not claim relaxed SIMD: ${fallback.info}`);
    assert.equal(fallback.reply.status, 'done');
  } finally {
    await browser.context.unroute(missing);
  }
});

test('the offline copy keeps the relaxed SIMD build', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const want = ['/pkg-mt-relaxed/kindred_web.js', '/pkg-mt-relaxed/kindred_web_bg.wasm'];
  const kept = await poll(async () => {
    const paths = await page.evaluate(async () => {
      const out = [];
      for (const name of (await caches.keys()).filter((n) => n.startsWith('kindred-site-'))) {
        for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
      }
      return out;
    });
    return want.every((p) => paths.includes(p)) ? paths : null;
  }, { timeout: 90_000, message: `${want.join(' and ')} in the site cache` });
  assert.ok(kept.includes('/pkg-mt/kindred_web_bg.wasm'), 'beside the simd128 threaded build');
});

test('no request left the origin and nothing failed in the page', () => {
  assert.deepEqual(browser.requests.filter((url) => new URL(url).origin !== server.origin), []);
  assert.deepEqual(browser.pageErrors, []);
});
