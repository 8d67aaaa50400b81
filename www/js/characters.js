// Picks the character for the chat page: the first starter card listed in
// characters/index.json, or the built-in fallback when there is none or it cannot be read.
// Cards come from strangers, so every field is checked for type and capped in length.
import { FALLBACK_CHARACTER } from './fallback-character.js';

const INDEX_URL = 'characters/index.json';
const MAX_CARD_BYTES = 2 * 1024 * 1024;
const MAX_FIELD = 32 * 1024;
const FIELDS = ['description', 'personality', 'scenario', 'first_mes', 'mes_example',
  'system_prompt', 'creator_notes'];

const text = (value, max = MAX_FIELD) => (typeof value === 'string' ? value.slice(0, max) : '');

// Only same-origin http(s) URLs may be used for avatars and card files.
export function sameOriginUrl(path, base) {
  if (typeof path !== 'string' || path === '') return null;
  try {
    const url = new URL(path, base);
    return url.origin === new URL(base).origin ? url.href : null;
  } catch {
    return null;
  }
}

// Accepts V3 / V2 cards ({spec, data:{...}}) and V1 cards (fields at the top level).
export function characterFromCard(card, entry = {}) {
  if (!card || typeof card !== 'object') throw new Error('The card is not a JSON object.');
  const data = card.data && typeof card.data === 'object' ? card.data : card;
  const name = text(data.name, 200).trim() || text(entry.name, 200).trim();
  if (!name) throw new Error('The card has no name.');
  const out = { name, data: {} };
  for (const field of FIELDS) out.data[field] = text(data[field]);
  const tags = Array.isArray(data.tags) ? data.tags : Array.isArray(entry.tags) ? entry.tags : [];
  out.tags = tags.filter((t) => typeof t === 'string').slice(0, 12).map((t) => t.slice(0, 40));
  out.id = text(entry.id, 100) || name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return out;
}

function tagline(character) {
  const notes = character.data.creator_notes.split('\n')[0].trim();
  if (notes && notes.length <= 80) return notes;
  return character.tags.slice(0, 3).join(' · ');
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const body = await response.text();
  if (body.length > MAX_CARD_BYTES) throw new Error(`${url} is too large.`);
  return JSON.parse(body);
}

export async function loadCharacter(pageUrl = location.href) {
  try {
    const indexUrl = new URL(INDEX_URL, pageUrl).href;
    const index = await fetchJson(indexUrl);
    const list = Array.isArray(index) ? index : Array.isArray(index?.characters) ? index.characters : [];
    const entry = list.find((e) => e && typeof e === 'object' && typeof e.file === 'string');
    if (!entry) return { ...FALLBACK_CHARACTER };
    const cardUrl = sameOriginUrl(entry.file, indexUrl);
    if (!cardUrl) throw new Error('The card file is not on this site.');
    const character = characterFromCard(await fetchJson(cardUrl), entry);
    character.avatar = sameOriginUrl(entry.avatar, indexUrl);
    character.tagline = tagline(character);
    return character;
  } catch (err) {
    console.warn(`Starter character unavailable, using the built-in one: ${err.message}`);
    return { ...FALLBACK_CHARACTER };
  }
}
