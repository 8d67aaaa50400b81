// Renders a conversation: each message as Markdown (see markdown.js; nothing is parsed as
// HTML), with its tools: swipe between alternatives, 1–4 stars, continue, edit, delete and
// branch. The view only reports what was asked; the chat controller changes the data.
import { render as renderMarkdown } from './markdown.js';
import { currentSwipe } from './chat-store.js';

const STATUS_NOTES = {
  stopped: 'Stopped',
  interrupted: 'Interrupted',
  error: 'Failed',
};

function button(label, className, action, aria = label) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `tool ${className}`;
  b.textContent = label;
  b.dataset.action = action;
  if (aria !== label) b.setAttribute('aria-label', aria);
  b.title = aria;
  return b;
}

export function formatStats(stats) {
  if (!stats || !Number.isFinite(stats.tokens_per_s) || !stats.n_generated) return '';
  return `${stats.n_generated} tokens · ${stats.tokens_per_s.toFixed(1)} tokens/s`;
}

export class ChatView {
  // handlers: {swipe(id, dir), rate(id, stars), continue(id), edit(id, text), delete(id), branch(id),
  //   source(id): the message's text as stored, for the editor}
  constructor({ list, scroller, typing, announcer }, handlers) {
    this.list = list;
    this.scroller = scroller;
    this.typing = typing;
    this.announcer = announcer;
    this.handlers = handlers;
    this.names = { char: 'Character', user: 'You' };
    this.avatar = () => document.createElement('span');
    this.display = (text) => text;
    this.items = new Map();
    this.editing = null;
    list.addEventListener('click', (event) => this.onClick(event));
  }

  // names: {char, user}; avatar(): a fresh avatar element; display(text): text as shown.
  setContext({ names, avatar, display }) {
    this.names = names;
    this.avatar = avatar;
    this.display = display;
  }

