// A model download cut short keeps its full chunks: the next try asks the server for the
// rest (a Range request) instead of starting over, and the joined file is checked against the
// manifest's sha256 before it is trusted. A stored part that was damaged is caught by that
// check and never kept as a complete model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel, manifestModel } from './chat-page.mjs';
import { readStores } from './app-page.mjs';

const CHUNK = 8 * 1024 * 1024;
// The first response ends here, two and a half chunks in: two are stored, half of one is not.
const CUT = 2 * CHUNK + CHUNK / 2;

let server;
before(async () => { server = await startServer(); }, { timeout: 120_000 });
after(async () => { await server?.stop(); });

// The stored copy: the models row (complete or not) and which chunks are there.
async function stored(page) {
  const rows = await readStores(page, ['models', 'model-chunks']);
  // (Before the app's first open there is no store yet.)
  return { models: (rows.models || []).map((m) => ({ id: m.id, complete: m.complete })), chunks: (rows['model-chunks'] || []).map((c) => c.index) };
}

// Flips one byte in a stored chunk, as a disk or a bug might.
function damageChunk(page, index) {
  return page.evaluate((i) => new Promise((resolve, reject) => {
    const open = indexedDB.open('kindred');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('model-chunks', 'readwrite');
      const store = tx.objectStore('model-chunks');
      const cursor = store.openCursor();
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c) return;
        if (c.value.index === i) {
          const bytes = new Uint8Array(c.value.data);
          bytes[1000] ^= 0xff;
          c.update({ ...c.value, data: bytes.buffer });
        }
        c.continue();
      };
      tx.oncomplete = () => { open.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), index);
}

// A first visit whose download is cut at CUT: {page, context, model, ranges (every model
// request's Range header, null for none), first (the model state it ends in)}.
async function cutVisit(browser) {
  const { page, context } = browser;
  const model = await manifestModel(server.origin);
  const ranges = modelRequests(context);
  await cutFirstDownload(context);
  await page.goto(`${server.origin}/`);
  return { page, context, model, ranges, first: await waitForModel(page) };
}

// The first .gguf response of the page ends early: the server's whole file, cut at CUT.
async function cutFirstDownload(context) {
  let cut = false;
  await context.route('**/*.gguf', async (route) => {
    if (cut) return route.continue();
    cut = true;
    const whole = await route.fetch();
    const body = (await whole.body()).subarray(0, CUT);
    await route.fulfill({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body });
  });
}

function modelRequests(context) {
  const seen = [];
  context.on('request', (req) => {
    if (req.url().endsWith('.gguf')) seen.push(req.headers().range || null);
  });
  return seen;
}

test('an interrupted download continues from its stored chunks and is verified', { timeout: 300_000 }, async () => {
  const browser = await launchBrowser();
  try {
    const { page, model, ranges, first } = await cutVisit(browser);
    assert.equal(first.state, 'error');
    const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
    assert.equal(first.error, `The download was interrupted (${mb(CUT)} of ${mb(model.bytes)}). Try again continues from what was saved.`);
    assert.deepEqual(await stored(page), { models: [{ id: model.id, complete: false }], chunks: [0, 1] },
      'the two full chunks are kept, the half one is not, and the copy is not marked complete');
    await screenshots(page, 'download-interrupted');
    await page.getByRole('link', { name: 'Models' }).click();
    const row = page.locator(`#view-models li.models-stored-item[data-model-id="${model.id}"]`);
    assert.match(await row.textContent(), /partly downloaded: using it again continues the download/);
    await page.goBack();

    await page.getByRole('button', { name: 'Try again' }).click();
    const second = await waitForModel(page);
    assert.equal(second.state, 'ready', `resumed load failed: ${second.error}`);
    assert.equal(second.source, 'download');
    assert.deepEqual(ranges, [null, `bytes=${2 * CHUNK}-`], 'the second try asks only for the rest');
    assert.match(await page.getByRole('status').textContent(), /Continuing the download: 16\.8 MB were already saved on this device\./);
    const after = await stored(page);
    assert.deepEqual(after.models, [{ id: model.id, complete: true }]);
    assert.equal(after.chunks.length, Math.ceil(model.bytes / CHUNK));

    // The next visit loads the joined copy from the device.
    await page.reload();
    const third = await waitForModel(page);
    assert.equal(third.state, 'ready');
    assert.equal(third.source, 'cache');
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await browser.close();
  }
});

test('a damaged stored part fails the checksum, is dropped, and the next try downloads it whole', { timeout: 300_000 }, async () => {
  const browser = await launchBrowser();
  try {
    const { page, model, ranges, first } = await cutVisit(browser);
    assert.equal(first.state, 'error');
    await damageChunk(page, 1);

    await page.reload();
    const resumed = await waitForModel(page);
    assert.equal(resumed.state, 'error');
    assert.equal(resumed.error, 'The downloaded model is corrupt: its checksum does not match the manifest.');
    assert.deepEqual(await stored(page), { models: [], chunks: [] }, 'nothing of the damaged copy is kept');

    await page.getByRole('button', { name: 'Try again' }).click();
    const whole = await waitForModel(page);
    assert.equal(whole.state, 'ready', `fresh download failed: ${whole.error}`);
    assert.deepEqual(ranges, [null, `bytes=${2 * CHUNK}-`, null], 'the last try starts from the first byte');
    const after = await stored(page);
    assert.deepEqual(after.models, [{ id: model.id, complete: true }]);
    assert.equal(after.chunks.length, Math.ceil(model.bytes / CHUNK));
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await browser.close();
  }
});

// The tab is closed while the model streams in (a slow connection: the server sends it at
// 8 MB/s): the worker dies mid-write, with no chance to tidy up. The next visit continues
// from the chunks that were stored and never takes the part for a whole model.
test('a tab closed mid-download leaves a part the next visit continues', { timeout: 300_000 }, async () => {
  const slow = await startServer({ modelRate: 8 });
  const browser = await launchBrowser();
  try {
    const { page, context } = browser;
    const model = await manifestModel(slow.origin);
    const ranges = modelRequests(context);
    await page.goto(`${slow.origin}/`);
    await poll(async () => (await stored(page)).chunks.length >= 3, { timeout: 60_000, interval: 100, message: 'three chunks stored' });
    await page.close();

    const next = await context.newPage();
    next.on('pageerror', (err) => browser.pageErrors.push(err.message));
    await next.goto(`${slow.origin}/`);
    const loaded = await waitForModel(next);
    assert.equal(loaded.state, 'ready', `the next visit failed: ${loaded.error}`);
    assert.equal(ranges.length, 2);
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] || '')?.[1]);
    assert.ok(from >= 3 * CHUNK && from % CHUNK === 0 && from < model.bytes, `the next visit asked for the rest only: ${ranges[1]}`);
    assert.match(await next.getByRole('status').textContent(), /Continuing the download: \d+\.\d MB were already saved on this device\./);
    const after = await stored(next);
    assert.deepEqual(after.models, [{ id: model.id, complete: true }]);
    assert.equal(after.chunks.length, Math.ceil(model.bytes / CHUNK));
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await browser.close();
    await slow.stop();
  }
});
