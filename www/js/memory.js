// A chat's memory as one record: facts the user pinned, rolling summaries of history that
// left the context window (each covering a span of message ids, newest last and cumulative),
// and what went into the prompt of the last reply. Pure functions: the store and the panel
// call them, and tests run them in Node.

export const MAX_PINS = 1000;
export const MAX_PIN_CHARS = 2000;
export const MAX_SUMMARY_CHARS = 4000;
const MAX_SUMMARIES = 500;
const MAX_USED = 64;

export function emptyMemory(chatId) {
  return { chatId, pinned: [], summaries: [], nextPin: 0, lastUsed: null };
}

const isText = (v) => typeof v === 'string';
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const idText = (v) => (isText(v) || Number.isFinite(v) ? String(v) : null);

// A record from storage or a backup file, reduced to what the app understands; null when it
// is not one.
export function checkMemory(raw) {
  if (!isObject(raw) || !isText(raw.chatId) || !raw.chatId) return null;
  const mem = emptyMemory(raw.chatId);
  const list = (v) => (Array.isArray(v) ? v : []);
  mem.pinned = list(raw.pinned)
    .filter((p) => isObject(p) && isText(p.id) && isText(p.text) && p.text.trim())
    .slice(0, MAX_PINS)
    .map((p) => ({
      id: p.id,
      text: p.text.slice(0, MAX_PIN_CHARS),
      sourceId: idText(p.sourceId),
      createdAt: Number(p.createdAt) || 0,
    }));
  mem.summaries = list(raw.summaries)
    .filter((s) => isObject(s) && isText(s.text) && Array.isArray(s.messageIds) && s.messageIds.length)
    .slice(-MAX_SUMMARIES)
    .map((s) => {
      const messageIds = s.messageIds.map(idText).filter((id) => id !== null);
      return {
        text: s.text.slice(0, MAX_SUMMARY_CHARS),
        fromId: messageIds[0],
        toId: messageIds[messageIds.length - 1],
        messageIds,
        createdAt: Number(s.createdAt) || 0,
      };
    })
    .filter((s) => s.messageIds.length);
  const seq = Math.max(0, ...mem.pinned.map((p) => Number(p.id.replace(/^p/, '')) || 0));
  mem.nextPin = Math.max(Number.isSafeInteger(raw.nextPin) ? raw.nextPin : 0, seq);
  if (isObject(raw.lastUsed) && Array.isArray(raw.lastUsed.items)) {
    mem.lastUsed = { at: Number(raw.lastUsed.at) || 0, items: checkUsed(raw.lastUsed.items) };
  }
  return mem;
}

// What the worker reported as used, kept to known kinds and plain text.
export function checkUsed(items) {
  return (Array.isArray(items) ? items : [])
    .filter((u) => isObject(u) && ['pinned', 'summary', 'message'].includes(u.kind) && isText(u.text))
    .slice(0, MAX_USED)
    .map((u) => ({ kind: u.kind, id: idText(u.id) ?? '', text: u.text }));
}

// Returns the new pin, or throws when there is nothing to pin or no room.
export function addPin(mem, text, sourceId = null) {
  const clean = String(text ?? '').trim().slice(0, MAX_PIN_CHARS);
  if (!clean) throw new Error('There is nothing to remember in an empty text.');
  if (mem.pinned.length >= MAX_PINS) throw new Error(`A chat keeps at most ${MAX_PINS} pinned memories.`);
  mem.nextPin += 1;
  const pin = { id: `p${mem.nextPin}`, text: clean, sourceId: sourceId === null ? null : String(sourceId), createdAt: Date.now() };
  mem.pinned.push(pin);
  return pin;
}

export function editPin(mem, id, text) {
  const pin = mem.pinned.find((p) => p.id === id);
  const clean = String(text ?? '').trim().slice(0, MAX_PIN_CHARS);
  if (!pin || !clean) return false;
  pin.text = clean;
  return true;
}

export function removePin(mem, id) {
  const before = mem.pinned.length;
  mem.pinned = mem.pinned.filter((p) => p.id !== id);
  return mem.pinned.length !== before;
}

// A message changed or went away: the first summary that covered it and every later one
// (each was written on top of the one before) are dropped. Returns how many.
export function invalidate(mem, messageId) {
  const id = String(messageId);
  const first = mem.summaries.findIndex((s) => s.messageIds.includes(id));
  if (first < 0) return 0;
  const removed = mem.summaries.length - first;
  mem.summaries = mem.summaries.slice(0, first);
  return removed;
}

// A summary the engine wrote for a span; refused when it does not continue the newest one
// (the chat changed while it was being written).
export function addSummary(mem, { text, message_ids: messageIds }) {
  const clean = cleanSummary(text);
  const ids = Array.isArray(messageIds) ? messageIds.map(String) : [];
  if (!clean || !ids.length) return null;
  if (mem.summaries.some((s) => s.messageIds.some((id) => ids.includes(id)))) return null;
  const summary = { text: clean, fromId: ids[0], toId: ids[ids.length - 1], messageIds: ids, createdAt: Date.now() };
  mem.summaries = [...mem.summaries, summary].slice(-MAX_SUMMARIES);
  return summary;
}

// Small models like to label their answer; the label is not part of the story.
export function cleanSummary(text) {
  let t = String(text ?? '').trim();
  t = t.replace(/^(updated summary|summary)\s*:\s*/i, '');
  return t.slice(0, MAX_SUMMARY_CHARS).trim();
}

export function setLastUsed(mem, items) {
  mem.lastUsed = { at: Date.now(), items: checkUsed(items) };
}

// The memory part of a prompt request (see crates/web/src/memory.rs).
export function memoryRequest(mem, history, summarise = true) {
  const latest = mem?.summaries[mem.summaries.length - 1];
  return {
    message_ids: history.map((m) => String(m.id)),
    pinned: (mem?.pinned || []).map((p) => ({ id: p.id, text: p.text })),
    summary: latest ? { text: latest.text, to_id: latest.toId } : null,
    summarise,
  };
}

// Positions (1-based) of a summary's first and last message in the chat, for people.
export function spanLabel(summary, messages) {
  const at = (id) => messages.findIndex((m) => String(m.id) === id) + 1;
  const from = at(summary.fromId);
  const to = at(summary.toId);
  if (!from || !to) return `${summary.messageIds.length} messages`;
  return from === to ? `Message ${from}` : `Messages ${from}–${to}`;
}
