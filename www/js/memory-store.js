// Chat memories in IndexedDB: one record per chat in the "memories" store (see db.js).
import { requestResult, transactionDone } from './db.js';
import { checkMemory, emptyMemory } from './memory.js';

export async function getMemory(db, chatId) {
  const tx = db.transaction('memories', 'readonly');
  const raw = await requestResult(tx.objectStore('memories').get(chatId));
  return checkMemory(raw) || emptyMemory(chatId);
}

export async function putMemory(db, mem) {
  const tx = db.transaction('memories', 'readwrite');
  tx.objectStore('memories').put(structuredClone(mem));
  await transactionDone(tx);
}
