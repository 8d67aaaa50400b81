// Safety on the page: the stored setting (level and the word lists the user edited) and
// the checks, which run in Rust (crates/web/src/safety.rs) on the page's own copy of the
// module. The actions per category and level live in Rust, so a setting read back from a
// backup can change the lists but never what a level does.
import { rustTools } from './wasm.js';

export const SAFETY_LEVELS = ['off', 'standard', 'strict'];
export const SAFETY_CATEGORIES = Object.freeze([
  ['sexual', 'Sexual content'],
  ['violence', 'Violence'],
  ['self_harm', 'Self-harm'],
  ['hate', 'Hate'],
  ['personal_data', 'Personal data'],
]);
export const DEFAULT_SAFETY = Object.freeze({ level: 'standard', lists: Object.freeze({}) });
const MAX_TERMS = 500;

const terms = (v) => (Array.isArray(v) ? v.filter((t) => typeof t === 'string').slice(0, MAX_TERMS).map((t) => t.slice(0, 64)) : []);

export function checkSafety(raw) {
  const src = raw && typeof raw === 'object' ? raw : {};
  const lists = {};
  const rawLists = src.lists && typeof src.lists === 'object' ? src.lists : {};
  for (const [key] of SAFETY_CATEGORIES) {
    const l = rawLists[key];
    if (l && typeof l === 'object') lists[key] = { terms: terms(l.terms), strict_terms: terms(l.strict_terms) };
  }
  return { level: SAFETY_LEVELS.includes(src.level) ? src.level : DEFAULT_SAFETY.level, lists };
}

// A word list as typed: one term a line or comma-separated.
export function parseTerms(text) {
  return String(text).split(/[\n,]/).map((t) => t.trim()).filter(Boolean);
}

let tools = null;
// Starts loading the Rust checks; the page calls it early so the first message is not held up.
export function loadSafety() {
  return rustTools().then((t) => { tools = t; return t; });
}

// `{settings: {level, lists (every category filled in)}, rejected: [why]}`.
export async function normalizeSafety(settings) {
  const t = await loadSafety();
  return JSON.parse(t.safety_settings(JSON.stringify(settings ?? null)));
}

// `{action: null|'warn'|'mask'|'block', text, message}` for text going in `direction`
// ("input" or "output"), or null while the checks are still loading (level off needs none).
export function checkText(settings, text, direction) {
  if (!settings || settings.level === 'off') return { action: null, text, message: '' };
  if (!tools) {
    loadSafety().catch(() => {});
    return null;
  }
  return JSON.parse(tools.safety_check(JSON.stringify(settings), text, direction));
}

// `{is_break, ai_disclaimers, user_line_at, truncate_at}`, or null while loading.
export function personaBreak(text, userName) {
  if (!tools) return null;
  return JSON.parse(tools.safety_persona_break(text, userName));
}
