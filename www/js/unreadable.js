// What the page says about records it left out: damaged ones, or ones a newer version of
// Kindred saved in a shape this one does not know. The store (crates/web/src/store/readable.rs)
// decides which and keeps them untouched; this only words the notice.

const NAMES = {
  characters: ['character', 'characters'],
  chats: ['chat', 'chats'],
  messages: ['message', 'messages'],
  memories: ['chat memory', 'chat memories'],
  settings: ['setting', 'settings'],
};

// counts: db.unreadable() ({store: n}); told: the counts already reported this visit, updated.
// Returns the notice for what is new, or null.
export function unreadableNotice(counts, told) {
  const parts = [];
  for (const [store, n] of Object.entries(counts || {})) {
    if (!(n > (told[store] || 0))) continue;
    told[store] = n;
    const [one, many] = NAMES[store] || [store, store];
    parts.push(`${n} ${n === 1 ? one : many}`);
  }
  if (!parts.length) return null;
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0];
  const verb = parts.length === 1 && list.startsWith('1 ') ? 'was' : 'were';
  return `${list} could not be read (damaged, or saved by a newer version of Kindred) and ${verb} left out. ` +
    'They stay in this browser\'s storage untouched.';
}

export const NEWER_DATA = 'The data here was saved by a newer version of Kindred; this version opens what it can. ' +
  'Reload to get the newest version of the app.';
