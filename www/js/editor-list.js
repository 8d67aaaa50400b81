// An ordered list of texts the creator can add to, remove from and reorder: alternate
// greetings, profile traits. Each item is labelled with its number, so every button has a
// name that says which item it acts on.
import { el, button, field } from './editor-dom.js';

export class TextList {
  // opts: {itemLabel: 'Alternate greeting', addText, rows, max, placeholder, onChange()}
  constructor(opts, items = []) {
    this.o = opts;
    this.items = items.map(String);
    this.root = el('div', 'ed-list');
    this.list = el('ol', 'ed-list-items');
    this.add = button(opts.addText, 'ghost small');
    this.add.addEventListener('click', () => {
      this.items.push('');
      this.render();
      this.changed();
      this.list.lastElementChild?.querySelector('textarea, input')?.focus();
    });
    this.root.append(this.list, this.add);
    this.render();
  }

  get values() {
    return this.items.map((s) => s.trim()).filter(Boolean);
  }

  set(items) {
    this.items = items.map(String);
    this.render();
  }

  changed() {
    this.o.onChange?.();
  }

  move(i, by, focusSelector) {
    const j = i + by;
    if (j < 0 || j >= this.items.length) return;
    [this.items[i], this.items[j]] = [this.items[j], this.items[i]];
    this.render();
    this.changed();
    // Focus follows the item, so pressing again keeps moving it.
    this.list.children[j]?.querySelector(focusSelector)?.focus();
  }

  render() {
    const name = this.o.itemLabel;
    const lower = name.toLowerCase();
    this.list.replaceChildren(...this.items.map((text, i) => {
      const li = el('li', 'ed-list-item');
      const n = i + 1;
      const { wrap, control } = field(`${name} ${n}`, {
        rows: this.o.rows, max: this.o.max, placeholder: this.o.placeholder, value: text,
      });
      control.addEventListener('input', () => {
        this.items[i] = control.value;
        this.changed();
      });
      const tools = el('div', 'ed-item-tools');
      const up = button('↑', 'ghost small ed-up', `Move ${lower} ${n} up`);
      const down = button('↓', 'ghost small ed-down', `Move ${lower} ${n} down`);
      const remove = button('Remove', 'ghost small danger', `Remove ${lower} ${n}`);
      up.disabled = i === 0;
      down.disabled = i === this.items.length - 1;
      up.addEventListener('click', () => this.move(i, -1, '.ed-up'));
      down.addEventListener('click', () => this.move(i, 1, '.ed-down'));
      remove.addEventListener('click', () => {
        this.items.splice(i, 1);
        this.render();
        this.changed();
        (this.list.children[Math.min(i, this.items.length - 1)]?.querySelector('textarea, input') || this.add).focus();
      });
      tools.append(up, down, remove);
      li.append(wrap, tools);
      return li;
    }));
  }
}
