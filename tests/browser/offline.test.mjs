// Offline after one visit: the service worker keeps the site's own files (never the model,
// which lives in IndexedDB), a cache from an older version is dropped, the web app manifest
// names real icons; then, with the server stopped and the browser offline, a reload opens
// the library and a chat, and a reply streams.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { TEST_QUERY, waitForModel, messages, sendAndWatch, openFirstStarter, expectedGreeting } from './chat-page.mjs';

let server;
let browser;
let installed = false;
let onlineBuild = '';
const THREADED_DIRS = { 'threads-relaxed': '/pkg-mt-relaxed/', threads: '/pkg-mt/' };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function starterCount() {
  const index = JSON.parse(await readFile(join(REPO, 'www', 'characters', 'index.json'), 'utf8'));
  return (Array.isArray(index) ? index : index.characters).length;
}

// The paths held by the site's caches, by cache name.
function cachedPaths(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
    }
    return out;
  });
}

test('the first visit installs an offline copy of the site, without the model', { timeout: 360_000 }, async () => {
  const { page } = browser;
  // A cache left by an older version of the service worker, on the same origin.
  await page.goto(`${server.origin}/models/manifest.json`);
  await page.evaluate(async () => {
    const cache = await caches.open('kindred-site-v0');
    await cache.put('/js/app.js', new Response('old build'));
  });

  await page.goto(`${server.origin}/${TEST_QUERY}`);
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  assert.equal(loaded.source, 'download');

  // `ready` resolves once a worker is active, which may still be finishing its activation.
  await poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state === 'activated'),
    { timeout: 30_000, message: 'the service worker to finish activating' });
  const state = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return { state: reg.active?.state, script: new URL(reg.active.scriptURL).pathname, scope: new URL(reg.scope).pathname };
  });
  assert.deepEqual(state, { state: 'activated', script: '/sw.js', scope: '/' });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });

  const cached = await cachedPaths(page);
  const names = Object.keys(cached).filter((n) => n.startsWith('kindred-site-'));
  assert.equal(names.length, 1, `one site cache, the old one dropped: ${JSON.stringify(Object.keys(cached))}`);
  assert.notEqual(names[0], 'kindred-site-v0');
  const paths = cached[names[0]];
  for (const want of ['/', '/index.html', '/manifest.webmanifest', '/css/app.css', '/js/app.js', '/js/worker.js',
    '/js/markdown.js', '/pkg-ui/kindred_web.js', '/pkg-ui/kindred_web_bg.wasm', '/pkg/kindred_web.js', '/pkg/kindred_web_bg.wasm', '/models/manifest.json',
    '/characters/index.json', '/characters/wren.json', '/characters/wren.svg', '/img/icon-192.png',
    '/embed/kindred-chat.js']) {
    assert.ok(paths.includes(want), `${want} is kept for offline use (kept: ${paths.join(' ')})`);
  }
  assert.deepEqual(paths.filter((p) => p.includes('.gguf')), [], 'the model is never in the site cache');

  // Of the threaded engine builds, only the one this browser runs is kept, once the page names it.
  onlineBuild = await page.evaluate(() => document.getElementById('model-status').dataset.cpuBuild);
  const used = THREADED_DIRS[onlineBuild];
  assert.ok(used, `the test server is cross-origin isolated, so the engine runs threaded (build ${JSON.stringify(onlineBuild)})`);
  const keptNow = await poll(async () => {
    const now = Object.values(await cachedPaths(page)).flat();
    return now.includes(`${used}kindred_web_bg.wasm`) ? now : null;
  }, { timeout: 60_000, message: `${used} kept for offline use` });
  for (const file of ['kindred_web.js', 'kindred_web_bg.wasm']) assert.ok(keptNow.includes(used + file), `${used}${file} kept`);
  assert.ok(keptNow.some((p) => p.startsWith(`${used}snippets/`)), `${used}'s worker helpers kept`);
  const unused = Object.values(THREADED_DIRS).filter((d) => d !== used);
  assert.deepEqual(keptNow.filter((p) => unused.some((d) => p.startsWith(d))), [], `the unused build (${unused}) is not kept`);
  const fetchedUnused = browser.requests.filter((u) => unused.some((d) => new URL(u).pathname.startsWith(d)));
  assert.deepEqual(fetchedUnused, [], 'the unused build is never downloaded');
  assert.ok(browser.requests.some((u) => u.endsWith('.gguf')), 'the model was downloaded once');

  // The manifest the page links to, with icons that load at their stated sizes.
  const manifest = await page.evaluate(async () => {
    const href = document.querySelector('link[rel="manifest"]').href;
    const data = await (await fetch(href)).json();
    const icons = [];
    for (const icon of data.icons) {
      const res = await fetch(new URL(icon.src, href));
      const bitmap = icon.type === 'image/png' ? await createImageBitmap(await res.blob()) : null;
      icons.push({ ...icon, ok: res.ok, size: bitmap ? `${bitmap.width}x${bitmap.height}` : 'any' });
    }
    return { name: data.name, start_url: data.start_url, display: data.display, icons };
  });
  assert.equal(manifest.name, 'Kindred');
  assert.equal(manifest.start_url, './');
  assert.equal(manifest.display, 'standalone');
  for (const icon of manifest.icons) {
    assert.ok(icon.ok, `${icon.src} loads`);
    assert.equal(icon.size, icon.sizes, `${icon.src} is ${icon.sizes}`);
  }
  for (const size of ['192x192', '512x512']) {
    assert.ok(manifest.icons.some((i) => i.sizes === size && i.type === 'image/png'), `a ${size} PNG icon`);
  }
  assert.ok(manifest.icons.some((i) => i.purpose === 'maskable'), 'a maskable icon');

  // Online, a file changed by a new build wins over the kept copy, and replaces it.
  const refreshed = await page.evaluate(async () => {
    const name = (await caches.keys()).find((n) => n.startsWith('kindred-site-'));
    const cache = await caches.open(name);
    await cache.put('/characters/index.json', new Response('{"stale":true}'));
    const served = await (await fetch('/characters/index.json')).json();
    // The cache write follows the answer.
    let kept = null;
    for (let i = 0; i < 100 && !Array.isArray(kept?.characters); i++) {
      await new Promise((r) => setTimeout(r, 100));
      kept = await (await cache.match('/characters/index.json')).json();
    }
    return { served: Array.isArray(served.characters), kept: Array.isArray(kept.characters) };
  });
  assert.deepEqual(refreshed, { served: true, kept: true });

  await openFirstStarter(page);
  assert.equal((await messages(page))[0].text, await expectedGreeting());
  assert.deepEqual(browser.pageErrors, []);
  installed = true;
});

