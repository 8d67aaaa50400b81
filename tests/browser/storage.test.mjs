// The page's storage layer (crates/web/src/store, IndexedDB through the `idb` crate), driven
// through its `Store` in a real Chromium: writes that must land together, deletes that take
// what hangs off a record, and failures that keep the data and reach the page as the
// browser's own errors. Each test uses its own database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Any same-origin document reaches the origin's IndexedDB and modules.
  await browser.page.goto(`${server.origin}/characters/index.json`);
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Runs `body(db)` in the page against a fresh database `name`; returns what it returns.
function inPage(name, body) {
  return browser.page.evaluate(async ([dbName, src]) => {
    const { openDb } = await import('/js/db.js');
    const db = await openDb(dbName);
    try {
      return await (0, eval)(`(${src})`)(db);
    } finally {
      db.close();
    }
  }, [name, body.toString()]);
}

test('a fresh database has every store of the schema at version 4', async () => {
  const out = await inPage('store-fresh', async (db) => ({ version: db.version, stores: db.storeNames() }));
  assert.equal(out.version, 4);
  assert.deepEqual(out.stores, ['characters', 'chats', 'memories', 'messages', 'model-chunks', 'models', 'prefix-data', 'prefixes', 'settings']);
});

test('a batch of writes lands together or not at all', async () => {
  const out = await inPage('store-batch', async (db) => {
    const keys = await db.write([
      { op: 'put', store: 'chats', value: { id: 'c1', characterId: 'a', title: 'One' } },
      { op: 'add', store: 'messages', value: { chatId: 'c1', pos: 0, role: 'user', swipes: [{ text: 'hi' }], chosen: 0 } },
      { op: 'add', store: 'messages', value: { chatId: 'c1', pos: 1, role: 'assistant', swipes: [{ text: 'yo' }], chosen: 0 } },
    ]);
    let failure = null;
    try {
      // The second add reuses an existing id: the whole batch, the chat's rename included, is refused.
      await db.write([
        { op: 'put', store: 'chats', value: { id: 'c1', characterId: 'a', title: 'Renamed' } },
        { op: 'add', store: 'messages', value: { id: keys[1], chatId: 'c1', pos: 5, role: 'user', swipes: [], chosen: 0 } },
      ]);
    } catch (err) {
      failure = err.name;
    }
    let queued = null;
    try {
      // A value that cannot be stored is refused as it is queued: the put before it goes too.
      await db.write([
        { op: 'put', store: 'chats', value: { id: 'c1', characterId: 'a', title: 'Renamed again' } },
        { op: 'put', store: 'messages', value: { chatId: 'c1', pos: 6, role: 'user', swipes: [{ text: 'x' }], chosen: 0, fn: () => 1 } },
      ]);
    } catch (err) {
      queued = err.name;
    }
    return {
      keys,
      failure,
      queued,
      chat: await db.get('chats', 'c1'),
      messages: (await db.getAllBy('messages', 'chatId', 'c1')).map((m) => m.swipes[0].text),
    };
  });
  assert.equal(out.keys[0], 'c1');
  assert.ok(Number.isInteger(out.keys[1]) && out.keys[2] === out.keys[1] + 1, JSON.stringify(out.keys));
  assert.equal(out.failure, 'ConstraintError');
  assert.equal(out.queued, 'DataCloneError');
  assert.equal(out.chat.title, 'One', 'the refused batch left the chat as it was');
  assert.deepEqual(out.messages, ['hi', 'yo']);
});

