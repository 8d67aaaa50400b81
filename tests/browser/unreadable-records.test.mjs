// Records the page cannot use (damaged, or saved by a newer Kindred in a shape this one does
// not know) are left out of what it shows, with a notice, and left untouched in storage; the
// rest of the app opens and a backup exports everything readable. A database a newer Kindred
// upgraded opens as it is.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots } from './harness.mjs';
import { messages, openFirstStarter, firstStarter } from './chat-page.mjs';
import { readStores, downloadFrom, gotoLibrary } from './app-page.mjs';

// No model: these tests are about storage (the banner says the model is missing).
const NO_MODEL = '?model=/models/none.gguf';

let server;
before(async () => { server = await startServer(); }, { timeout: 120_000 });
after(async () => { await server?.stop(); });

function put(page, writes) {
  return page.evaluate((all) => new Promise((resolve, reject) => {
    const open = indexedDB.open('kindred');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction([...new Set(all.map((w) => w.store))], 'readwrite');
      for (const w of all) tx.objectStore(w.store).put(w.value);
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), writes);
}

const toast = (page) => page.waitForFunction(() => !document.getElementById('toast').hidden
  && document.getElementById('toast-text').textContent, null, { timeout: 10_000 }).then((h) => h.jsonValue());

test('damaged records are left out with a notice, kept as they are, and the rest opens and exports', { timeout: 180_000 }, async () => {
  const browser = await launchBrowser();
  try {
    const { page } = browser;
    await page.goto(`${server.origin}/${NO_MODEL}`);
    await page.waitForFunction(() => document.body.dataset.appReady === 'true');
    await openFirstStarter(page);
    const chatId = await page.evaluate(() => decodeURIComponent(location.hash.split('/').pop()));
    const starter = await firstStarter();
    const greeting = await messages(page);

    const damaged = [
      { store: 'characters', value: { id: 'bad-card', card: 42, name: null } },
      { store: 'characters', value: { id: 'no-card' } },
      { store: 'chats', value: { id: 'orphan-chat', title: { x: 1 } } },
      { store: 'messages', value: { id: 9001, chatId, pos: 5, role: 'user', swipes: 'nope', chosen: 0 } },
      // As a newer version might write a message: its text somewhere this one does not look.
      { store: 'messages', value: { id: 9002, chatId, pos: 6, role: 'assistant', parts: [{ kind: 'text', text: 'Hi' }], chosen: 0 } },
    ];
    await put(page, damaged);
    await page.goto(`${server.origin}/${NO_MODEL}#/`);
    await page.waitForFunction(() => document.body.dataset.appReady === 'true');
    assert.equal(await toast(page), '2 characters and 1 chat could not be read (damaged, or saved by a newer version of Kindred) '
      + 'and were left out. They stay in this browser\'s storage untouched.');
    await gotoLibrary(page);
    const cards = await page.locator('#character-grid .character-card').evaluateAll((all) => all.map((li) => li.dataset.id));
    assert.ok(cards.includes(starter.id) && !cards.includes('bad-card') && !cards.includes('no-card'), `the cards: ${cards}`);
    await screenshots(page, 'unreadable-library');

    await page.evaluate((id) => { location.hash = `#/chat/${encodeURIComponent(id)}`; }, chatId);
    await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
    assert.match(await toast(page), /^2 messages could not be read/);
    assert.deepEqual(await messages(page), greeting, 'the chat shows what it can read');

    await page.getByRole('link', { name: 'All characters' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    const backup = JSON.parse((await downloadFrom(page, page.getByRole('button', { name: 'Export everything' }))).bytes);
    assert.ok(backup.characters.some((c) => c.id === starter.id), 'the readable characters are exported');
    assert.ok(!backup.characters.some((c) => ['bad-card', 'no-card'].includes(c.id)));
    assert.ok(backup.chats.some((c) => c.id === chatId) && !backup.chats.some((c) => c.id === 'orphan-chat'));
    assert.deepEqual(backup.messages.filter((m) => m.chatId === chatId).length, greeting.length);

    const stored = await readStores(page, ['characters', 'chats', 'messages']);
    for (const { store, value } of damaged) {
      assert.deepEqual(stored[store].find((r) => r.id === value.id), value, `${store} ${value.id} is untouched`);
    }
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await browser.close();
  }
});

test('a database a newer version upgraded opens as it is, with a notice', { timeout: 120_000 }, async () => {
  const browser = await launchBrowser();
  try {
    const { page } = browser;
    await page.goto(`${server.origin}/img/fallback-avatar.svg`);
    // Version 9: every store of today's schema and one this version does not know.
    await page.evaluate(() => new Promise((resolve, reject) => {
      const req = indexedDB.open('kindred', 9);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore('models', { keyPath: 'id' });
        db.createObjectStore('model-chunks', { keyPath: ['modelId', 'index'] });
        db.createObjectStore('messages', { keyPath: 'id', autoIncrement: true }).createIndex('chatId', 'chatId');
        db.createObjectStore('characters', { keyPath: 'id' });
        db.createObjectStore('chats', { keyPath: 'id' }).createIndex('characterId', 'characterId');
        db.createObjectStore('settings', { keyPath: 'key' });
        db.createObjectStore('memories', { keyPath: 'chatId' });
        const prefixes = db.createObjectStore('prefixes', { keyPath: 'key' });
        prefixes.createIndex('chatId', 'chatId');
        prefixes.createIndex('model', 'model');
        db.createObjectStore('prefix-data', { keyPath: 'key' });
        db.createObjectStore('from-the-future', { keyPath: 'id' });
      };
      req.onerror = () => reject(req.error);
      req.onsuccess = () => { req.result.close(); resolve(); };
    }));
    await page.goto(`${server.origin}/${NO_MODEL}`);
    await page.waitForFunction(() => document.body.dataset.appReady === 'true');
    assert.match(await toast(page), /^The data here was saved by a newer version of Kindred; this version opens what it can\./);
    await gotoLibrary(page);
    await openFirstStarter(page);
    assert.equal((await messages(page)).length, 1, 'a chat opens and is stored');
    const after = await readStores(page, ['chats']);
    assert.equal(after.version, 9, 'the newer database is not touched by an upgrade');
    assert.equal(after.chats.length, 1);
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await browser.close();
  }
});
