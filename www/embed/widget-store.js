// A <kindred-chat> conversation kept on the visitor's device, so a reload finds it again.
// It lives in the site's IndexedDB "settings" store under "widget-chat:<card address>": the
// app's library and recent chats read only the chats store, so widget chats never show
// there, and the app's "Delete everything" clears the settings store, widget chats with it.
// One record a card: two widgets with different cards keep separate chats.
//
// Record value: {card, messages: [{id, role: 'user'|'assistant', text, status, note?}],
// memory: {summaries} (memory.js: rolling summaries of turns that left the context),
// loreState (the lorebook activations the last reply left, sent back with the next), savedAt}.
// The greeting is stored as the card wrote it ({{char}} and {{user}} unreplaced), like the
// other messages; names are put in when shown. Everything read back is checked: another page
// of the site could have written anything there.
import { openDb } from '../js/db.js';
import { loadPrefs, checkPrefs } from '../js/prefs.js';
import { checkMemory, emptyMemory } from '../js/memory.js';

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
    const out = { id: m.id, role: m.role, text: m.text, status: m.status };
    if (m.note) out.note = m.note;
    return out;
  });
}

const ID = /^m\d{1,15}$/;

// Messages as read back: a reply still marked as streaming was cut off when the page closed.
// Each keeps its id (summaries name the messages they cover); one without a valid id of its
// own, or with another's, gets a new one.
export function checkMessages(raw) {
  if (!Array.isArray(raw)) return [];
  const out = raw.slice(-MAX_MESSAGES).flatMap((m) => {
    if (!m || typeof m !== 'object' || typeof m.text !== 'string') return [];
    const role = m.role === 'user' ? 'user' : 'assistant';
    let status = STATUSES.has(m.status) ? m.status : 'done';
    if (status === 'streaming') status = 'interrupted';
    const msg = { id: typeof m.id === 'string' && ID.test(m.id) ? m.id : null, role, text: m.text.slice(0, MAX_TEXT), status };
    if (typeof m.note === 'string' && m.note) msg.note = m.note.slice(0, 500);
    return [msg];
  });
  const seen = new Set();
  let next = nextId(out);
  for (const m of out) {
    if (!m.id || seen.has(m.id)) m.id = `m${next++}`;
    seen.add(m.id);
  }
  return out;
}

// The number after the highest message id (ids are "m1", "m2", ...).
export function nextId(messages) {
  return 1 + Math.max(0, ...messages.map((m) => (typeof m.id === 'string' && ID.test(m.id) ? Number(m.id.slice(1)) : 0)));
}

// A whole saved chat read back: {messages, memory, loreState}; summaries that name messages
// no longer in the chat are dropped, lorebook state that is not an object is forgotten.
export function checkWidgetChat(value) {
  const v = value && typeof value === 'object' ? value : {};
  const messages = checkMessages(v.messages);
  const ids = new Set(messages.map((m) => m.id));
  const memory = checkMemory({ ...(v.memory && typeof v.memory === 'object' ? v.memory : {}), chatId: 'widget' }) || emptyMemory('widget');
  memory.pinned = [];
  memory.summaries = memory.summaries.filter((s) => s.messageIds.every((id) => ids.has(id)));
  const lore = v.loreState;
  const loreState = lore && typeof lore === 'object' && !Array.isArray(lore) && lore.entries && typeof lore.entries === 'object' ? lore : null;
  return { messages, memory, loreState };
}

// The record as written.
export function storedChat(cardUrl, { messages, memory, loreState }) {
  return {
    card: cardUrl,
    messages: storedMessages(messages),
    memory: { summaries: memory?.summaries || [] },
    loreState: loreState || null,
    savedAt: Date.now(),
  };
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

// The saved chat for a card ({messages, memory, loreState}), or null when none (or storage
// is unavailable).
export async function loadWidgetChat(cardUrl) {
  try {
    const row = await withDb((db) => db.get('settings', chatKey(cardUrl)));
    const chat = checkWidgetChat(row?.value);
    return chat.messages.length ? chat : null;
  } catch (err) {
    console.warn(`The saved chat could not be read: ${err.message}`);
    return null;
  }
}

// Saves the chat; a chat with nothing the visitor wrote is removed instead, so a greeting
// alone leaves no record and "New chat" clears what was there.
export async function saveWidgetChat(cardUrl, chat) {
  const key = chatKey(cardUrl);
  const keep = chat.messages.some((m) => m.role === 'user');
  await withDb((db) => (keep ? db.put('settings', { key, value: storedChat(cardUrl, chat) }) : db.delete('settings', key)));
}

// The visitor's settings from the app on this site (context size, sampling, writing systems),
// so a widget answers as the app would; the defaults where there are none.
export async function loadVisitorPrefs() {
  try {
    return await withDb((db) => loadPrefs(db));
  } catch {
    return checkPrefs(null);
  }
}
