// Personas: who the user is in a chat. Several are kept in the settings (prefs.personas),
// one is the default; a chat may name its own (chat.personaId). Pure functions, so the
// checks run in Node tests too.

export const MAX_PERSONAS = 50;
export const DEFAULT_PERSONA = Object.freeze({ id: 'default', name: 'User', description: '' });

const text = (v, max) => (typeof v === 'string' ? v.slice(0, max) : '');

function checkPersona(raw, id) {
  const src = raw && typeof raw === 'object' ? raw : {};
  return {
    id,
    name: text(src.name, 64).trim() || DEFAULT_PERSONA.name,
    description: text(src.description, 4000),
  };
}

// {personas, defaultPersona} from stored prefs. Settings from before personas held one
// `persona`: it becomes the list's only (and default) entry.
export function checkPersonas(src) {
  const raw = Array.isArray(src?.personas) && src.personas.length ? src.personas : [{ ...src?.persona, id: DEFAULT_PERSONA.id }];
  const personas = [];
  const seen = new Set();
  for (const p of raw.slice(0, MAX_PERSONAS)) {
    let id = text(p?.id, 64).trim();
    if (!id || seen.has(id)) id = `persona-${personas.length + 1}`;
    while (seen.has(id)) id += '-';
    seen.add(id);
    personas.push(checkPersona(p, id));
  }
  const defaultPersona = seen.has(src?.defaultPersona) ? src.defaultPersona : personas[0].id;
  return { personas, defaultPersona };
}

// The persona a chat speaks as: its own if it still exists, else the default.
export function chatPersona(prefs, personaId) {
  const list = prefs.personas || [];
  return list.find((p) => p.id === personaId)
    || list.find((p) => p.id === prefs.defaultPersona)
    || prefs.persona
    || DEFAULT_PERSONA;
}

// An id no persona in `personas` has.
export function newPersonaId(personas, now = Date.now()) {
  const ids = new Set(personas.map((p) => p.id));
  let n = now;
  while (ids.has(`persona-${n.toString(36)}`)) n += 1;
  return `persona-${n.toString(36)}`;
}

// Name and description only: what the prompt needs.
export function promptPersona(p) {
  return { name: p.name, description: p.description };
}