test('offline, with the server gone, a reload opens the library and a chat, and a reply streams', { timeout: 360_000 }, async (t) => {
  if (!installed) return t.skip('needs the first-visit test');
  const { page, context } = browser;
  await server.stop();
  await context.setOffline(true);
  const responses = [];
  page.on('response', (r) => responses.push({ path: new URL(r.url()).pathname, fromSW: r.fromServiceWorker(), status: r.status() }));

  await page.evaluate(() => { location.hash = '#/'; });
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  const cards = page.locator('#character-grid .character-card');
  assert.equal(await cards.count(), await starterCount(), 'every starter character is listed');
  assert.equal(await page.locator('#toast-text').textContent(), 'You are offline. Kindred keeps working from this device.');
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', `model failed to load offline: ${loaded.error}`);
  assert.equal(loaded.source, 'cache');
  assert.equal(await page.evaluate(() => document.getElementById('model-status').dataset.cpuBuild), onlineBuild,
    'offline, the engine runs the same build as online');
  await screenshots(page, 'offline-library');

  const page1 = responses.find((r) => r.path === '/');
  assert.ok(page1?.fromSW && page1.status === 200, `the page came from the service worker: ${JSON.stringify(page1)}`);
  const wasm = responses.find((r) => r.path === '/pkg-ui/kindred_web_bg.wasm');
  assert.ok(wasm?.fromSW, 'the page\'s Rust came from the service worker');

  await openFirstStarter(page);
  assert.equal((await messages(page))[0].text, await expectedGreeting());
  const run = await sendAndWatch(page, 'Are you still there without the internet?');
  assert.ok(run.lengths.length >= 2, `the reply grew across several lengths, saw ${JSON.stringify(run.lengths)}`);
  assert.equal(run.reply.status, 'done');
  assert.ok(run.reply.text.length > 0);
  await screenshots(page, 'offline-chat');
  assert.deepEqual(browser.pageErrors, []);
  assert.deepEqual(browser.requests.filter((u) => new URL(u).origin !== server.origin), []);
});
