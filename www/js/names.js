// Names in card text shown on the page: {{char}} / {{user}} (and the older <BOT> / <USER>).
// The prompt itself goes through the Rust macro expander; this is for display only.

export function substituteNames(text, charName, userName) {
  return String(text ?? '')
    .replace(/\{\{\s*char\s*\}\}|<BOT>/gi, charName)
    .replace(/\{\{\s*user\s*\}\}|<USER>/gi, userName);
}

// A stable 32-bit seed for a chat, so its prompt's macros stay the same from turn to turn
// (and the engine can reuse the cached prefix).
export function chatSeed(id) {
  let h = 0x811c9dc5;
  for (const ch of String(id)) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// A file name from a character name: letters, digits, dashes.
export function fileStem(name) {
  const stem = String(name ?? '').normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
  return (stem || 'character').slice(0, 60);
}
