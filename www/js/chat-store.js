// Chats and their messages in IndexedDB. A message is its own record, so a reply can be
// written as it streams without rewriting the whole chat; its alternatives (swipes), their
// ratings and edits live on the record.
import { newId } from './character-store.js';

// Older texts of a swipe kept after edits.
const MAX_EDITS = 20;

export function currentSwipe(message) {
  const swipes = Array.isArray(message?.swipes) ? message.swipes : [];
  return swipes[message.chosen] || swipes[swipes.length - 1] || { text: '', status: 'done', rating: null };
}

export function newSwipe(text, status = 'done') {
  return { text, status, rating: null, createdAt: Date.now() };
}

export async function listChats(db, characterId) {
  const rows = characterId === undefined ? await db.getAll('chats') : await db.getAllBy('chats', 'characterId', characterId);
  return rows.sort((a, b) => (b.updatedAt || 0) - (a.updatedAt || 0));
}

export async function getChat(db, id) {
  return db.get('chats', id);
}

export async function putChat(db, chat) {
  await db.put('chats', chat);
  return chat;
}

export async function touchChat(db, id, changes = {}) {
  await db.merge('chats', id, { ...changes, updatedAt: Date.now() });
}

// A new chat with `character` (a stored record), opened by its card's greetings.
export function newChatFor(db, character) {
  const card = character.card || {};
  const greetings = [card.first_mes, ...(Array.isArray(card.alternate_greetings) ? card.alternate_greetings : [])]
    .filter((g) => typeof g === 'string');
  return createChat(db, character.id, greetings);
}

// A new chat, opened by the character's greetings (first_mes and the alternates as swipes).
export async function createChat(db, characterId, greetings, title = 'Chat') {
  const now = Date.now();
  const chat = { id: newId('chat'), characterId, title, createdAt: now, updatedAt: now };
  const writes = [{ op: 'put', store: 'chats', value: chat }];
  const swipes = greetings.filter((g) => g.trim()).map((g) => ({ ...newSwipe(g, 'greeting') }));
  if (swipes.length) {
    writes.push({ op: 'add', store: 'messages', value: { chatId: chat.id, pos: 0, role: 'assistant', greeting: true, swipes, chosen: 0, createdAt: now } });
  }
  await db.write(writes);
  return chat;
}

export async function listMessages(db, chatId) {
  const rows = await db.getAllBy('messages', 'chatId', chatId);
  return rows.sort((a, b) => (a.pos - b.pos) || (a.id - b.id));
}

export async function addMessage(db, message) {
  return db.add('messages', { createdAt: Date.now(), ...message });
}

export async function putMessage(db, message) {
  await db.put('messages', message);
}

export async function deleteMessage(db, id) {
  await db.delete('messages', id);
}

export async function deleteChat(db, chatId) {
  await db.deleteChats([chatId]);
}

// A new chat holding copies of the messages up to and including `messageId`.
export async function branchChat(db, chat, messages, messageId) {
  const upTo = messages.findIndex((m) => m.id === messageId);
  if (upTo < 0) throw new Error('That message is no longer in the chat.');
  const now = Date.now();
  const child = {
    id: newId('chat'),
    characterId: chat.characterId,
    title: `${chat.title || 'Chat'} (branch)`,
    createdAt: now,
    updatedAt: now,
    parent: { chatId: chat.id, messageId },
  };
  const writes = [{ op: 'put', store: 'chats', value: child }];
  for (const m of messages.slice(0, upTo + 1)) {
    const { id, ...rest } = m;
    writes.push({ op: 'add', store: 'messages', value: { ...structuredClone(rest), chatId: child.id } });
  }
  await db.write(writes);
  return child;
}

// Replaces a swipe's text, keeping a bounded history of what it said before.
export function editSwipe(message, text) {
  const swipe = currentSwipe(message);
  const edits = Array.isArray(swipe.edits) ? swipe.edits : [];
  swipe.edits = [...edits, { previous: swipe.text, at: Date.now() }].slice(-MAX_EDITS);
  swipe.text = text;
  if (swipe.status !== 'greeting') swipe.status = 'done';
}

// Coalesces frequent writes of a growing reply into at most one per interval; the last
// value always lands (flush() forces it, e.g. when the page is being hidden).
export function throttledWriter(write, intervalMs = 400) {
  let pending = null;
  let timer = null;
  let chain = Promise.resolve();
  const run = () => {
    timer = null;
    if (pending === null) return chain;
    const value = pending;
    pending = null;
    chain = chain.then(() => write(value)).catch((err) => console.warn(`Could not save: ${err.message}`));
    return chain;
  };
  return {
    push(value) {
      pending = value;
      if (timer === null) timer = setTimeout(run, intervalMs);
    },
    flush() {
      if (timer !== null) clearTimeout(timer);
      return run();
    },
  };
}
