// Rooms: chats with several characters. A room is a chat record with `room` set (the room's
// state as the Rust room functions read it: members, speaker strategy, prompt mode,
// narrator, random state) and no `characterId`; its assistant messages carry `author`
// ({kind: "character", id} or {kind: "narrator"}), its user messages {kind: "user"}.
// Nothing else in the schema changes, so no database upgrade is needed.
import { newId, displayName } from './character-store.js';
import { currentSwipe, newSwipe } from './chat-store.js';
import { rustTools } from './wasm.js';

export const STRATEGIES = [
  ['list_order', 'In list order'],
  ['natural', 'Natural (named first, then the talkative)'],
  ['pooled', 'Whoever spoke least recently'],
  ['manual', 'Only when I pick someone'],
];
export const PROMPT_MODES = [
  ['swap', 'Only the speaker’s card'],
  ['join', 'Every member’s card'],
];
export const MAX_AUTONOMOUS_TURNS = 50;

export function isRoom(chat) {
  return Boolean(chat && chat.room && Array.isArray(chat.room.members));
}

// A room read from a backup file: members with text ids and names, at least two of them, or
// null. The Rust room functions check the rest whenever the room is used.
export function checkRoom(room) {
  if (!room || typeof room !== 'object' || !Array.isArray(room.members)) return null;
  const members = room.members.filter((m) => m && typeof m.character_id === 'string' && typeof m.name === 'string');
  return members.length >= 2 ? { ...room, members } : null;
}

// Calls one of the Rust room functions (crates/web/src/rooms.rs) with a JSON request.
export async function roomCall(name, request) {
  const tools = await rustTools();
  return JSON.parse(tools[name](JSON.stringify(request)));
}

// A random 32-bit seed for a new room's speaker choices and dice.
function freshSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

export function memberOf(room, id) {
  return room?.members?.find((m) => m.character_id === id) || null;
}

// The name shown for a message's author.
export function authorName(room, author) {
  if (author?.kind === 'narrator') return room?.narrator?.name || 'Narrator';
  return memberOf(room, author?.id)?.name || 'Someone';
}

// The messages as the room functions read them.
export function roomMessages(messages) {
  return messages.map((m) => ({
    id: String(m.id),
    author: m.role === 'user' ? { kind: 'user' }
      : m.author?.kind === 'narrator' ? { kind: 'narrator' }
        : { kind: 'character', id: String(m.author?.id ?? '') },
    text: currentSwipe(m).text,
  }));
}

// The cast as the room functions read it: {character_id, card} per character record.
export function castOf(records) {
  return records.map((r) => ({ character_id: r.id, card: r.card || {} }));
}

// Creates the room with its opening greetings (group-only greetings first); returns the chat.
export async function createRoom(db, name, records) {
  const id = newId('room');
  const room = await roomCall('room_create', { id, seed: freshSeed(), members: castOf(records) });
  const greetings = await roomCall('room_greetings', { room, cast: castOf(records) });
  const now = Date.now();
  const title = name.trim().slice(0, 100) || records.map((r) => displayName(r)).join(', ').slice(0, 100);
  const chat = { id, kind: 'room', title, room, createdAt: now, updatedAt: now };
  await db.write([
    { op: 'put', store: 'chats', value: chat },
    ...greetings.map((g, pos) => ({
      op: 'add',
      store: 'messages',
      value: {
        chatId: id, pos, role: 'assistant', greeting: true, author: { kind: 'character', id: g.character_id },
        swipes: g.greetings.map((text) => newSwipe(text, 'greeting')), chosen: 0, createdAt: now + pos,
      },
    })),
  ]);
  return chat;
}

export async function listRooms(db) {
  const rows = await db.getAll('chats');
  return rows.filter(isRoom).sort((a, b) => (b.updatedAt || 0) - (a.updatedAt || 0));
}

// A reply as shown: without the leading space of a turn the prompt opened with the speaker's
// name, and without that "Name:" should the model write it again.
export function withoutName(text, name) {
  const s = String(text ?? '').replace(/^\s+/, '');
  const head = s.slice(0, name.length + 1);
  if (name && head.toLowerCase() === `${name.toLowerCase()}:`) return s.slice(name.length + 1).replace(/^[ \t]+/, '');
  return s;
}
