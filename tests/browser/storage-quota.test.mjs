// With too little storage for the model, the page says so, keeps the model in memory, chats,
// and leaves no half-stored copy behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser } from './harness.mjs';
import { waitForModel, sendAndWatch, openFirstStarter } from './chat-page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

function storedModel(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('kindred');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction(['models', 'model-chunks'], 'readonly');
      const models = tx.objectStore('models').getAll();
      const chunks = tx.objectStore('model-chunks').count();
      tx.oncomplete = () => {
        resolve({ models: models.result.map((m) => ({ id: m.id, complete: m.complete })), chunks: chunks.result });
        open.result.close();
      };
    };
  }));
}

test('a storage quota too small for the model is explained and the chat still works', { timeout: 300_000 }, async () => {
  const { page, context } = browser;
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.origin, quotaSize: 32 * 1024 * 1024 });
  await page.goto(`${server.origin}/?max_tokens=4&seed=3`);
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  assert.equal(loaded.source, 'download');
  assert.match(loaded.info, /Downloaded · backend/, 'the model is not claimed to be saved');
  const notice = await page.getByRole('status').textContent();
  assert.match(notice, /^Not enough storage space to keep the model on this device\./);
  assert.deepEqual(await storedModel(page), { models: [], chunks: 0 });

  await openFirstStarter(page);
  const run = await sendAndWatch(page, 'Hi');
  assert.equal(run.reply.role, 'assistant');
  assert.ok(['done', 'stopped'].includes(run.reply.status), `reply finished (${run.reply.status})`);

  const before = browser.requests.length;
  await page.reload();
  const again = await waitForModel(page);
  assert.equal(again.state, 'ready');
  assert.equal(again.source, 'download');
  assert.ok(browser.requests.slice(before).some((u) => u.endsWith('.gguf')), 'the model is downloaded again');
  assert.deepEqual(browser.pageErrors, []);
  assert.deepEqual(browser.requests.filter((u) => new URL(u).origin !== server.origin), []);
});
