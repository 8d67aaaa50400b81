// Characters in IndexedDB: the card (V3 data object, as the Rust card reader returns it),
// its avatar bytes, and lorebooks attached to it.
import { substituteNames } from './names.js';
import { rustTools } from './wasm.js';

export const MAX_IMPORT = 32 * 1024 * 1024;

export function newId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `${prefix}-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export async function listCharacters(db) {
  return db.getAll('characters');
}

export async function getCharacter(db, id) {
  return db.get('characters', id);
}

export async function putCharacter(db, record) {
  await db.put('characters', { ...record, updatedAt: Date.now() });
  return record;
}

// Removes the character with all its chats and their messages.
export async function deleteCharacter(db, id) {
  await db.deleteCharacter(id);
}

// Reads a picked, dropped or given card file (PNG, JSON or CHARX; a File or Blob) into
// {card, spec, avatar, avatar_mime}; a lorebook file reads the same way.
export async function readCardFile(file) {
  if (file.size > MAX_IMPORT) throw new Error(`${file.name || 'The file'} is larger than 32 MB.`);
  const tools = await rustTools();
  return tools.import_card(new Uint8Array(await file.arrayBuffer()));
}

// A character record from an imported card file ({card, spec, avatar, avatar_mime}).
export function characterFromImport(imported, origin, id = newId('char')) {
  const avatar = imported.avatar instanceof Uint8Array && imported.avatar.length > 0
    ? imported.avatar.slice().buffer : null;
  const now = Date.now();
  return {
    id,
    card: imported.card,
    spec: imported.spec,
    avatar,
    avatarMime: avatar ? imported.avatar_mime : null,
    origin,
    lorebooks: [],
    createdAt: now,
    updatedAt: now,
  };
}

// The name shown for a character: the card's nickname when set, else its name.
export function displayName(record) {
  const card = record?.card || {};
  const nick = typeof card.nickname === 'string' ? card.nickname.trim() : '';
  const name = typeof card.name === 'string' ? card.name.trim() : '';
  return (nick || name || 'Unnamed').slice(0, 200);
}

// One short line about the character for its library card, names filled in.
export function tagline(record) {
  const card = record?.card || {};
  const fill = (t) => substituteNames(t, displayName(record), 'you');
  const notes = typeof card.creator_notes === 'string' ? card.creator_notes.trim().split('\n')[0].trim() : '';
  if (notes && notes.length <= 100) return fill(notes);
  const description = typeof card.description === 'string' ? fill(card.description.trim()) : '';
  if (description) return description.length > 100 ? `${description.slice(0, 97)}…` : description;
  return '';
}

export function tagsOf(record) {
  const tags = Array.isArray(record?.card?.tags) ? record.card.tags : [];
  return [...new Set(tags.filter((t) => typeof t === 'string').map((t) => t.trim().slice(0, 40)).filter(Boolean))]
    .slice(0, 20);
}
