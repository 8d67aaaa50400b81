// The starter characters listed in characters/index.json, read through the same Rust card
// reader as an imported file and stored on first visit (or when a new one ships). Their ids
// are the index's, so chats from before the library keep their character.
import { getCharacter, putCharacter, characterFromImport } from './character-store.js';
import { rustTools } from './wasm.js';

const INDEX_URL = 'characters/index.json';
const MAX_FILE = 2 * 1024 * 1024;

// Only same-origin addresses may be used for starter files.
export function sameOriginUrl(path, base) {
  if (typeof path !== 'string' || path === '') return null;
  try {
    const url = new URL(path, base);
    return url.origin === new URL(base).origin ? url.href : null;
  } catch {
    return null;
  }
}

async function fetchBytes(url) {
  const response = await fetch(url, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > MAX_FILE) throw new Error(`${url} is too large.`);
  return { bytes, type: (response.headers.get('content-type') || '').split(';')[0].trim() };
}

export function indexEntries(index) {
  const list = Array.isArray(index) ? index : Array.isArray(index?.characters) ? index.characters : [];
  return list.filter((e) => e && typeof e === 'object' && typeof e.file === 'string' &&
    typeof e.id === 'string' && /^[a-z0-9-]{1,64}$/.test(e.id));
}

// Stores every listed starter that is not stored yet; returns the ids in index order. The
// cards are fetched and stored side by side, so a first visit shows them at once.
export async function seedStarters(db, pageUrl = location.href) {
  const indexUrl = new URL(INDEX_URL, pageUrl).href;
  const { bytes } = await fetchBytes(indexUrl);
  const entries = indexEntries(JSON.parse(new TextDecoder().decode(bytes)));
  const tools = await rustTools();
  await Promise.all(entries.map(async (entry, order) => {
    if (await getCharacter(db, entry.id)) return;
    try {
      const cardUrl = sameOriginUrl(entry.file, indexUrl);
      if (!cardUrl) throw new Error('the card file is not on this site');
      const imported = tools.import_card((await fetchBytes(cardUrl)).bytes);
      const avatarUrl = sameOriginUrl(entry.avatar, indexUrl);
      if (avatarUrl) {
        const avatar = await fetchBytes(avatarUrl).catch(() => null);
        if (avatar && avatar.type.startsWith('image/')) {
          imported.avatar = avatar.bytes;
          imported.avatar_mime = avatar.type;
        }
      }
      const record = characterFromImport(imported, 'starter', entry.id);
      record.order = order;
      await putCharacter(db, record);
    } catch (err) {
      console.warn(`Starter character ${entry.id} unavailable: ${err.message ?? err}`);
    }
  }));
  return entries.map((e) => e.id);
}
