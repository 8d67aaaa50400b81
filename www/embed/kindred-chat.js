// <kindred-chat>: a Kindred character in any page of the site that hosts Kindred.
//
//   <script type="module" src="/embed/kindred-widget.js"></script>
//   <kindred-chat card="/characters/wren.json"></kindred-chat>
//
// Attributes: card (or character): a PNG, JSON or CHARX card on this site; avatar: an image
// shown when the card has none; model: a GGUF on this site instead of the default; user: the
// visitor's name in the prompt (default "User"); max-tokens, seed: reply length and a fixed
// sampling seed. The chat is kept on the visitor's device, in this site's IndexedDB, one chat
// a card address (widget-store.js): a reply is saved as it streams, a reload shows the chat
// again, and "New chat" clears it back to the greeting. The model is the app's, kept in the
// same database, and so are the visitor's settings (context size, sampling): a widget
// answers as the app would, with the card's lorebook (its sticky and cooldown entries kept
// across turns) and rolling summaries of what leaves the context. Everything renders in a
// shadow root, as text or safe Markdown: a card from a stranger can put no markup into the
// host page.
import { rustTools, errorText } from '../js/wasm.js';
import { render as renderMarkdown } from '../js/markdown.js';
import { substituteNames, chatSeed } from '../js/names.js';
import { formatBytes, formatPercent } from '../js/format.js';
import { throttledWriter } from '../js/chat-store.js';
import { sharedEngine } from './shared-engine.js';
import { loadWidgetChat, saveWidgetChat, loadVisitorPrefs, nextId, storedMessages } from './widget-store.js';
import { emptyMemory, addSummary, memoryRequest } from '../js/memory.js';
import { promptSettings, replyOptions } from '../js/prefs.js';
import { draftReader } from '../js/draft.js';

const STYLESHEET = new URL('./kindred-chat.css', import.meta.url).href;
const MAX_CARD_BYTES = 16 * 1024 * 1024;
const PHASES = {
  download: 'Downloading the model',
  cache: 'Loading the model from this device',
  verify: 'Checking the model',
  init: 'Starting the model',
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function sameSite(raw, what) {
  let url;
  try {
    url = new URL(raw, document.baseURI);
  } catch {
    throw new Error(`The ${what} address is not a valid URL.`);
  }
  // The promise to visitors: nothing is fetched from anywhere but this site.
  if (url.origin !== location.origin) throw new Error(`The ${what} must be on this site.`);
  return url;
}

async function loadCard(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`The character card could not be loaded (HTTP ${response.status}).`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > MAX_CARD_BYTES) throw new Error('The character card is too large.');
  const tools = await rustTools();
  return tools.import_card(bytes);
}

export class KindredChat extends HTMLElement {
  static observedAttributes = ['card', 'character'];

  constructor() {
    super();
    this.engine = sharedEngine();
    this.card = null;
    this.cardUrl = null;
    this.messages = [];
    this.memory = emptyMemory('widget');
    this.loreState = null;
    this.prefs = null;
    this.drafts = draftReader((draft) => this.warm(draft));
    this.job = null;
    this.reply = null;
    this.avatarUrl = null;
    this.unwatch = null;
    this.loadToken = 0;
    // The chat is rewritten at most every few hundred milliseconds while a reply streams;
    // each value names its card, so a write queued before the card changed lands on its own.
    this.saver = throttledWriter(({ url, chat }) => saveWidgetChat(url, chat));
    this.flushSaves = () => this.saver.flush();
    this.onVisibility = () => { if (document.visibilityState === 'hidden') this.saver.flush(); };
    this.build();
  }

