// Chats and their messages in IndexedDB. A message is its own record, so a reply can be
// written as it streams without rewriting the whole chat; its alternatives (swipes), their
// ratings and edits live on the record.
import { requestResult, transactionDone } from './db.js';
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
  const tx = db.transaction('chats', 'readonly');
  const store = tx.objectStore('chats');
  const rows = characterId === undefined
    ? await requestResult(store.getAll())
    : await requestResult(store.index('characterId').getAll(characterId));
  return rows.sort((a, b) => (b.updatedAt || 0) - (a.updatedAt || 0));
}

export async function getChat(db, id) {
  const tx = db.transaction('chats', 'readonly');
  return requestResult(tx.objectStore('chats').get(id));
}

export async function putChat(db, chat) {
  const tx = db.transaction('chats', 'readwrite');
  tx.objectStore('chats').put(chat);
  await transactionDone(tx);
  return chat;
}

export async function touchChat(db, id, changes = {}) {
  const tx = db.transaction('chats', 'readwrite');
  const store = tx.objectStore('chats');
  const chat = await requestResult(store.get(id));
  if (chat) store.put({ ...chat, ...changes, updatedAt: Date.now() });
  await transactionDone(tx);
}

// A new chat, opened by the character's greetings (first_mes and the alternates as swipes).
export async function createChat(db, characterId, greetings, title = 'Chat') {
  const now = Date.now();
  const chat = { id: newId('chat'), characterId, title, createdAt: now, updatedAt: now };
  const tx = db.transaction(['chats', 'messages'], 'readwrite');
  tx.objectStore('chats').put(chat);
  const swipes = greetings.filter((g) => g.trim()).map((g) => ({ ...newSwipe(g, 'greeting') }));
  if (swipes.length) {
    tx.objectStore('messages').add({ chatId: chat.id, pos: 0, role: 'assistant', greeting: true, swipes, chosen: 0, createdAt: now });
  }
  await transactionDone(tx);
  return chat;
}

export async function listMessages(db, chatId) {
  const tx = db.transaction('messages', 'readonly');
  const rows = await requestResult(tx.objectStore('messages').index('chatId').getAll(chatId));
  return rows.sort((a, b) => (a.pos - b.pos) || (a.id - b.id));
}

export async function addMessage(db, message) {
  const tx = db.transaction('messages', 'readwrite');
  const id = await requestResult(tx.objectStore('messages').add({ createdAt: Date.now(), ...message }));
  await transactionDone(tx);
  return id;
}

export async function putMessage(db, message) {
  const tx = db.transaction('messages', 'readwrite');
  tx.objectStore('messages').put(message);
  await transactionDone(tx);
}

export async function deleteMessage(db, id) {
  const tx = db.transaction('messages', 'readwrite');
  tx.objectStore('messages').delete(id);
  await transactionDone(tx);
}

export async function deleteChat(db, chatId) {
  const tx = db.transaction(['chats', 'messages', 'memories'], 'readwrite');
  tx.objectStore('chats').delete(chatId);
  tx.objectStore('memories').delete(chatId);
  const keys = await requestResult(tx.objectStore('messages').index('chatId').getAllKeys(chatId));
  for (const key of keys) tx.objectStore('messages').delete(key);
  await transactionDone(tx);
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
  const tx = db.transaction(['chats', 'messages'], 'readwrite');
  tx.objectStore('chats').put(child);
  for (const m of messages.slice(0, upTo + 1)) {
    const { id, ...rest } = m;
    tx.objectStore('messages').add({ ...structuredClone(rest), chatId: child.id });
  }
  await transactionDone(tx);
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
