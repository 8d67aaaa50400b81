// Chat messages in IndexedDB, one record per message, so a reload shows the conversation and
// a reply that was streaming when the tab closed keeps what had been shown.
import { openDb, requestResult, transactionDone } from './db.js';

export class ChatStore {
  static async open() {
    return new ChatStore(await openDb());
  }

  constructor(db) {
    this.db = db;
  }

  async list(chatId) {
    const tx = this.db.transaction('messages', 'readonly');
    const rows = await requestResult(tx.objectStore('messages').index('chatId').getAll(chatId));
    return rows.sort((a, b) => a.id - b.id);
  }

  async add(message) {
    const tx = this.db.transaction('messages', 'readwrite');
    const id = await requestResult(tx.objectStore('messages').add({ ...message, createdAt: Date.now() }));
    await transactionDone(tx);
    return id;
  }

  async update(id, changes) {
    const tx = this.db.transaction('messages', 'readwrite');
    const store = tx.objectStore('messages');
    const current = await requestResult(store.get(id));
    if (current) store.put({ ...current, ...changes });
    await transactionDone(tx);
  }

  async clear(chatId) {
    const tx = this.db.transaction('messages', 'readwrite');
    const store = tx.objectStore('messages');
    const keys = await requestResult(store.index('chatId').getAllKeys(chatId));
    for (const key of keys) store.delete(key);
    await transactionDone(tx);
  }
}

// Coalesces frequent writes of a growing reply into at most one per interval; the last
// value always lands (flush() forces it, e.g. when the page is being hidden).
export function throttledWriter(write, intervalMs = 400) {
  let pending = null;
  let timer = null;
  let chain = Promise.resolve();
  const run = () => {
    timer = null;
    if (pending === null) return chain;
    const value = pending;
    pending = null;
    chain = chain.then(() => write(value)).catch((err) => console.warn(`Could not save: ${err.message}`));
    return chain;
  };
  return {
    push(value) {
      pending = value;
      if (timer === null) timer = setTimeout(run, intervalMs);
    },
    flush() {
      if (timer !== null) clearTimeout(timer);
      return run();
    },
  };
}
