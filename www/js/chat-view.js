// Renders a conversation: each message as Markdown (see markdown.js; nothing is parsed as
// HTML), with its tools: swipe between alternatives, 1–4 stars, continue, edit, delete and
// branch, pin to memory. The view only reports what was asked; the chat controller changes
// the data.
//
// A long chat is windowed: only the messages near the visible part are in the page (see
// list-window.js), the rest is padding of the list. Scrolling moves the window; the message
// at the top of the view stays where it was while heights above it get measured.
import { render as renderMarkdown } from './markdown.js';
import { currentSwipe } from './chat-store.js';
import { ListWindow } from './list-window.js';

// Up to this many messages everything is in the page.
const WINDOW_FROM = 150;
// Pixels rendered beyond the visible part, above and below.
const MARGIN = 1200;

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
  const first = Number.isFinite(stats.first_ms) ? ` · first token ${(stats.first_ms / 1000).toFixed(1)} s` : '';
  return `${stats.n_generated} tokens · ${stats.tokens_per_s.toFixed(1)} tokens/s${first}`;
}

export class ChatView {
  // handlers: {swipe(id, dir), rate(id, stars), continue(id), edit(id, text), delete(id), branch(id), pin(id),
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
    this.messages = [];
    this.state = {};
    this.window = new ListWindow();
    this.start = 0;
    this.end = 0;
    this.frame = 0;
    // Whether the view is at the newest message, as of the last scroll: a resize (a phone
    // turned, a window narrowed, the on-screen keyboard) keeps it there.
    this.stuck = true;
    this.width = 0;
    list.addEventListener('click', (event) => this.onClick(event));
    scroller.addEventListener('scroll', () => {
      this.stuck = this.nearBottom();
      if (!this.windowed || this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.follow();
      });
    }, { passive: true });
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.resized()).observe(scroller);
  }

  // A new width rewraps every message: a long chat measures its window again, and a view
  // that was at the newest message stays there.
  resized() {
    const width = this.scroller.clientWidth;
    if (!width) return; // hidden: nothing to keep in view
    const rewrapped = width !== this.width;
    this.width = width;
    if (this.windowed && rewrapped) {
      this.window.forgetAll();
      if (!this.stuck) {
        const view = this.view();
        this.paint(...this.window.range(view.top, view.bottom, MARGIN), null);
      }
    }
    if (this.stuck) this.scrollToEnd();
  }

  get windowed() {
    return this.messages.length > WINDOW_FROM;
  }

  // names: {char, user}; avatar(message): a fresh avatar element; display(text, message): text
  // as shown; author(message): {id, name} of a message's speaker in a room, or null.
  setContext({ names, avatar, display, author = null }) {
    this.names = names;
    this.avatar = avatar;
    this.display = display;
    this.author = author;
  }

  clear() {
    this.items.clear();
    this.editing = null;
    this.list.replaceChildren();
    this.list.style.paddingTop = '';
    this.list.style.paddingBottom = '';
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToEnd() {
    if (this.windowed) {
      this.paint(...this.window.tail(this.scroller.clientHeight, MARGIN), 'bottom');
      return;
    }
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // Renders the list (a long one from where it is scrolled to). state: {busy, lastId, cutUntil}.
  render(messages, state) {
    this.messages = messages;
    this.state = state;
    this.scroller.classList.toggle('windowed', this.windowed);
    if (!this.windowed) {
      this.clear();
      for (const m of messages) this.appendItem(m);
      this.start = 0;
      this.end = messages.length;
      return;
    }
    // Every message is built afresh, and the one at the top of the view stays put.
    const view = this.view();
    const anchor = this.anchor();
    this.items.clear();
    this.editing = null;
    this.window.setKeys(messages.map((m) => m.id));
    this.paint(...this.window.range(view.top, view.bottom, MARGIN), null, anchor);
  }

  appendItem(m) {
    const item = this.build(m, this.state);
    this.list.append(item);
    if (this.state.cutUntil !== undefined && m.id === this.state.cutUntil) this.list.append(this.cutMarker());
    return item;
  }

  // The visible part in list coordinates.
  view() {
    const s = this.scroller;
    const listTop = this.list.getBoundingClientRect().top - s.getBoundingClientRect().top + s.scrollTop;
    const top = s.scrollTop - listTop;
    return { top, bottom: top + s.clientHeight, listTop };
  }

  // Moves the window when scrolling brings its edge near the view.
  follow() {
    if (!this.windowed) return;
    const view = this.view();
    const needTop = this.start > 0 && this.window.top(this.start) > view.top - MARGIN / 2;
    const needBottom = this.end < this.messages.length && this.window.top(this.end) < view.bottom + MARGIN / 2;
    if (!needTop && !needBottom) return;
    const s = this.scroller;
    const edge = s.scrollTop <= 1 ? 'top' : s.scrollHeight - s.scrollTop - s.clientHeight <= 1 ? 'bottom' : null;
    this.paint(...this.window.range(view.top, view.bottom, MARGIN), edge);
  }

  // Puts messages [start, end) in the page, measures them and keeps the view steady: at the
  // top or bottom edge when asked, else on the first visible message.
  paint(start, end, edge, anchor = edge ? null : this.anchor()) {
    const s = this.scroller;
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    // Messages that stay are left in place (moving one would lose its focus).
    const keep = new Map();
    for (let i = start; i < end; i++) {
      const id = this.messages[i].id;
      const old = this.items.get(id);
      if (old?.isConnected) keep.set(id, old);
    }
    for (const child of [...this.list.children]) {
      if (child.classList.contains('cut-marker') || !keep.has(Number(child.dataset.id))) child.remove();
    }
    this.items = keep;
    let prev = null;
    for (let i = start; i < end; i++) {
      const m = this.messages[i];
      let item = keep.get(m.id);
      if (!item) {
        item = this.build(m, this.state);
        if (prev) prev.after(item);
        else this.list.prepend(item);
      }
      prev = item;
      if (this.state.cutUntil !== undefined && m.id === this.state.cutUntil) {
        const marker = this.cutMarker();
        item.after(marker);
        prev = marker;
      }
    }
    if (focused && !focused.isConnected) s.focus({ preventScroll: true });
    this.start = start;
    this.end = end;
    this.measure();
    this.list.style.paddingTop = `${this.window.top(start)}px`;
    this.list.style.paddingBottom = `${Math.max(0, this.window.total() - this.window.top(end))}px`;
    if (edge === 'bottom') s.scrollTo({ top: s.scrollHeight, behavior: 'instant' });
    else if (edge === 'top') s.scrollTo({ top: 0, behavior: 'instant' });
    else if (anchor) {
      const item = this.items.get(anchor.id);
      if (item) s.scrollTo({ top: s.scrollTop + item.getBoundingClientRect().top - anchor.top, behavior: 'instant' });
    }
  }

  // The first message in the page that reaches into the view, and where it is.
  anchor() {
    const limit = this.scroller.getBoundingClientRect().top;
    for (const [id, item] of this.items) {
      if (!item.isConnected) continue;
      const rect = item.getBoundingClientRect();
      if (rect.bottom > limit) return { id, top: rect.top };
    }
    return null;
  }

  // Each item's height counts the gap after it and a cut marker that follows it.
  measure() {
    const gap = parseFloat(getComputedStyle(this.list).rowGap) || 0;
    for (const [id, item] of this.items) {
      let h = item.getBoundingClientRect().height + gap;
      const next = item.nextElementSibling;
      if (next?.classList.contains('cut-marker')) h += next.getBoundingClientRect().height + gap;
      this.window.measure(id, h);
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
    this.state = state;
    const old = this.items.get(message.id);
    if (this.windowed && !old?.isConnected) {
      // Out of the window: it is built when scrolled to.
      this.items.delete(message.id);
      this.window.forget(message.id);
      return null;
    }
    const focused = old?.isConnected && old.contains(document.activeElement) ? document.activeElement : null;
    const fresh = this.build(message, state);
    if (old?.isConnected) old.replaceWith(fresh);
    else this.list.append(fresh);
    // A keyboard user keeps their place: the same tool in the new item, else the chat.
    if (focused) {
      const same = [...fresh.querySelectorAll('button[data-action]')].find((b) => !b.disabled
        && b.dataset.action === focused.dataset.action && b.dataset.stars === focused.dataset.stars);
      (same || this.scroller).focus({ preventScroll: true });
    }
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
    const who = this.author?.(m);
    author.textContent = who ? who.name : m.role === 'assistant' ? this.names.char : this.names.user;
    if (who) item.dataset.author = who.id;
    const text = document.createElement('div');
    text.className = 'text';
    // The text as written (names filled in), for copying and for tests: the rendered
    // Markdown's own textContent lacks the markup.
    const shown = this.display(swipe.text, m);
    text.dataset.source = shown;
    renderMarkdown(text, shown);
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent = swipe.note || STATUS_NOTES[swipe.status] || '';
    bubble.append(author, text, note);
    if (swipe.personaBreak) bubble.append(this.breakNote(m, swipe, state));
    if (m.role === 'assistant') item.append(this.avatar(m));
    const body = document.createElement('div');
    body.className = 'body';
    body.append(bubble, this.tools(m, swipe, state));
    item.append(body);
    item.classList.toggle('empty', swipe.text === '');
    if (swipe.stats) {
      item.dataset.tokens = String(swipe.stats.n_generated);
      item.dataset.tokensPerSecond = Number(swipe.stats.tokens_per_s).toFixed(2);
      // The prompt tokens found already read (a warm-up, the turn before): tests read it.
      if (Number.isInteger(swipe.stats.n_reused)) item.dataset.reused = `${swipe.stats.n_reused}/${swipe.stats.n_prompt}`;
      // Of those, the ones kept past turns left out to fit the context (a context shift).
      if (Number.isInteger(swipe.stats.n_shifted)) item.dataset.shifted = String(swipe.stats.n_shifted);
      if (Number.isFinite(swipe.stats.first_ms)) item.dataset.firstMs = String(swipe.stats.first_ms);
    }
    this.items.set(m.id, item);
    return item;
  }

  // The reply stepped out of character: say so, and offer a new reply when it is the last.
  breakNote(m, swipe, state) {
    const flag = document.createElement('p');
    flag.className = 'note persona-break';
    flag.textContent = swipe.personaBreak === 'wrote your lines'
      ? 'This reply speaks for you. '
      : 'This reply steps out of character. ';
    if (m.id === state.lastId && !m.greeting) {
      const again = button('Regenerate', 'regenerate', 'regenerate');
      again.disabled = Boolean(state.busy);
      flag.append(again);
    }
    return flag;
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
      if (this.handlers.speak && swipe.text) {
        // Disabled, with the reason as its description, where the device has no voice.
        const reason = this.handlers.speechUnavailable?.() || '';
        const say = button('Speak', 'speak', 'speak', 'Speak this message');
        say.disabled = Boolean(reason) || (busy && isLast);
        if (reason) say.title = reason;
        bar.append(say);
      }
    }
    for (const [label, action, aria] of [['Edit', 'edit', 'Edit'], ['Branch', 'branch', 'Branch from here'], ['Pin', 'pin', 'Pin to memory'], ['Delete', 'delete', 'Delete']]) {
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
      case 'regenerate': h.regenerate?.(id); break;
      case 'edit': this.startEdit(item, id); break;
      case 'branch': h.branch(id); break;
      case 'pin': h.pin(id); break;
      case 'speak': h.speak?.(id); break;
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
      const refocus = form.contains(document.activeElement);
      form.remove();
      text.hidden = false;
      item.classList.remove('editing');
      // Back to the Edit button rather than nowhere.
      if (refocus) item.querySelector('button[data-action="edit"]')?.focus({ preventScroll: true });
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
