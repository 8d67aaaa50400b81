// Read-aloud settings, kept in the "settings" store under the key "voice": whether replies
// are read aloud as they finish, the default voice, and a voice per character (by the
// browser's voiceURI). Read back through checkVoicePrefs, since storage can hold anything.

const KEY = 'voice';
const MAX_URI = 300;
const MAX_CHARACTERS = 5000;

const uri = (v) => (typeof v === 'string' ? v.slice(0, MAX_URI) : '');

export function checkVoicePrefs(raw) {
  const src = raw && typeof raw === 'object' ? raw : {};
  const characters = {};
  const entries = src.characters && typeof src.characters === 'object' ? Object.entries(src.characters) : [];
  for (const [id, value] of entries.slice(0, MAX_CHARACTERS)) {
    if (id.length <= 200 && uri(value)) characters[id] = uri(value);
  }
  return { enabled: src.enabled === true, voice: uri(src.voice), characters };
}

export async function loadVoicePrefs(db) {
  if (!db) return checkVoicePrefs(null);
  const row = await db.get('settings', KEY);
  return checkVoicePrefs(row?.value);
}

export async function saveVoicePrefs(db, prefs) {
  const value = checkVoicePrefs(prefs);
  await db.put('settings', { key: KEY, value });
  return value;
}

// A copy with `characterId`'s voice set ('' removes it).
export function withCharacterVoice(prefs, characterId, voiceUri) {
  const characters = { ...prefs.characters };
  if (voiceUri) characters[characterId] = voiceUri;
  else delete characters[characterId];
  return { ...prefs, characters };
}