  clear() {
    this.items.clear();
    this.editing = null;
    this.list.replaceChildren();
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // Renders the whole list. state: {busy, lastAssistantId, cutUntil}.
  render(messages, state) {
    this.clear();
    for (const m of messages) {
      const item = this.build(m, state);
      this.list.append(item);
      if (state.cutUntil !== undefined && m.id === state.cutUntil) this.list.append(this.cutMarker());
    }
  }

  cutMarker() {
    const li = document.createElement('li');
    li.className = 'cut-marker';
    li.setAttribute('role', 'separator');
    li.textContent = `Messages above this line no longer fit in ${this.names.char}'s memory.`;
    return li;
  }

  // Re-renders one message in place.
  update(message, state) {
    const old = this.items.get(message.id);
    const fresh = this.build(message, state);
    if (old?.isConnected) old.replaceWith(fresh);
    else this.list.append(fresh);
    return fresh;
  }

  // Shows a growing reply without rebuilding its tools.
  setStreamText(id, text) {
    const item = this.items.get(id);
    if (!item) return;
    const follow = this.nearBottom();
    const target = item.querySelector('.text');
    const shown = this.display(text);
    target.dataset.source = shown;
    renderMarkdown(target, shown);
    item.classList.toggle('empty', text === '');
    if (follow) this.scrollToEnd();
  }

  build(m, state) {
    const swipe = currentSwipe(m);
    const item = document.createElement('li');
    item.className = 'message';
    item.dataset.id = String(m.id);
    item.dataset.role = m.role;
    item.dataset.status = swipe.status || 'done';
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    const author = document.createElement('p');
    author.className = 'author';
    author.textContent = m.role === 'assistant' ? this.names.char : this.names.user;
    const text = document.createElement('div');
    text.className = 'text';
    // The text as written (names filled in), for copying and for tests: the rendered
    // Markdown's own textContent lacks the markup.
    const shown = this.display(swipe.text);
    text.dataset.source = shown;
    renderMarkdown(text, shown);
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent = swipe.note || STATUS_NOTES[swipe.status] || '';
    bubble.append(author, text, note);
    if (m.role === 'assistant') item.append(this.avatar());
    const body = document.createElement('div');
    body.className = 'body';
    body.append(bubble, this.tools(m, swipe, state));
    item.append(body);
    item.classList.toggle('empty', swipe.text === '');
    if (swipe.stats) {
      item.dataset.tokens = String(swipe.stats.n_generated);
      item.dataset.tokensPerSecond = Number(swipe.stats.tokens_per_s).toFixed(2);
    }
    this.items.set(m.id, item);
    return item;
  }

  tools(m, swipe, state) {
    const bar = document.createElement('div');
    bar.className = 'tools';
    const busy = Boolean(state.busy);
    const isLast = m.id === state.lastId;
    if (m.role === 'assistant') {
      const count = m.swipes.length;
      const swipes = document.createElement('span');
      swipes.className = 'swipes';
      const prev = button('‹', 'swipe-prev', 'swipe-prev', 'Previous reply');
      prev.disabled = busy || m.chosen <= 0;
      const counter = document.createElement('span');
      counter.className = 'swipe-count';
      counter.textContent = `${m.chosen + 1}/${count}`;
      const atEnd = m.chosen >= count - 1;
      const canRegenerate = isLast && !m.greeting;
      const next = button('›', 'swipe-next', 'swipe-next', atEnd && canRegenerate ? 'New reply' : 'Next reply');
      next.disabled = busy || (atEnd && !canRegenerate);
      swipes.append(prev, counter, next);
      bar.append(swipes);
      if (!m.greeting) {
        const stars = document.createElement('span');
        stars.className = 'stars';
        stars.setAttribute('role', 'group');
        stars.setAttribute('aria-label', 'Rating');
        for (let n = 1; n <= 4; n++) {
          const on = (swipe.rating || 0) >= n;
          const star = button(on ? '★' : '☆', `star${on ? ' on' : ''}`, 'rate', `Rate ${n} star${n > 1 ? 's' : ''}`);
          star.dataset.stars = String(n);
          star.setAttribute('aria-pressed', String(swipe.rating === n));
          star.disabled = busy;
          stars.append(star);
        }
        bar.append(stars);
      }
      if (isLast && !m.greeting && swipe.text) {
        const more = button('Continue', 'continue', 'continue', 'Continue this reply');
        more.disabled = busy;
        bar.append(more);
      }
    }
    for (const [label, action, aria] of [['Edit', 'edit', 'Edit'], ['Branch', 'branch', 'Branch from here'], ['Delete', 'delete', 'Delete']]) {
      const b = button(label, action, action, aria);
      b.disabled = busy;
      bar.append(b);
    }
    const stats = document.createElement('span');
    stats.className = 'stats';
    stats.textContent = formatStats(swipe.stats);
    bar.append(stats);
    return bar;
  }

  onClick(event) {
    const b = event.target.closest('button[data-action]');
    if (!b || b.disabled) return;
    const item = b.closest('li.message');
    const id = Number(item?.dataset.id);
    if (!Number.isFinite(id)) return;
    const h = this.handlers;
    switch (b.dataset.action) {
      case 'swipe-prev': h.swipe(id, -1); break;
      case 'swipe-next': h.swipe(id, 1); break;
      case 'rate': h.rate(id, Number(b.dataset.stars)); break;
      case 'continue': h.continue(id); break;
      case 'edit': this.startEdit(item, id); break;
      case 'branch': h.branch(id); break;
      case 'delete': h.delete(id); break;
      default: break;
    }
  }

  startEdit(item, id) {
    const text = item.querySelector('.text');
    const box = document.createElement('textarea');
    box.className = 'edit-box';
    box.value = this.handlers.source(id);
    box.setAttribute('aria-label', 'Edit the text');
    box.rows = Math.min(12, Math.max(3, box.value.split('\n').length + 1));
    const save = button('Save', 'save', 'save-edit');
    const cancel = button('Cancel', 'cancel', 'cancel-edit');
    const row = document.createElement('div');
    row.className = 'edit-actions';
    row.append(save, cancel);
    const form = document.createElement('div');
    form.className = 'edit-form';
    form.append(box, row);
    text.hidden = true;
    text.after(form);
    item.classList.add('editing');
    const finish = (value) => {
      form.remove();
      text.hidden = false;
      item.classList.remove('editing');
      if (value !== null && value !== this.handlers.source(id)) this.handlers.edit(id, value);
    };
    save.addEventListener('click', (e) => { e.stopPropagation(); finish(box.value); });
    cancel.addEventListener('click', (e) => { e.stopPropagation(); finish(null); });
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); finish(null); }
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); finish(box.value); }
    });
    box.focus();
  }

  showTyping(on) {
    this.typing.hidden = !on;
    if (on && this.nearBottom()) this.scrollToEnd();
  }

  announce(message) {
    // Clearing first makes screen readers announce a repeat of the same text too.
    this.announcer.textContent = '';
    setTimeout(() => { this.announcer.textContent = message; }, 50);
  }
}
