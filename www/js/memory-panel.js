// The memory panel of a chat: pinned memories (add, edit, delete), the rolling summaries with
// the messages they cover, what went into the prompt of the last reply, and that prompt's
// whole text as the model read it. A side panel on a desktop, a sheet from the bottom on a
// phone (app.css). Every text is set as text.
import { spanLabel } from './memory.js';

const KIND_LABELS = { pinned: 'Pinned', summary: 'Summary', message: 'Recalled' };

const $ = (id) => document.getElementById(id);

function toolButton(label, aria, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'tool';
  b.textContent = label;
  b.setAttribute('aria-label', aria);
  b.title = aria;
  b.addEventListener('click', onClick);
  return b;
}

function emptyNote(text) {
  const li = document.createElement('li');
  li.className = 'memory-empty';
  li.textContent = text;
  return li;
}

export class MemoryPanel {
  // handlers: {add(text) -> bool, edit(pinId, text), remove(pinId)}
  constructor(handlers) {
    this.h = handlers;
    this.root = $('memory-panel');
    this.toggle = $('memory-toggle');
    this.pinned = $('memory-pinned');
    this.summaries = $('memory-summaries');
    this.used = $('memory-used');
    this.toggle.addEventListener('click', () => this.setOpen(this.root.hidden));
    $('memory-close').addEventListener('click', () => this.setOpen(false));
    this.root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !event.target.closest('.memory-edit')) {
        event.stopPropagation();
        this.setOpen(false);
      }
    });
    $('memory-add').addEventListener('submit', (event) => {
      event.preventDefault();
      const box = $('memory-new');
      if (box.value.trim() && this.h.add(box.value)) box.value = '';
    });
  }

  setOpen(open) {
    this.root.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    document.body.dataset.memoryOpen = String(open);
    if (open) $('memory-title').focus();
    else if (this.root.contains(document.activeElement) || document.activeElement === document.body) this.toggle.focus();
  }

  render(memory, messages) {
    this.renderPinned(memory.pinned);
    this.summaries.replaceChildren(...(memory.summaries.length
      ? memory.summaries.map((s) => this.summaryItem(s, messages))
      : [emptyNote('No summaries yet: one is written when the chat outgrows the context.')]));
    const used = memory.lastUsed?.items || [];
    this.used.replaceChildren(...(used.length
      ? used.map((u) => this.usedItem(u))
      : [emptyNote('Nothing from memory went into the last reply.')]));
  }

  // The last reply's prompt, {text, tokens}, or null (none since the chat opened).
  showPrompt(prompt) {
    const text = typeof prompt?.text === 'string' ? prompt.text : null;
    $('memory-prompt-none').hidden = text !== null;
    $('memory-prompt').hidden = text === null;
    if (text === null) return;
    const tokens = Number.isInteger(prompt.tokens) ? prompt.tokens : null;
    $('memory-prompt-summary').textContent = tokens === null ? 'What the model read' : `What the model read: ${tokens} tokens`;
    $('memory-prompt-text').textContent = text;
  }

  // A pin being edited keeps its box, text and focus: the panel is drawn again whenever the
  // chat's memory changes, which a summary written in the background does at any moment.
  renderPinned(pinned) {
    const editing = new Map([...this.pinned.querySelectorAll(':scope > li.memory-item')]
      .filter((li) => li.querySelector('.memory-edit'))
      .map((li) => [li.dataset.pinId, li]));
    const focused = document.activeElement;
    const caret = focused?.selectionStart !== undefined ? [focused.selectionStart, focused.selectionEnd] : null;
    this.pinned.replaceChildren(...(pinned.length
      ? pinned.map((p) => editing.get(String(p.id)) || this.pinItem(p))
      : [emptyNote('Nothing pinned. Pin a message with its “Pin” button, or add a fact below.')]));
    if (focused && focused !== document.activeElement && this.pinned.contains(focused)) {
      focused.focus();
      if (caret) focused.setSelectionRange(...caret);
    }
  }

  pinItem(pin) {
    const li = document.createElement('li');
    li.className = 'memory-item';
    li.dataset.pinId = pin.id;
    const text = document.createElement('p');
    text.className = 'memory-text';
    text.textContent = pin.text;
    const tools = document.createElement('div');
    tools.className = 'memory-tools';
    tools.append(
      toolButton('Edit', 'Edit memory', () => this.startEdit(li, pin)),
      toolButton('Delete', 'Delete memory', () => this.h.remove(pin.id)),
    );
    li.append(text, tools);
    return li;
  }

  startEdit(li, pin) {
    const box = document.createElement('textarea');
    box.className = 'memory-box';
    box.value = pin.text;
    box.rows = 3;
    box.maxLength = 2000;
    box.setAttribute('aria-label', 'Memory text');
    const form = document.createElement('div');
    form.className = 'memory-edit';
    // The edit ends before the change is stored: a drawing of the panel keeps only the pins
    // still being edited.
    const done = (value) => {
      const changed = value !== null && value.trim() && value !== pin.text;
      li.replaceWith(this.pinItem(changed ? { ...pin, text: value } : pin));
      if (changed) this.h.edit(pin.id, value);
    };
    const row = document.createElement('div');
    row.className = 'memory-tools';
    row.append(
      toolButton('Save', 'Save memory', () => done(box.value)),
      toolButton('Cancel', 'Cancel editing', () => done(null)),
    );
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); done(null); }
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); done(box.value); }
    });
    form.append(box, row);
    li.replaceChildren(form);
    box.focus();
  }

  summaryItem(summary, messages) {
    const li = document.createElement('li');
    li.className = 'memory-item';
    const range = document.createElement('p');
    range.className = 'memory-kind';
    range.textContent = spanLabel(summary, messages);
    const text = document.createElement('p');
    text.className = 'memory-text';
    text.textContent = summary.text;
    li.append(range, text);
    return li;
  }

  usedItem(item) {
    const li = document.createElement('li');
    li.className = 'memory-item';
    li.dataset.kind = item.kind;
    const kind = document.createElement('p');
    kind.className = 'memory-kind';
    kind.textContent = KIND_LABELS[item.kind] || item.kind;
    const text = document.createElement('p');
    text.className = 'memory-text';
    text.textContent = item.text;
    li.append(kind, text);
    return li;
  }
}
