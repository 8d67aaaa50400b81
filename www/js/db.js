// The page's IndexedDB database, shared by the UI thread and the engine worker.
//
// Schema (version 1):
//   models        keyPath "id"                 {id, url, bytes, sha256, chunkSize, chunks, complete, savedAt}
//   model-chunks  keyPath ["modelId","index"]  {modelId, index, data: ArrayBuffer}
//   messages      keyPath "id" (auto)          {id, chatId, role, content, status, createdAt}
//                 index "chatId"
// A model record is written with complete=false before its first chunk and flipped to
// complete=true only after the last chunk landed, so a torn download is never trusted.

export const DB_NAME = 'kindred';
export const DB_VERSION = 1;

export function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('models')) db.createObjectStore('models', { keyPath: 'id' });
      if (!db.objectStoreNames.contains('model-chunks')) {
        db.createObjectStore('model-chunks', { keyPath: ['modelId', 'index'] });
      }
      if (!db.objectStoreNames.contains('messages')) {
        const store = db.createObjectStore('messages', { keyPath: 'id', autoIncrement: true });
        store.createIndex('chatId', 'chatId');
      }
    };
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
