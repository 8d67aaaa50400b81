// The model the user chose, kept in the "settings" store under the key "model", so the next
// visit loads it instead of the manifest's default.
import { checkChoice } from './model-choice.js';

const KEY = 'model';

export async function loadActiveModel(db, pageHref = location.href) {
  if (!db) return null;
  const row = await db.get('settings', KEY);
  return checkChoice(row?.value, pageHref);
}

export async function saveActiveModel(db, choice) {
  const { id, name, url, bytes, sha256, kind } = choice;
  await db.put('settings', { key: KEY, value: { id, name, url, bytes, sha256, kind } });
}

export async function clearActiveModel(db) {
  await db.delete('settings', KEY);
}