  build() {
    const root = this.attachShadow({ mode: 'open' });
    const sheet = el('link');
    sheet.rel = 'stylesheet';
    sheet.href = STYLESHEET;
    this.ui = {
      frame: el('section', 'frame'),
      avatar: el('span', 'avatar monogram', '?'),
      name: el('h2', 'name', 'Loading…'),
      status: el('p', 'status'),
      problem: el('p', 'problem'),
      progress: el('progress', 'progress'),
      retry: el('button', 'retry', 'Try again'),
      newChat: el('button', 'new-chat', 'New chat'),
      list: el('ol', 'messages'),
      announcer: el('div', 'visually-hidden'),
      form: el('form', 'composer'),
      input: el('textarea', 'input'),
      stop: el('button', 'stop', 'Stop'),
      send: el('button', 'send', 'Send'),
    };
    const u = this.ui;
    u.avatar.setAttribute('aria-hidden', 'true');
    u.status.setAttribute('role', 'status');
    u.problem.setAttribute('role', 'alert');
    u.problem.hidden = true;
    u.progress.setAttribute('aria-label', 'Model loading');
    u.progress.hidden = true;
    u.retry.type = 'button';
    u.retry.hidden = true;
    u.newChat.type = 'button';
    u.newChat.disabled = true;
    u.list.setAttribute('aria-label', 'Messages');
    u.list.tabIndex = 0;
    u.announcer.setAttribute('aria-live', 'polite');
    u.announcer.setAttribute('aria-atomic', 'true');
    u.input.rows = 1;
    u.input.maxLength = 4000;
    u.input.placeholder = 'Message…';
    u.input.setAttribute('aria-label', 'Message');
    u.input.setAttribute('enterkeyhint', 'send');
    u.stop.type = 'button';
    u.send.type = 'submit';
    const head = el('header', 'head');
    const who = el('div', 'who');
    who.append(u.name, u.status);
    head.append(u.avatar, who, u.retry, u.newChat);
    const actions = el('div', 'actions');
    actions.append(u.stop, u.send);
    u.form.append(u.input, actions);
    const foot = el('p', 'foot', 'Runs in your browser · nothing you write leaves this device');
    u.frame.append(head, u.progress, u.problem, u.list, u.form, foot, u.announcer);
    root.append(sheet, u.frame);

    u.form.addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    // A visitor who starts typing is about to send: the engine reads the prompt meanwhile,
    // and what is typed as it is typed (draft.js).
    u.input.addEventListener('focus', () => this.warm());
    u.input.addEventListener('input', () => this.drafts.changed(u.input.value));
    u.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(); }
    });
    u.frame.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.job) { e.preventDefault(); this.stop(); }
    });
    u.stop.addEventListener('click', () => this.stop());
    u.retry.addEventListener('click', () => this.engine.retry());
    u.newChat.addEventListener('click', () => this.newChat());
    // Not refresh(): it sets data- attributes, which an element made by createElement() may
    // not have in its constructor; connectedCallback refreshes.
    u.stop.disabled = true;
    u.send.disabled = true;
  }

  connectedCallback() {
    this.unwatch ??= this.engine.watch((state) => this.onEngine(state));
    // A closing page gets the last of a streaming reply written.
    window.addEventListener('pagehide', this.flushSaves);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.refresh();
    if (!this.card) this.load();
    this.engine.start(this.getAttribute('model'));
  }

  disconnectedCallback() {
    if (this.job) this.stop();
    this.unwatch?.();
    this.unwatch = null;
    window.removeEventListener('pagehide', this.flushSaves);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.saver.flush();
  }

  attributeChangedCallback(name, old, value) {
    if (old !== null && old !== value && this.isConnected) this.load();
  }

  get charName() {
    const card = this.card || {};
    const nick = typeof card.nickname === 'string' ? card.nickname.trim() : '';
    const name = typeof card.name === 'string' ? card.name.trim() : '';
    return (nick || name || 'Character').slice(0, 200);
  }

  get userName() {
    return (this.getAttribute('user') || '').trim().slice(0, 64) || 'User';
  }

  display(text) {
    return substituteNames(text, this.charName, this.userName);
  }

  async load() {
    const token = ++this.loadToken;
    const src = this.getAttribute('card') || this.getAttribute('character');
    if (this.job) this.stop();
    this.saver.flush();
    this.card = null;
    this.cardUrl = null;
    this.messages = [];
    this.memory = emptyMemory('widget');
    this.loreState = null;
    this.renderAll();
    this.ui.problem.hidden = true;
    try {
      if (!src) throw new Error('No character: give the element a card="…" address.');
      const url = sameSite(src, 'character card');
      const [imported, saved, prefs] = await Promise.all([loadCard(url), loadWidgetChat(url.href), loadVisitorPrefs()]);
      if (token !== this.loadToken) return;
      this.card = imported.card;
      this.cardUrl = url.href;
      this.prefs = prefs;
      this.showAvatar(imported);
      this.messages = saved?.messages || this.greeting();
      this.memory = saved?.memory || emptyMemory('widget');
      this.loreState = saved?.loreState || null;
      this.ui.name.textContent = this.charName;
      this.ui.frame.setAttribute('aria-label', `Chat with ${this.charName}`);
      this.ui.input.placeholder = `Message ${this.charName}…`;
      this.renderAll();
    } catch (err) {
      if (token !== this.loadToken) return;
      this.ui.name.textContent = 'Character unavailable';
      this.ui.problem.textContent = errorText(err);
      this.ui.problem.hidden = false;
    }
    this.refresh();
  }

  greeting() {
    const text = typeof this.card?.first_mes === 'string' ? this.card.first_mes.trim() : '';
    return text ? [{ id: 'm1', role: 'assistant', text, status: 'greeting' }] : [];
  }

  // A new message with the next id (summaries name the messages they cover).
  message(role, text, status) {
    return { id: `m${nextId(this.messages)}`, role, text, status };
  }

  // Queues the chat as it is now for saving (a copy: a streaming reply keeps changing).
  persist() {
    if (!this.card || !this.cardUrl) return;
    const chat = { messages: storedMessages(this.messages), memory: { summaries: [...this.memory.summaries] }, loreState: this.loreState };
    this.saver.push({ url: this.cardUrl, chat });
  }

  // Back to the greeting alone; a reply being written is stopped and dropped.
  newChat() {
    if (!this.card) return;
    // Dropped first: a reply still waiting for the engine is ended at once, and its end
    // must not find it in the chat.
    this.messages = this.greeting();
    this.memory = emptyMemory('widget');
    this.loreState = null;
    if (this.job) this.stop();
    this.renderAll();
    this.persist();
    this.saver.flush();
    this.refresh();
    this.ui.input.focus();
    this.announce(`New chat with ${this.charName}.`);
  }

  showAvatar(imported) {
    if (this.avatarUrl) URL.revokeObjectURL(this.avatarUrl);
    this.avatarUrl = null;
    let src = null;
    if (imported.avatar instanceof Uint8Array && imported.avatar.length && imported.avatar_mime?.startsWith('image/')) {
      this.avatarUrl = URL.createObjectURL(new Blob([imported.avatar], { type: imported.avatar_mime }));
      src = this.avatarUrl;
    } else if (this.getAttribute('avatar')) {
      try { src = sameSite(this.getAttribute('avatar'), 'avatar').href; } catch { src = null; }
    }
    const avatar = src ? el('img', 'avatar') : el('span', 'avatar monogram', this.charName.slice(0, 1).toUpperCase());
    if (src) { avatar.src = src; avatar.alt = ''; }
    avatar.setAttribute('aria-hidden', 'true');
    this.ui.avatar.replaceWith(avatar);
    this.ui.avatar = avatar;
  }

  onEngine(state) {
    const u = this.ui;
    u.retry.hidden = state.phase !== 'failed';
    u.progress.hidden = state.phase !== 'loading';
    this.dataset.modelState = state.phase;
    if (state.phase === 'loading') {
      const p = state.progress;
      if (p?.total) { u.progress.max = p.total; u.progress.value = p.loaded; } else u.progress.removeAttribute('value');
      const label = PHASES[p?.phase] || 'Preparing the model';
      const amount = p?.phase === 'download' && p.total ? ` · ${formatBytes(p.loaded)} of ${formatBytes(p.total)} · ${formatPercent(p.loaded, p.total)}` : '';
      this.setStatus(`${label}${amount}`);
    } else if (state.phase === 'ready') {
      this.setStatus(state.notice || 'Ready');
    } else if (state.phase === 'failed') {
      this.setStatus(`The model could not start: ${state.message}`);
    }
    this.refresh();
  }

  setStatus(text) {
    this.ui.status.textContent = text;
  }

  refresh() {
    const busy = Boolean(this.job);
    // A count of finished replies lets a watcher see a reply that came and went between looks.
    if (!busy && this.dataset.generating === 'true') this.dataset.replies = String(Number(this.dataset.replies || 0) + 1);
    this.dataset.generating = String(busy);
    this.ui.stop.disabled = !busy;
    this.ui.send.disabled = busy || !this.card || this.engine.state.phase !== 'ready';
    this.ui.newChat.disabled = !this.card || !this.messages.some((m) => m.role === 'user');
  }

  renderAll() {
    this.ui.list.replaceChildren(...this.messages.map((m) => this.item(m)));
    this.scrollToEnd();
  }

  item(m) {
    const li = el('li', 'message');
    li.dataset.role = m.role;
    li.dataset.status = m.status;
    li.append(el('p', 'author', m.role === 'assistant' ? this.charName : 'You'));
    const text = el('div', 'text');
    this.fill(text, m.text);
    li.append(text);
    const note = { stopped: 'Stopped', interrupted: 'Interrupted', error: m.note || 'Failed' }[m.status];
    if (note) li.append(el('p', 'note', note));
    m.node = li;
    return li;
  }

  fill(target, text) {
    const shown = this.display(text);
    target.dataset.source = shown;
    renderMarkdown(target, shown);
  }

  scrollToEnd() {
    this.ui.list.scrollTop = this.ui.list.scrollHeight;
  }

  // The prompt request for a reply to the chat as it stands (see prompt.rs in crates/web):
  // the card's own lorebook is scanned by the engine, with the activations the last reply left.
  // draft: the message being typed, read ahead as if sent.
  request(draft = '') {
    const seed = chatSeed(this.getAttribute('character') || this.getAttribute('card') || '');
    const history = [...this.messages.filter((m) => m.text), ...(draft ? [{ id: 'draft', role: 'user', text: draft }] : [])];
    return {
      card: this.card,
      persona: { name: this.userName, description: '' },
      history: history.map((m) => ({ author: m.role === 'user' ? 'user' : 'char', text: m.text })),
      lorebooks: [],
      settings: promptSettings(this.prefs, seed),
      scan: { seed },
      mode: 'reply',
      memory: memoryRequest(this.memory, history),
      lore_state: this.loreState ?? undefined,
    };
  }

  warm(draft = this.ui.input.value.trim()) {
    if (this.card && this.prefs && !this.reply) this.engine.warm(this.request(draft), this.options(), { summary: (msg) => this.onSummary(msg) });
  }

  // A rolling summary of turns that left the context, kept with the chat.
  onSummary(msg) {
    if (addSummary(this.memory, msg)) this.persist();
  }

  // The visitor's sampling from the app's settings; the element's max-tokens and seed first.
  options() {
    const max = Number(this.getAttribute('max-tokens'));
    const seed = Number(this.getAttribute('seed'));
    // The engine holds both to its ranges (crates/engine/src/reply_settings.rs).
    return replyOptions(this.prefs, {
      maxTokens: Number.isInteger(max) && max > 0 ? max : undefined,
      seed: this.hasAttribute('seed') && Number.isInteger(seed) && seed >= 0 ? seed : undefined,
    });
  }

  send() {
    const text = this.ui.input.value.trim();
    if (!text || this.ui.send.disabled) return;
    this.drafts.cancel();
    this.ui.input.value = '';
    this.messages.push(this.message('user', text, 'done'));
    const request = this.request();
    const reply = this.message('assistant', '', 'streaming');
    this.messages.push(reply);
    this.reply = reply;
    this.renderAll();
    this.persist();
    this.job = this.engine.generate(request, this.options(), {
      token: (msg) => {
        if (!this.messages.includes(reply)) return;
        reply.text = msg.text;
        const follow = this.nearBottom();
        this.fill(reply.node.querySelector('.text'), reply.text);
        if (follow) this.scrollToEnd();
        this.persist();
      },
      prompt: (msg) => { this.dataset.lore = Array.isArray(msg.lore) ? msg.lore.join('|') : ''; },
      summary: (msg) => this.onSummary(msg),
      done: (msg) => {
        if (msg.lore_state && typeof msg.lore_state === 'object' && this.messages.includes(reply)) this.loreState = msg.lore_state;
        this.finish(reply, msg.text || reply.text, msg.stop_reason === 'user' ? 'stopped' : 'done');
      },
      error: (message) => this.finish(reply, reply.text, 'error', `Failed: ${message}`),
    });
    this.refresh();
  }

  nearBottom() {
    const l = this.ui.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
  }

  finish(reply, text, status, note) {
    reply.text = text;
    reply.status = status;
    if (note) reply.note = note;
    this.job = null;
    this.reply = null;
    this.refresh();
    // A reply dropped by "New chat" or a change of card is neither shown nor saved.
    if (!this.messages.includes(reply)) return;
    this.renderAll();
    this.persist();
    this.saver.flush();
    this.announce(text ? `${this.charName}: ${this.display(text)}` : `${this.charName} did not reply.`);
    this.warm();
  }

  stop() {
    if (this.job) this.engine.stop(this.job);
  }

  announce(message) {
    // Cleared first so a repeated text is announced again.
    this.ui.announcer.textContent = '';
    setTimeout(() => { this.ui.announcer.textContent = message; }, 50);
  }
}

if (!customElements.get('kindred-chat')) customElements.define('kindred-chat', KindredChat);
