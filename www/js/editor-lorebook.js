// The card's own lorebook (character_book): entries whose content enters the prompt when
// one of their keys comes up in the chat. Fields the form does not show (extensions, ids,
// positions, the book's own settings) are kept as the card had them.
import { el, button, field, checkbox, splitList } from './editor-dom.js';

const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const strings = (v) => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);
const int = (v, fallback) => {
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
};

export class LorebookEditor {
  // deps: {onChange()}
  constructor(deps) {
    this.d = deps;
    this.book = null;
    this.entries = [];
    this.root = el('div', 'ed-lorebook');
    this.list = el('div', 'ed-entries');
    this.add = button('Add entry', 'ghost small');
    this.add.addEventListener('click', () => {
      const last = this.entries[this.entries.length - 1];
      this.entries.push({
        keys: [], secondary_keys: [], content: '', enabled: true, constant: false,
        insertion_order: last ? int(last.insertion_order, 0) + 10 : 100, extensions: {},
      });
      this.render();
      this.d.onChange();
      this.list.lastElementChild?.querySelector('input')?.focus();
    });
    this.root.append(
      el('p', 'ed-hint', 'Facts the character recalls when a key word comes up in the chat. Keys are separated by commas.'),
      this.list, this.add,
    );
  }

  load(book) {
    this.book = book && typeof book === 'object' ? book : null;
    this.entries = (Array.isArray(this.book?.entries) ? this.book.entries : []).map((e) => ({ ...obj(e) }));
    this.render();
  }

  // The book for the card: null when it has no entries and the card had none.
  get value() {
    if (!this.entries.length && !this.book) return null;
    return { ...(this.book || { extensions: {} }), entries: this.entries.map((e) => ({ ...e })) };
  }

  render() {
    this.list.replaceChildren(...this.entries.map((entry, i) => this.entryForm(entry, i)));
    if (!this.entries.length) this.list.append(el('p', 'empty-state', 'No entries yet.'));
  }

  entryForm(entry, i) {
    const n = i + 1;
    const set = el('fieldset', 'ed-entry');
    const legend = el('legend', '', `Entry ${n}`);
    const changed = () => this.d.onChange();
    const name = field('Name', { max: 200, value: entry.name ?? '', placeholder: 'For you only, never sent' });
    name.control.addEventListener('input', () => { entry.name = name.control.value; changed(); });
    const keys = field('Keys', { value: strings(entry.keys).join(', '), placeholder: 'lighthouse, lamp' });
    keys.control.addEventListener('input', () => { entry.keys = splitList(keys.control.value); changed(); });
    const secondary = field('Secondary keys', {
      value: strings(entry.secondary_keys).join(', '),
      hint: 'When set, one of these must appear too.',
    });
    secondary.control.addEventListener('input', () => {
      entry.secondary_keys = splitList(secondary.control.value);
      entry.selective = entry.secondary_keys.length > 0;
      changed();
    });
    const content = field('Content', { rows: 3, value: typeof entry.content === 'string' ? entry.content : '' });
    content.control.addEventListener('input', () => { entry.content = content.control.value; changed(); });
    const enabled = checkbox('Enabled', entry.enabled !== false);
    enabled.control.addEventListener('change', () => { entry.enabled = enabled.control.checked; changed(); });
    const constant = checkbox('Always included', entry.constant === true);
    constant.control.addEventListener('change', () => { entry.constant = constant.control.checked; changed(); });
    const order = field('Insertion order', {
      type: 'number', value: String(int(entry.insertion_order, 0)), hint: 'Lower comes first in the prompt.',
    });
    order.control.addEventListener('input', () => { entry.insertion_order = int(order.control.value, 0); changed(); });
    const priority = field('Priority', {
      type: 'number', value: entry.priority === undefined || entry.priority === null ? '' : String(entry.priority),
      hint: 'When space runs out, lower priority goes first.',
    });
    priority.control.addEventListener('input', () => {
      const v = priority.control.value.trim();
      if (v === '') delete entry.priority;
      else entry.priority = int(v, 0);
      changed();
    });
    const remove = button('Delete entry', 'ghost small danger', `Delete entry ${n}`);
    remove.addEventListener('click', () => {
      this.entries.splice(i, 1);
      this.render();
      changed();
      (this.list.querySelectorAll('.ed-entry')[Math.min(i, this.entries.length - 1)]?.querySelector('input') || this.add).focus();
    });
    const flags = el('div', 'ed-flags');
    flags.append(enabled.wrap, constant.wrap);
    const numbers = el('div', 'ed-grid');
    numbers.append(order.wrap, priority.wrap);
    set.append(legend, name.wrap, keys.wrap, secondary.wrap, content.wrap, flags, numbers, remove);
    return set;
  }
}