test('deleting a character takes its chats, their messages, memories and kept prompts, and nothing else', async () => {
  const out = await inPage('store-cascade', async (db) => {
    await db.write([
      { op: 'put', store: 'characters', value: { id: 'ada', card: { name: 'Ada' } } },
      { op: 'put', store: 'characters', value: { id: 'rook', card: { name: 'Rook' } } },
      { op: 'put', store: 'chats', value: { id: 'ada-1', characterId: 'ada' } },
      { op: 'put', store: 'chats', value: { id: 'ada-2', characterId: 'ada' } },
      { op: 'put', store: 'chats', value: { id: 'rook-1', characterId: 'rook' } },
      ...['ada-1', 'ada-1', 'ada-2', 'rook-1'].map((chatId, pos) => ({
        op: 'add', store: 'messages', value: { chatId, pos, role: 'user', swipes: [{ text: chatId }], chosen: 0 },
      })),
      { op: 'put', store: 'memories', value: { chatId: 'ada-2', pinned: [] } },
      { op: 'put', store: 'memories', value: { chatId: 'rook-1', pinned: [] } },
      ...['ada-1', 'ada-2', 'rook-1'].flatMap((chatId) => [
        { op: 'put', store: 'prefixes', value: { key: `k-${chatId}`, model: 'm', chatId, tokens: 200, bytes: 4 } },
        { op: 'put', store: 'prefix-data', value: { key: `k-${chatId}`, data: new ArrayBuffer(4) } },
      ]),
    ]);
    await db.deleteCharacter('ada');
    const [characters, chats, messages, memories, prefixes, data] = await db.getAllOf(['characters', 'chats', 'messages', 'memories', 'prefixes', 'prefix-data']);
    return {
      characters: characters.map((c) => c.id),
      chats: chats.map((c) => c.id),
      messages: messages.map((m) => m.chatId),
      memories: memories.map((m) => m.chatId),
      prefixes: [...prefixes, ...data].map((p) => p.key),
    };
  });
  assert.deepEqual(out, {
    characters: ['rook'], chats: ['rook-1'], messages: ['rook-1'], memories: ['rook-1'], prefixes: ['k-rook-1', 'k-rook-1'],
  });
});

test('deleting a character takes its trained adapter, unless another character names it', async () => {
  const out = await inPage('store-adapter', async (db) => {
    const adapter = (id) => [
      { op: 'put', store: 'models', value: { id, kind: 'adapter', complete: true } },
      { op: 'put', store: 'model-chunks', value: { modelId: id, index: 0, data: new Uint8Array([1]).buffer } },
    ];
    await db.write([
      { op: 'put', store: 'characters', value: { id: 'ada', card: { name: 'Ada' }, adapter: { id: 'adapter-a', name: 'a.gguf', scale: 1 } } },
      { op: 'put', store: 'characters', value: { id: 'bea', card: { name: 'Bea' }, adapter: { id: 'adapter-b', name: 'b.gguf', scale: 1 } } },
      { op: 'put', store: 'characters', value: { id: 'cal', card: { name: 'Cal' }, adapter: { id: 'adapter-b', name: 'b.gguf', scale: 0.5 } } },
      ...adapter('adapter-a'), ...adapter('adapter-b'),
    ]);
    await db.deleteCharacter('ada');
    await db.deleteCharacter('bea');
    const [characters, models, chunks] = await db.getAllOf(['characters', 'models', 'model-chunks']);
    return { characters: characters.map((c) => c.id), models: models.map((m) => m.id), chunks: chunks.map((c) => c.modelId) };
  });
  assert.deepEqual(out, { characters: ['cal'], models: ['adapter-b'], chunks: ['adapter-b'] }, 'Cal still uses adapter-b');
});

