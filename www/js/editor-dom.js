// Building blocks for the character editor's form. Every control gets a visible label (its
// accessible name); card text only ever reaches the page as values and textContent.
let serial = 0;
const uid = (stem) => `ed-${stem}-${++serial}`;

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function button(text, className = 'ghost', label = '') {
  const b = el('button', className, text);
  b.type = 'button';
  if (label) b.setAttribute('aria-label', label);
  return b;
}

// A button-looking label around a hidden file input: `onFile(file)` with the picked file,
// and the input cleared so the same file can be picked again.
export function filePicker(text, accept, onFile) {
  const label = el('label', 'button ghost small', text);
  const input = el('input', 'visually-hidden');
  input.type = 'file';
  input.accept = accept;
  label.append(input);
  input.addEventListener('change', () => {
    const [file] = input.files;
    input.value = '';
    if (file) onFile(file);
  });
  return label;
}

// A labelled input or textarea. opts: {rows, hint, type, max, required, placeholder, value}
export function field(labelText, opts = {}) {
  const id = uid('f');
  const wrap = el('div', 'ed-field');
  const label = el('label', '', labelText);
  label.htmlFor = id;
  const control = opts.rows ? el('textarea') : el('input');
  control.id = id;
  if (opts.rows) control.rows = opts.rows;
  else control.type = opts.type || 'text';
  if (opts.max) control.maxLength = opts.max;
  if (opts.required) control.required = true;
  if (opts.placeholder) control.placeholder = opts.placeholder;
  control.autocomplete = 'off';
  control.spellcheck = Boolean(opts.rows);
  control.value = opts.value ?? '';
  wrap.append(label, control);
  if (opts.hint) {
    const hint = el('p', 'ed-hint', opts.hint);
    hint.id = uid('h');
    control.setAttribute('aria-describedby', hint.id);
    wrap.append(hint);
  }
  return { wrap, control };
}

export function checkbox(labelText, checked = false) {
  const label = el('label', 'ed-check');
  const control = el('input');
  control.type = 'checkbox';
  control.checked = checked;
  label.append(control, document.createTextNode(` ${labelText}`));
  return { wrap: label, control };
}

// A titled group of fields, collapsible with a native <details>.
export function section(title, open = true) {
  const details = el('details', 'ed-section');
  details.open = open;
  const summary = el('summary', '', title);
  details.append(summary);
  return details;
}

// Comma-separated text <-> a list of trimmed, non-empty strings.
export function splitList(text) {
  return String(text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

// One item a line <-> a list.
export function splitLines(text) {
  return String(text ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
}
