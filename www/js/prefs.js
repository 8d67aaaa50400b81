// The user's settings, kept in the "settings" store: personas, sampling, context size,
// theme and safety. Every value read back is checked, since a backup file can say anything.
// The sampling settings' ranges and defaults are the engine's (crates/engine/src/
// reply_settings.rs): here only the numbers the person set are kept; the engine holds each
// to its range when a reply uses it, and one not set takes its default there.
import { isBackendChoice } from './backend-choice.js';
import { DEFAULT_PERSONA, checkPersonas } from './personas.js';
import { DEFAULT_SAFETY, checkSafety } from './safety.js';

export const DEFAULT_PREFS = Object.freeze({
  persona: Object.freeze({ name: 'User', description: '' }),
  sampling: Object.freeze({}),
  context: 4096,
  // Replies keep to the writing systems the chat uses (the engine's script guard).
  keepScripts: true,
  theme: 'system',
  backend: 'auto',
  personas: Object.freeze([DEFAULT_PERSONA]),
  defaultPersona: DEFAULT_PERSONA.id,
  safety: DEFAULT_SAFETY,
});

export const SAMPLING = ['temperature', 'top_p', 'top_k', 'min_p', 'repeat_penalty', 'max_tokens'];
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
  for (const key of SAMPLING) {
    const v = sampling[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.sampling[key] = v;
  }
  return out;
}

// The prompt settings a reply's request carries from the user's settings (chats, rooms,
// the editor's Try it and Check); `chatSeed` fixes the chat's macros.
export function promptSettings(prefs, chatSeed) {
  return { context_tokens: prefs.context, chat_seed: chatSeed, keep_scripts: prefs.keepScripts };
}

// A reply's options from the sampling settings; `fixed` (a page's ?max_tokens= and ?seed=
// hooks, a widget's attributes) wins where given. A seed not fixed is drawn for each reply.
export function replyOptions(prefs, fixed = {}) {
  const s = prefs.sampling;
  return {
    temperature: s.temperature, top_p: s.top_p, top_k: s.top_k, min_p: s.min_p, repeat_penalty: s.repeat_penalty,
    max_tokens: fixed.maxTokens ?? s.max_tokens,
    seed: fixed.seed ?? Math.floor(Math.random() * 0xffffffff),
  };
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
