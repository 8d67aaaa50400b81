// The page's IndexedDB database, shared by the UI thread and the engine worker. The schema,
// its migrations and every read and write live in Rust (crates/web/src/store, through the
// `idb` crate); this opens a connection, a `Store`, whose methods the *-store.js modules call:
//   get(store, key)  getAll(store)  getAllBy(store, index, key)  getAllOf([stores])  count(store)
//   put(store, value)  add(store, value)  delete(store, key)  merge(store, key, changes)
//   write([{op: 'put'|'add'|'delete'|'clear', store, value|key}])   one transaction, all or nothing
//   clear([stores])  deleteChats([ids])  deleteCharacter(id)  deleteModel(id)  close()
// Failures reject with the browser's own DOMException where there is one (a full disk is a
// QuotaExceededError, a connection closed by another tab's upgrade an InvalidStateError).
import { rustTools } from './wasm.js';

export const DB_NAME = 'kindred';

export async function openDb(name = DB_NAME) {
  const mod = await rustTools();
  return mod.openStore(name);
}

export function isQuotaError(err) {
  return Boolean(err) && err.name === 'QuotaExceededError';
}
