// The user's settings, kept in the "settings" store: personas, sampling, context size,
// theme and safety. Every value read back is checked, since a backup file can say anything.
import { isBackendChoice } from './backend-choice.js';
import { DEFAULT_PERSONA, checkPersonas } from './personas.js';
import { DEFAULT_SAFETY, checkSafety } from './safety.js';

export const DEFAULT_PREFS = Object.freeze({
  persona: Object.freeze({ name: 'User', description: '' }),
  sampling: Object.freeze({ temperature: 0.8, top_p: 0.95, top_k: 40, min_p: 0.05, repeat_penalty: 1.1, max_tokens: 120 }),
  context: 4096,
  // Replies keep to the writing systems the chat uses (the engine's script guard).
  keepScripts: true,
  theme: 'system',
  backend: 'auto',
  personas: Object.freeze([DEFAULT_PERSONA]),
  defaultPersona: DEFAULT_PERSONA.id,
  safety: DEFAULT_SAFETY,
});

const NUMBERS = {
  temperature: [0, 2],
  top_p: [0, 1],
  top_k: [0, 200],
  min_p: [0, 1],
  repeat_penalty: [1, 2],
  max_tokens: [8, 1024],
};
export const CONTEXT_RANGE = [256, 8192];
const THEMES = ['system', 'light', 'dark'];

const clamp = (v, [min, max], fallback) => {
  const n = Number(v);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
};

export function checkPrefs(raw) {
  const src = raw && typeof raw === 'object' ? raw : {};
  const sampling = src.sampling && typeof src.sampling === 'object' ? src.sampling : {};
  // The persona list decides; `persona` is the default one, kept for code that knows one.
  const { personas, defaultPersona } = checkPersonas(src);
  const { name, description } = personas.find((p) => p.id === defaultPersona);
  const out = {
    persona: { name, description },
    sampling: {},
    context: Math.round(clamp(src.context, CONTEXT_RANGE, DEFAULT_PREFS.context)),
    keepScripts: typeof src.keepScripts === 'boolean' ? src.keepScripts : DEFAULT_PREFS.keepScripts,
    theme: THEMES.includes(src.theme) ? src.theme : DEFAULT_PREFS.theme,
    backend: isBackendChoice(src.backend) ? src.backend : DEFAULT_PREFS.backend,
    personas,
    defaultPersona,
    safety: checkSafety(src.safety),
  };
  for (const [key, range] of Object.entries(NUMBERS)) {
    out.sampling[key] = clamp(sampling[key], range, DEFAULT_PREFS.sampling[key]);
  }
  out.sampling.top_k = Math.round(out.sampling.top_k);
  out.sampling.max_tokens = Math.round(out.sampling.max_tokens);
  return out;
}

// The prompt settings a reply's request carries from the user's settings (chats, rooms,
// the editor's Try it and Check); `chatSeed` fixes the chat's macros.
export function promptSettings(prefs, chatSeed) {
  return { context_tokens: prefs.context, chat_seed: chatSeed, keep_scripts: prefs.keepScripts };
}

export async function loadPrefs(db) {
  if (!db) return checkPrefs(null);
  const row = await db.get('settings', 'prefs');
  return checkPrefs(row?.value);
}

export async function savePrefs(db, prefs) {
  const value = checkPrefs(prefs);
  await db.put('settings', { key: 'prefs', value });
  return value;
}

export function applyTheme(theme, root = document.documentElement) {
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  else delete root.dataset.theme;
}