test('deleting a model removes its chunks and kept prompts and no other model\'s', async () => {
  const out = await inPage('store-model', async (db) => {
    const chunk = (modelId, index) => ({ op: 'put', store: 'model-chunks', value: { modelId, index, data: new Uint8Array([index]).buffer } });
    await db.write([
      { op: 'put', store: 'models', value: { id: 'm', complete: true } },
      { op: 'put', store: 'models', value: { id: 'm2', complete: true } },
      chunk('m', 0), chunk('m', 1), chunk('m', 2), chunk('m2', 0),
      { op: 'put', store: 'prefixes', value: { key: 'p-m', model: 'm', chatId: 'c', tokens: 200, bytes: 4 } },
      { op: 'put', store: 'prefixes', value: { key: 'p-m2', model: 'm2', chatId: 'c', tokens: 200, bytes: 4 } },
    ]);
    await db.deleteModel('m');
    const kept = await db.get('model-chunks', ['m2', 0]);
    return {
      models: (await db.getAll('models')).map((m) => m.id),
      chunks: (await db.getAll('model-chunks')).map((c) => `${c.modelId}/${c.index}`),
      bytes: [...new Uint8Array(kept.data)],
      prefixes: (await db.getAll('prefixes')).map((p) => p.key),
    };
  });
  assert.deepEqual(out, { models: ['m2'], chunks: ['m2/0'], bytes: [0], prefixes: ['p-m2'] });
});

test('merge changes only the named fields of an existing record', async () => {
  const out = await inPage('store-merge', async (db) => {
    await db.put('chats', { id: 'c', characterId: 'a', title: 'Old', createdAt: 1, parent: { chatId: 'p' } });
    return {
      merged: await db.merge('chats', 'c', { title: 'New', updatedAt: 9 }),
      missing: await db.merge('chats', 'nope', { title: 'x' }),
      chat: await db.get('chats', 'c'),
      absent: await db.get('chats', 'nope'),
      count: await db.count('chats'),
    };
  });
  assert.equal(out.merged, true);
  assert.equal(out.missing, false);
  assert.deepEqual(out.chat, { id: 'c', characterId: 'a', title: 'New', createdAt: 1, updatedAt: 9, parent: { chatId: 'p' } });
  assert.equal(out.absent, undefined);
  assert.equal(out.count, 1, 'merging into a missing key writes nothing');
});

test('bad requests reject with a clear error and the page lives on', async () => {
  const out = await inPage('store-errors', async (db) => {
    const reason = async (p) => p.then(() => 'resolved', (err) => `${err.name}: ${err.message}`);
    return {
      store: await reason(db.get('no-such-store', 'x')),
      op: await reason(db.write([{ op: 'drop', store: 'chats' }])),
      key: await reason(db.put('chats', { title: 'no id' })),
      after: await db.count('chats'),
    };
  });
  assert.match(out.store, /^NotFoundError/);
  assert.match(out.op, /unknown op "drop"/);
  assert.match(out.key, /^DataError/);
  assert.equal(out.after, 0);
  assert.deepEqual(browser.pageErrors, []);
});

test('a version-1 upgrade that fails rolls back and keeps the old data', async () => {
  const { page } = browser;
  // A version-1 database whose "chats" store (which version 1 never had) cannot take the
  // chat records the migration writes: the upgrade must fail as a whole.
  await page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('store-rollback', 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('models', { keyPath: 'id' });
      db.createObjectStore('model-chunks', { keyPath: ['modelId', 'index'] });
      db.createObjectStore('messages', { keyPath: 'id', autoIncrement: true }).createIndex('chatId', 'chatId');
      db.createObjectStore('chats', { keyPath: 'mustHave' });
    };
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction('messages', 'readwrite');
      tx.objectStore('messages').add({ chatId: 'character:ada', role: 'user', content: 'Still here', status: 'done', createdAt: 5 });
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }));
  const opened = await page.evaluate(async () => {
    const { openDb } = await import('/js/db.js');
    return openDb('store-rollback').then((db) => { db.close(); return 'opened'; }, (err) => `${err.name}`);
  });
  assert.equal(opened, 'AbortError');
  const left = await page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('store-rollback');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const r = db.transaction('messages').objectStore('messages').getAll();
      r.onsuccess = () => { resolve({ version: db.version, stores: [...db.objectStoreNames].sort(), messages: r.result }); db.close(); };
    };
  }));
  assert.equal(left.version, 1);
  assert.ok(!left.stores.includes('memories'), left.stores.join(', '));
  assert.deepEqual(left.messages.map((m) => [m.content, m.swipes]), [['Still here', undefined]]);
});
