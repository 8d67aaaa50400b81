// With too little storage for the model, the page says so, keeps the model in memory, chats,
// and leaves no half-stored copy behind; a disk that fills up mid-chat loses nothing shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForModel, sendAndWatch, openFirstStarter, messages } from './chat-page.mjs';
import { readStores } from './app-page.mjs';

let server;
let browser;

before(async () => {
  // The real model file: it does not fit the quota the test sets (the scripted one might).
  server = await startServer({ model: 'test' });
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

// While self.kindredTestDiskFull is set, the page's writes are refused as a full disk refuses them.
function refuseWritesWhenFull(page) {
  return page.addInitScript(() => {
    for (const method of ['put', 'add']) {
      const write = IDBObjectStore.prototype[method];
      IDBObjectStore.prototype[method] = function refuseWhenFull(...args) {
        if (self.kindredTestDiskFull) throw new DOMException('The disk is full.', 'QuotaExceededError');
        return write.apply(this, args);
      };
    }
  });
}

// The disk fills up with the model stored and a chat open: the reply is shown and the page
// says it is not saved; nothing saved before is touched; once space is free again the next
// message saves everything that was shown. The page's own writes are refused the way the
// browser refuses them on a full disk (a QuotaExceededError): Chromium's quota override does
// not reach a page whose storage is already open.
test('a full disk mid-chat is explained, loses nothing saved, and what was shown is saved once space is free', { timeout: 300_000 }, async () => {
  const own = await launchBrowser();
  try {
    const { page } = own;
    await refuseWritesWhenFull(page);
    await page.goto(`${server.origin}/?max_tokens=4&seed=3`);
    assert.equal((await waitForModel(page)).state, 'ready');
    await openFirstStarter(page);
    const chatId = await page.evaluate(() => decodeURIComponent(location.hash.split('/').pop()));
    const savedMessages = async () => {
      const rows = await storedMessages(page, chatId);
      return rows.map((m) => ({ role: m.role, text: m.swipes[m.chosen].text }));
    };
    const first = await sendAndWatch(page, 'Hi');
    const before = await poll(async () => { const m = await savedMessages(); return m.length === 3 && m; },
      { timeout: 10_000, message: 'greeting, message and reply saved while there is space' });

    await page.evaluate(() => { self.kindredTestDiskFull = true; });
    const full = await sendAndWatch(page, 'Are you still there?');
    assert.ok(['done', 'stopped'].includes(full.reply.status), `the reply is written (${full.reply.status})`);
    await page.waitForFunction(() => /storage is full/.test(document.getElementById('toast-text').textContent), null, { timeout: 10_000 });
    const toast = await page.locator('#toast-text').textContent();
    assert.match(toast, /^This device's storage is full: the conversation is shown but not saved\./);
    assert.deepEqual(await savedMessages(), before, 'nothing saved before is lost or half-written');
    await screenshots(page, 'storage-full-chat');

    await page.evaluate(() => { self.kindredTestDiskFull = false; });
    await sendAndWatch(page, 'Good.');
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
    const shown = (await messages(page)).map((m) => m.text);
    // (The greeting is shown with the persona's name where the stored one says {{user}}.)
    assert.deepEqual(shown.slice(1, 3), before.slice(1).map((m) => m.text));
    assert.equal(shown[3], 'Are you still there?');
    assert.equal(shown[4], full.reply.text, 'the reply written while the disk was full is kept');
    assert.equal(shown[5], 'Good.');
    assert.equal(shown.length, 7);
    assert.equal(first.reply.role, 'assistant');
    assert.deepEqual(own.pageErrors, []);
  } finally {
    await own.close();
  }
});

test('a backup imported onto a full disk is refused whole, and imports once space is free', { timeout: 120_000 }, async () => {
  const own = await launchBrowser();
  try {
    const { page } = own;
    await refuseWritesWhenFull(page);
    await page.goto(`${server.origin}/?model=/models/none.gguf`);
    await page.waitForFunction(() => document.body.dataset.appReady === 'true');
    await page.getByRole('link', { name: 'Settings' }).click();
    const bytes = await readFile(join(REPO, 'tests', 'browser', 'fixtures', 'backup-2026-12.json'));
    const backup = JSON.parse(bytes);
    const STORES = ['characters', 'chats', 'messages', 'settings', 'memories'];
    const before = await readStores(page, STORES);
    const importFile = async () => {
      await page.evaluate(() => { document.getElementById('data-status').textContent = ''; });
      await page.locator('#import-all').setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: bytes });
      await page.waitForFunction(() => document.getElementById('data-status').textContent !== '', null, { timeout: 60_000 });
      return page.locator('#data-status').textContent();
    };

    await page.evaluate(() => { self.kindredTestDiskFull = true; });
    assert.equal(await importFile(), 'Could not import: this device\'s storage is full, and nothing was imported. '
      + 'Free some space (under Models, delete a stored model you do not use) and import again.');
    assert.deepEqual(await readStores(page, STORES), before, 'nothing of the backup landed');

    await page.evaluate(() => { self.kindredTestDiskFull = false; });
    assert.match(await importFile(), /^Imported \d+ characters, \d+ chats and \d+ messages\.$/);
    const after = await readStores(page, STORES);
    for (const m of backup.messages) assert.ok(after.messages.some((x) => x.id === m.id), `message ${m.id} imported`);
    assert.deepEqual(own.pageErrors, []);
  } finally {
    await own.close();
  }
});

async function storedMessages(page, chatId) {
  const { messages } = await readStores(page, ['messages']);
  return messages.filter((m) => m.chatId === chatId).sort((a, b) => a.pos - b.pos);
}
