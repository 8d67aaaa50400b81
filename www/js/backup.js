// Everything the user made, as one JSON file: characters (avatars as base64), chats,
// messages, chat memories and settings. The model is left out: it is downloaded again, not backed up.
// Import checks every record (cards go through the Rust card reader) and writes them with
// their ids, so a backup restored onto an empty browser gives back the same data.
import { checkPrefs } from './prefs.js';
import { checkVoicePrefs } from './voice-prefs.js';
import { checkWidgetChat, storedChat, WIDGET_CHAT_PREFIX } from '../embed/widget-store.js';
import { rustTools } from './wasm.js';
import { checkMemory } from './memory.js';
import { checkRoom, isRoom } from './room-store.js';

export const BACKUP_FORMAT = 'kindred-backup';
const DATA_STORES = ['characters', 'chats', 'messages', 'settings', 'memories'];
const MAX_BACKUP = 256 * 1024 * 1024;

export function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

export async function exportAll(db) {
  const [characters, chats, messages, settings, memories] = await db.getAllOf(DATA_STORES);
  return {
    format: BACKUP_FORMAT,
    version: 2,
    exportedAt: new Date().toISOString(),
    characters: characters.map((c) => ({ ...c, avatar: c.avatar ? toBase64(c.avatar) : null })),
    chats,
    messages: messages.sort((a, b) => a.id - b.id),
    settings,
    memories,
  };
}

const isText = (v) => typeof v === 'string';
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkSwipe(s) {
  if (!isObject(s) || !isText(s.text)) return null;
  const rating = Number.isInteger(s.rating) && s.rating >= 1 && s.rating <= 4 ? s.rating : null;
  return { ...s, rating, status: isText(s.status) ? s.status : 'done' };
}

// Returns the records to write, or throws with what is wrong with the file.
// The settings a backup may restore: preferences, voices and the widgets' chats, each checked.
export function checkSettings(raw) {
  const list = (v) => (Array.isArray(v) ? v : []);
  return [
    ...list(raw).filter((s) => isObject(s) && s.key === 'prefs').map((s) => ({ key: 'prefs', value: checkPrefs(s.value) })),
    ...list(raw).filter((s) => isObject(s) && s.key === 'voice').map((s) => ({ key: 'voice', value: checkVoicePrefs(s.value) })),
    // The <kindred-chat> widgets' conversations on this site, checked as the widget checks them.
    ...list(raw)
      .filter((s) => isObject(s) && typeof s.key === 'string' && s.key.startsWith(WIDGET_CHAT_PREFIX) && isObject(s.value))
      .map((s) => {
        const card = s.key.slice(WIDGET_CHAT_PREFIX.length);
        return { key: s.key, value: { ...storedChat(card, checkWidgetChat(s.value)), savedAt: Number(s.value.savedAt) || 0 } };
      })
      .filter((s) => s.value.messages.length > 0),
  ];
}

export async function checkBackup(data) {
  if (!isObject(data) || data.format !== BACKUP_FORMAT) throw new Error('This is not a Kindred backup file.');
  if (!Number.isInteger(data.version) || data.version > 2) throw new Error('This backup comes from a newer version of Kindred.');
  const tools = await rustTools();
  const list = (v) => (Array.isArray(v) ? v : []);
  const characters = list(data.characters).filter((c) => isObject(c) && isText(c.id) && isObject(c.card)).map((c) => ({
    ...c,
    card: tools.normalize_card(JSON.stringify(c.card)),
    avatar: isText(c.avatar) && c.avatar ? fromBase64(c.avatar) : null,
    avatarMime: isText(c.avatarMime) && /^image\/[\w.+-]+$/.test(c.avatarMime) ? c.avatarMime : null,
    lorebooks: list(c.lorebooks).filter((b) => isObject(b) && isObject(b.book)),
  }));
  const chats = list(data.chats)
    .map((c) => (isObject(c) && c.room !== undefined ? { ...c, room: checkRoom(c.room) } : c))
    .filter((c) => isObject(c) && isText(c.id) && (isText(c.characterId) || isRoom(c)));
  const messages = list(data.messages)
    .filter((m) => isObject(m) && Number.isSafeInteger(m.id) && isText(m.chatId) && Array.isArray(m.swipes))
    .map((m) => {
      const swipes = m.swipes.map(checkSwipe).filter(Boolean);
      const chosen = Number.isInteger(m.chosen) && m.chosen >= 0 && m.chosen < swipes.length ? m.chosen : 0;
      return { ...m, role: m.role === 'user' ? 'user' : 'assistant', swipes, chosen, pos: Number.isFinite(m.pos) ? m.pos : m.id };
    })
    .filter((m) => m.swipes.length > 0);
  const settings = checkSettings(data.settings);
  // Memories only of chats in the file: a memory without its chat would never be seen.
  const chatIds = new Set(chats.map((c) => c.id));
  const memories = list(data.memories).map(checkMemory).filter((m) => m && chatIds.has(m.chatId));
  return { characters, chats, messages, settings, memories };
}

export async function importAll(db, file) {
  if (file.size > MAX_BACKUP) throw new Error('The file is larger than 256 MB.');
  let data;
  try {
    data = JSON.parse(await file.text());
  } catch {
    throw new Error('The file is not valid JSON.');
  }
  const records = await checkBackup(data);
  await db.write(DATA_STORES.flatMap((store) => records[store].map((value) => ({ op: 'put', store, value }))));
  return Object.fromEntries(DATA_STORES.map((name) => [name, records[name].length]));
}

// Deletes every record and the stored prompt prefixes (they hold the chats' words); with
// `model`, the downloaded model too.
export async function deleteAll(db, { model = false } = {}) {
  const stores = [...DATA_STORES, 'prefixes', 'prefix-data', ...(model ? ['models', 'model-chunks'] : [])];
  await db.clear(stores);
}
