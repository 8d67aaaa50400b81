// The page's IndexedDB database, shared by the UI thread and the engine worker.
//
// Schema (version 3):
//   models        keyPath "id"                 {id, url, bytes, sha256, chunkSize, chunks, complete, savedAt}
//   model-chunks  keyPath ["modelId","index"]  {modelId, index, data: ArrayBuffer}
//   characters    keyPath "id"                 {id, card, spec, avatar: ArrayBuffer|null, avatarMime, origin,
//                                               lorebooks: [{name, book}], createdAt, updatedAt}
//   chats         keyPath "id"                 {id, characterId, title, createdAt, updatedAt, parent?, cutUntil?,
//                 index "characterId"           needsGreeting?, kind?, room?}
//   messages      keyPath "id" (auto)          {id, chatId, pos, role, swipes: [{text, status, rating, createdAt,
//                 index "chatId"                 stats?, edits?}], chosen, greeting?, author?, createdAt}
//   settings      keyPath "key"                {key, value}
//   memories      keyPath "chatId"             {chatId, pinned: [{id, text, sourceId, createdAt}], nextPin,
//                                               summaries: [{text, fromId, toId, messageIds, createdAt}],
//                                               lastUsed: {at, items: [{kind, id, text}]} | null}
// A room (several characters, see room-store.js) is a chat with kind "room", `room` and no
// characterId; its messages name their `author`. Older records simply lack these fields.
// A model record is written with complete=false before its first chunk and flipped to
// complete=true only after the last chunk landed, so a torn download is never trusted.
//
// Version 1 had models, model-chunks and messages {id, chatId, role, content, status,
// createdAt} with one chat per starter character ("character:<id>"), its greeting not stored.
// The upgrade keeps the model and turns each message into one with a single swipe, and each
// chat id into a chat record that asks for its greeting to be added when it is opened.
// Version 3 added the memories store (a chat without a record has no memories yet).

export const DB_NAME = 'kindred';
export const DB_VERSION = 3;

export function openDb(name = DB_NAME) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = (event) => upgrade(req.result, req.transaction, event.oldVersion);
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading the schema must not be blocked by this one.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('The database is blocked by another open tab.'));
  });
}

function upgrade(db, tx, oldVersion) {
  if (!db.objectStoreNames.contains('models')) db.createObjectStore('models', { keyPath: 'id' });
  if (!db.objectStoreNames.contains('model-chunks')) {
    db.createObjectStore('model-chunks', { keyPath: ['modelId', 'index'] });
  }
  if (!db.objectStoreNames.contains('messages')) {
    const store = db.createObjectStore('messages', { keyPath: 'id', autoIncrement: true });
    store.createIndex('chatId', 'chatId');
  }
  if (!db.objectStoreNames.contains('characters')) db.createObjectStore('characters', { keyPath: 'id' });
  if (!db.objectStoreNames.contains('chats')) {
    const chats = db.createObjectStore('chats', { keyPath: 'id' });
    chats.createIndex('characterId', 'characterId');
  }
  if (!db.objectStoreNames.contains('settings')) db.createObjectStore('settings', { keyPath: 'key' });
  if (!db.objectStoreNames.contains('memories')) db.createObjectStore('memories', { keyPath: 'chatId' });
  if (oldVersion >= 1 && oldVersion < 2) migrateMessagesV1(tx);
}

// Runs inside the upgrade transaction, so a failure rolls the whole upgrade back and the
// version-1 data stays as it was.
function migrateMessagesV1(tx) {
  const messages = tx.objectStore('messages');
  const chats = tx.objectStore('chats');
  const seen = new Map();
  messages.openCursor().onsuccess = (event) => {
    const cursor = event.target.result;
    if (!cursor) {
      for (const [chatId, times] of seen) {
        chats.put({
          id: chatId,
          characterId: chatId.replace(/^character:/, ''),
          title: 'Chat',
          createdAt: times.first,
          updatedAt: times.last,
          needsGreeting: true,
        });
      }
      return;
    }
    const old = cursor.value;
    if (!Array.isArray(old.swipes)) {
      const createdAt = Number(old.createdAt) || Date.now();
      cursor.update(upgradedMessage(old, createdAt));
    }
    const chatId = String(old.chatId ?? '');
    const at = Number(old.createdAt) || Date.now();
    const times = seen.get(chatId) || { first: at, last: at };
    times.first = Math.min(times.first, at);
    times.last = Math.max(times.last, at);
    seen.set(chatId, times);
    cursor.continue();
  };
}

export function upgradedMessage(old, createdAt) {
  return {
    id: old.id,
    chatId: String(old.chatId ?? ''),
    pos: old.id,
    role: old.role === 'user' ? 'user' : 'assistant',
    swipes: [{
      text: typeof old.content === 'string' ? old.content : '',
      status: typeof old.status === 'string' ? old.status : 'done',
      rating: null,
      createdAt,
    }],
    chosen: 0,
    createdAt,
  };
}

export function requestResult(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// Resolves when the transaction commits; rejects with the transaction's error (for
// example a QuotaExceededError, which surfaces on the transaction, not the request).
export function transactionDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException('Transaction aborted', 'AbortError'));
    tx.onerror = () => reject(tx.error);
  });
}

export function isQuotaError(err) {
  return Boolean(err) && err.name === 'QuotaExceededError';
}
