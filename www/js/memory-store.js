// Chat memories in IndexedDB: one record per chat in the "memories" store (see db.js).
import { checkMemory, emptyMemory } from './memory.js';

export async function getMemory(db, chatId) {
  const raw = await db.get('memories', chatId);
  return checkMemory(raw) || emptyMemory(chatId);
}

export async function putMemory(db, mem) {
  await db.put('memories', structuredClone(mem));
}
