// The structured profile (crates/characters profile.rs): attributes, behaviours and traits,
// kept in the card under extensions.kindred.profile. Rust compiles it into card text; the
// editor shows that text live and, when asked, writes it into the description and
// personality.
import { el, field, checkbox, splitLines } from './editor-dom.js';
import { TextList } from './editor-list.js';

const LISTS = [
  ['interests', 'Interests'],
  ['viewpoints', 'Viewpoints'],
  ['experiences', 'Experiences'],
  ['achievements', 'Achievements'],
  ['relationships', 'Relationships'],
];
const BEHAVIOURS = [
  ['linguistic_style', 'Speaking style', 'Word choice, sentence length, favourite expressions'],
  ['emotional_expression', 'Emotional expression', 'How feelings show'],
  ['interaction_patterns', 'With others', 'How the character treats the person they talk to'],
];

const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const strings = (v) => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);

export class ProfileEditor {
  // deps: {tools: the wasm card module, onChange()}
  constructor(deps) {
    this.d = deps;
    this.original = {};
    this.root = el('div', 'ed-profile');
    const intro = el('p', 'ed-hint', 'Describe who the character is, piece by piece. Lists take one item a line.');
    this.use = checkbox('Write the description and personality from this profile');
    this.use.control.addEventListener('change', () => deps.onChange());
    this.identity = field('Identity', { max: 400, placeholder: 'a retired lighthouse keeper on Gull Rock' });
    this.lists = Object.fromEntries(LISTS.map(([key, label]) => [key, field(label, { rows: 3 })]));
    this.behaviours = Object.fromEntries(BEHAVIOURS.map(([key, label, hint]) => [key, field(label, { rows: 2, placeholder: hint })]));
    const traitsTitle = el('h4', 'ed-subtitle', 'Traits');
    const traitsHint = el('p', 'ed-hint', 'Short statements in the character\'s own words: "I explain with examples before rules."');
    this.traits = new TextList({ itemLabel: 'Trait', addText: 'Add trait', max: 240, onChange: () => deps.onChange() });
    for (const f of [this.identity, ...Object.values(this.lists), ...Object.values(this.behaviours)]) {
      f.control.addEventListener('input', () => deps.onChange());
    }
    const grid = el('div', 'ed-grid');
    grid.append(...Object.values(this.lists).map((f) => f.wrap));
    const compiledTitle = el('h4', 'ed-subtitle', 'Compiled text');
    this.compiled = el('div', 'ed-compiled');
    this.compiled.setAttribute('aria-label', 'Compiled profile text');
    this.issues = el('ul', 'ed-issues');
    this.root.append(intro, this.use.wrap, this.identity.wrap, grid,
      ...Object.values(this.behaviours).map((f) => f.wrap), traitsTitle, traitsHint, this.traits.root,
      compiledTitle, this.compiled, this.issues);
  }

  load(profile, compiles) {
    const p = obj(profile);
    this.original = p;
    const a = obj(p.attributes);
    const b = obj(p.behaviours);
    this.identity.control.value = typeof a.identity === 'string' ? a.identity : '';
    for (const [key] of LISTS) this.lists[key].control.value = strings(a[key]).join('\n');
    for (const [key] of BEHAVIOURS) this.behaviours[key].control.value = typeof b[key] === 'string' ? b[key] : '';
    this.traits.set(strings(p.traits));
    this.use.control.checked = compiles;
  }

  get compiles() {
    return this.use.control.checked;
  }

  // The profile as edited; keys this form does not show are kept as they came.
  get value() {
    const p = this.original;
    const attributes = { ...obj(p.attributes), identity: this.identity.control.value.trim() };
    for (const [key] of LISTS) attributes[key] = splitLines(this.lists[key].control.value);
    const behaviours = { ...obj(p.behaviours) };
    for (const [key] of BEHAVIOURS) behaviours[key] = this.behaviours[key].control.value.trim();
    return { ...p, attributes, behaviours, traits: this.traits.values };
  }

  get isEmpty() {
    const v = this.value;
    return !v.attributes.identity && LISTS.every(([k]) => !v.attributes[k].length)
      && BEHAVIOURS.every(([k]) => !v.behaviours[k]) && !v.traits.length;
  }

  // Compiles the profile in Rust: {description, personality, issues}; shows the text.
  compile() {
    const out = JSON.parse(this.d.tools.compile_profile(JSON.stringify(this.value)));
    const parts = [['Description', out.description], ['Personality', out.personality]]
      .filter(([, text]) => text)
      .flatMap(([label, text]) => [el('h5', '', label), el('p', 'ed-compiled-text', text)]);
    this.compiled.replaceChildren(...(parts.length ? parts : [el('p', 'ed-hint', 'Nothing yet: fill in a field above.')]));
    const issues = this.isEmpty ? [] : out.issues;
    this.issues.replaceChildren(...issues.map((t) => el('li', '', t)));
    return out;
  }
}
