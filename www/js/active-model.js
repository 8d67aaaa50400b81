// The model the user chose, kept in the "settings" store under the key "model", so the next
// visit loads it instead of the manifest's default.
import { requestResult, transactionDone } from './db.js';
import { checkChoice } from './model-choice.js';

const KEY = 'model';

export async function loadActiveModel(db, pageHref = location.href) {
  if (!db) return null;
  const tx = db.transaction('settings', 'readonly');
  const row = await requestResult(tx.objectStore('settings').get(KEY));
  return checkChoice(row?.value, pageHref);
}

export async function saveActiveModel(db, choice) {
  const { id, name, url, bytes, sha256, kind } = choice;
  const tx = db.transaction('settings', 'readwrite');
  tx.objectStore('settings').put({ key: KEY, value: { id, name, url, bytes, sha256, kind } });
  await transactionDone(tx);
}

export async function clearActiveModel(db) {
  const tx = db.transaction('settings', 'readwrite');
  tx.objectStore('settings').delete(KEY);
  await transactionDone(tx);
}
