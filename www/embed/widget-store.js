// A <kindred-chat> conversation kept on the visitor's device, so a reload finds it again.
// It lives in the site's IndexedDB "settings" store under "widget-chat:<card address>": the
// app's library and recent chats read only the chats store, so widget chats never show
// there, and the app's "Delete everything" clears the settings store, widget chats with it.
// One record a card: two widgets with different cards keep separate chats.
//
// Record value: {card, messages: [{role: 'user'|'assistant', text, status, note?}], savedAt}.
// The greeting is stored as the card wrote it ({{char}} and {{user}} unreplaced), like the
// other messages; names are put in when shown. Everything read back is checked: another page
// of the site could have written anything there.
import { openDb } from '../js/db.js';

export const WIDGET_CHAT_PREFIX = 'widget-chat:';
const PREFIX = WIDGET_CHAT_PREFIX;
export const MAX_MESSAGES = 500;
const MAX_TEXT = 64 * 1024;
const STATUSES = new Set(['greeting', 'done', 'stopped', 'error', 'streaming', 'interrupted']);

export function chatKey(cardUrl) {
  return `${PREFIX}${cardUrl}`;
}

// Messages as stored: plain fields only (no DOM nodes), the newest MAX_MESSAGES.
export function storedMessages(messages) {
  return messages.slice(-MAX_MESSAGES).map((m) => {
    const out = { role: m.role, text: m.text, status: m.status };
    if (m.note) out.note = m.note;
    return out;
  });
}

// Messages as read back: a reply still marked as streaming was cut off when the page closed.
export function checkMessages(raw) {
  if (!Array.isArray(raw)) return [];
  return raw.slice(-MAX_MESSAGES).flatMap((m) => {
    if (!m || typeof m !== 'object' || typeof m.text !== 'string') return [];
    const role = m.role === 'user' ? 'user' : 'assistant';
    let status = STATUSES.has(m.status) ? m.status : 'done';
    if (status === 'streaming') status = 'interrupted';
    const out = { role, text: m.text.slice(0, MAX_TEXT), status };
    if (typeof m.note === 'string' && m.note) out.note = m.note.slice(0, 500);
    return [out];
  });
}

// One connection for every widget on the page, opened on first use. The app in another tab
// may upgrade the schema, which closes it (see db.js); the next call opens it again.
let connection = null;

async function withDb(fn) {
  for (let attempt = 0; ; attempt++) {
    connection ??= openDb().catch((err) => { connection = null; throw err; });
    const db = await connection;
    try {
      return await fn(db);
    } catch (err) {
      if (attempt > 0 || err?.name !== 'InvalidStateError') throw err;
      connection = null;
    }
  }
}

// The saved messages for a card, or null when none (or storage is unavailable).
export async function loadWidgetChat(cardUrl) {
  try {
    const row = await withDb((db) => db.get('settings', chatKey(cardUrl)));
    const messages = checkMessages(row?.value?.messages);
    return messages.length ? messages : null;
  } catch (err) {
    console.warn(`The saved chat could not be read: ${err.message}`);
    return null;
  }
}

// Saves the chat; a chat with nothing the visitor wrote is removed instead, so a greeting
// alone leaves no record and "New chat" clears what was there.
export async function saveWidgetChat(cardUrl, messages) {
  const key = chatKey(cardUrl);
  const keep = messages.some((m) => m.role === 'user');
  await withDb((db) => (keep
    ? db.put('settings', { key, value: { card: cardUrl, messages: storedMessages(messages), savedAt: Date.now() } })
    : db.delete('settings', key)));
}
