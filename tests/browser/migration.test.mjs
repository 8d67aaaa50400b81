// The schema upgrade from version 1 (the first chat page: models, model chunks and one
// message store) to version 2: the model and its chunks stay, each message becomes one
// with a single swipe, and each old chat becomes a chat of its character that opens with
// the greeting followed by the old messages. Version 2 to 3 adds the memories store and
// keeps every chat and message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser } from './harness.mjs';
import { messages, openCharacter, firstStarter, expectedGreeting } from './chat-page.mjs';
import { readStores } from './app-page.mjs';

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

// Written exactly as version 1 of www/js/db.js created it.
function writeVersion1(page, chatId) {
  return page.evaluate((id) => new Promise((resolve, reject) => {
    const req = indexedDB.open('kindred', 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('models', { keyPath: 'id' });
      db.createObjectStore('model-chunks', { keyPath: ['modelId', 'index'] });
      db.createObjectStore('messages', { keyPath: 'id', autoIncrement: true }).createIndex('chatId', 'chatId');
    };
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(['models', 'model-chunks', 'messages'], 'readwrite');
      tx.objectStore('models').put({ id: 'old-model', url: '/models/old.gguf', bytes: 4, chunkSize: 4, chunks: 1, complete: true, savedAt: 1 });
      tx.objectStore('model-chunks').put({ modelId: 'old-model', index: 0, data: new Uint8Array([1, 2, 3, 4]).buffer });
      const m = tx.objectStore('messages');
      m.add({ chatId: id, role: 'user', content: 'Hello from version one', status: 'done', createdAt: 1000 });
      m.add({ chatId: id, role: 'assistant', content: 'An *old* reply', status: 'interrupted', createdAt: 2000 });
      m.add({ chatId: 'character:someone-else', role: 'user', content: 'Elsewhere', status: 'done', createdAt: 3000 });
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), chatId);
}

test('version-1 data survives the upgrade and opens as a chat', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const starter = await firstStarter();
  // Any same-origin document will do to reach the origin's IndexedDB before the app runs.
  await page.goto(`${server.origin}/characters/index.json`);
  await writeVersion1(page, `character:${starter.id}`);

  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  const stores = await readStores(page, ['models', 'model-chunks', 'messages', 'chats']);
  assert.equal(stores.version, 4);
  assert.ok(stores.models.some((m) => m.id === 'old-model'), 'the model record is kept');
  assert.ok(stores['model-chunks'].some((c) => c.modelId === 'old-model' && c.data === 4), 'its chunk is kept');
  const upgraded = stores.messages.filter((m) => m.chatId === `character:${starter.id}`).sort((a, b) => a.pos - b.pos);
  assert.deepEqual(upgraded.map((m) => [m.role, m.swipes.map((s) => [s.text, s.status]), m.chosen]), [
    ['user', [['Hello from version one', 'done']], 0],
    ['assistant', [['An *old* reply', 'interrupted']], 0],
  ]);
  const chats = Object.fromEntries(stores.chats.map((c) => [c.id, c]));
  assert.equal(chats[`character:${starter.id}`].characterId, starter.id);
  assert.equal(chats['character:someone-else'].characterId, 'someone-else');

  await page.waitForFunction(() => !document.getElementById('recent').hidden);
  await openCharacter(page, starter.name);
  assert.match(page.url(), new RegExp(`#/chat/character%3A${starter.id}$`));
  assert.deepEqual(await messages(page), [
    { role: 'assistant', status: 'greeting', text: await expectedGreeting() },
    { role: 'user', status: 'done', text: 'Hello from version one' },
    { role: 'assistant', status: 'interrupted', text: 'An *old* reply' },
  ]);
  // The greeting was stored once; opening again does not add another.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  assert.equal((await messages(page)).length, 3);
  assert.deepEqual(browser.pageErrors, []);
});

// Written exactly as version 2 of www/js/db.js created it.
function writeVersion2(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('kindred-v2-check', 2);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('models', { keyPath: 'id' });
      db.createObjectStore('model-chunks', { keyPath: ['modelId', 'index'] });
      db.createObjectStore('messages', { keyPath: 'id', autoIncrement: true }).createIndex('chatId', 'chatId');
      db.createObjectStore('characters', { keyPath: 'id' });
      db.createObjectStore('chats', { keyPath: 'id' }).createIndex('characterId', 'characterId');
      db.createObjectStore('settings', { keyPath: 'key' });
    };
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(['chats', 'messages'], 'readwrite');
      tx.objectStore('chats').put({ id: 'chat-v2', characterId: 'someone', title: 'Chat', createdAt: 1, updatedAt: 2 });
      tx.objectStore('messages').put({ id: 7, chatId: 'chat-v2', pos: 7, role: 'user', swipes: [{ text: 'Kept', status: 'done', rating: null, createdAt: 1 }], chosen: 0, createdAt: 1 });
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }));
}

test('a version-2 database gains the memories and prompt-prefix stores and keeps its chats', { timeout: 60_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/characters/index.json`);
  await writeVersion2(page);
  const after = await page.evaluate(async () => {
    const { openDb } = await import('/js/db.js');
    const db = await openDb('kindred-v2-check');
    const read = (name) => db.getAll(name);
    const out = {
      version: db.version,
      stores: db.storeNames(),
      chats: await read('chats'),
      messages: await read('messages'),
      memories: await read('memories'),
    };
    db.close();
    return out;
  });
  assert.equal(after.version, 4);
  for (const store of ['memories', 'prefixes', 'prefix-data']) assert.ok(after.stores.includes(store), after.stores.join(', '));
  assert.deepEqual(after.chats.map((c) => c.id), ['chat-v2']);
  assert.deepEqual(after.messages.map((m) => [m.id, m.swipes[0].text]), [[7, 'Kept']]);
  assert.deepEqual(after.memories, []);
});
