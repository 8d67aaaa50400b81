// "Try it": a chat with the character as it stands in the editor, unsaved. Replies stream
// from the engine worker through the usual generate messages; nothing is stored, and
// restarting (or leaving the editor) forgets the conversation.
import { el, button } from './editor-dom.js';
import { promptSettings } from './prefs.js';
import { render } from './markdown.js';
import { substituteNames, chatSeed } from './names.js';

export class TryChat {
  // deps: {engine(), ready(), prefs(), options(), card(): the unsaved card, lorebooks()}
  constructor(deps) {
    this.d = deps;
    this.messages = [];
    this.genId = null;
    this.seed = chatSeed(String(Math.random()));
    this.root = el('section', 'try-chat');
    this.root.setAttribute('aria-labelledby', 'try-title');
    const head = el('div', 'try-head');
    const title = el('h3', '', 'Try it');
    title.id = 'try-title';
    this.restartButton = button('Restart', 'ghost small', 'Restart the test chat');
    this.restartButton.addEventListener('click', () => this.restart());
    head.append(title, this.restartButton);
    this.note = el('p', 'ed-hint', 'A test chat with your unsaved changes. Nothing here is kept.');
    this.list = el('ol', 'try-messages');
    this.list.setAttribute('aria-label', 'Test messages');
    this.announcer = el('div', 'visually-hidden');
    this.announcer.setAttribute('aria-live', 'polite');
    this.form = el('form', 'try-composer');
    this.input = el('textarea');
    this.input.rows = 2;
    this.input.maxLength = 4000;
    this.input.setAttribute('aria-label', 'Test message');
    this.input.placeholder = 'Say something to try the character…';
    this.send = button('Send', 'primary small');
    this.send.type = 'submit';
    this.send.setAttribute('aria-label', 'Send test message');
    this.stopButton = button('Stop', 'ghost small', 'Stop the test reply');
    this.stopButton.addEventListener('click', () => this.stop());
    const actions = el('div', 'try-actions');
    actions.append(this.stopButton, this.send);
    this.form.append(this.input, actions);
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
      if (e.key === 'Escape' && this.genId !== null) { e.preventDefault(); this.stop(); }
    });
    this.root.append(head, this.note, this.list, this.announcer, this.form);
    this.refresh();
  }

  get busy() {
    return this.genId !== null;
  }

  names() {
    const card = this.d.card();
    const char = (typeof card.nickname === 'string' && card.nickname.trim()) || card.name?.trim() || 'Character';
    return { char, user: this.d.prefs().persona?.name || 'You' };
  }

  restart() {
    this.stop();
    const greeting = this.d.card().first_mes;
    this.messages = typeof greeting === 'string' && greeting.trim() ? [{ role: 'char', text: greeting }] : [];
    this.renderAll();
    this.refresh();
    this.warm();
  }

  refresh() {
    const ready = this.d.ready();
    this.send.disabled = !ready || this.busy;
    this.stopButton.disabled = !this.busy;
    this.root.dataset.busy = String(this.busy);
    this.note.textContent = ready
      ? 'A test chat with your unsaved changes. Nothing here is kept.'
      : 'A test chat with your unsaved changes: it opens when the model has loaded. Nothing here is kept.';
  }

  submit() {
    const text = this.input.value.trim();
    const engine = this.d.engine();
    if (!text || this.busy || !this.d.ready() || !engine) return;
    this.input.value = '';
    this.messages.push({ role: 'user', text }, { role: 'char', text: '', streaming: true });
    this.genId = engine.generate(this.request(this.messages.slice(0, -1)), this.d.options());
    this.renderAll();
    this.refresh();
  }

  // The prompt request for a reply to `messages`, as the unsaved card stands.
  request(messages) {
    const prefs = this.d.prefs();
    return {
      card: this.d.card(),
      persona: prefs.persona,
      history: messages.map((m) => ({ author: m.role, text: m.text })),
      lorebooks: this.d.lorebooks(),
      settings: promptSettings(prefs, this.seed),
      scan: { seed: this.seed },
      mode: 'reply',
      adapter: this.d.adapter?.() ?? undefined,
    };
  }

  // Reads this test chat's prompt while the creator types (see worker.js "warm").
  warm() {
    const engine = this.d.engine();
    if (engine && this.d.ready() && !this.busy && this.root.isConnected) engine.warm(this.request(this.messages), this.d.options());
  }

  stop() {
    if (this.busy) this.d.engine()?.stop();
  }

  // Every worker message comes here; only this chat's replies are taken.
  onEngine(msg) {
    if (msg.type === 'ready' || (msg.type === 'error' && msg.scope === 'load')) this.refresh();
    if (msg.type === 'ready') this.warm();
    if (this.genId === null || msg.id !== this.genId) return;
    const reply = this.messages[this.messages.length - 1];
    if (msg.type === 'token') {
      reply.text = msg.text;
      this.renderLast();
    } else if (msg.type === 'done' || msg.type === 'error') {
      this.genId = null;
      reply.streaming = false;
      if (msg.type === 'done') reply.text = msg.text || reply.text;
      if (msg.type === 'error') reply.note = `Failed: ${msg.message}`;
      else if (!reply.text) reply.note = 'No reply: try again or rephrase.';
      this.renderLast();
      this.refresh();
      this.warm();
      this.announcer.textContent = reply.text ? `${this.names().char}: ${reply.text}` : reply.note || '';
    }
  }

  item(m) {
    const { char, user } = this.names();
    const li = el('li', 'try-message');
    li.dataset.role = m.role;
    if (m.streaming) li.dataset.status = 'streaming';
    li.append(el('span', 'try-author', m.role === 'user' ? 'You' : char));
    const text = el('div', 'text');
    render(text, substituteNames(m.text, char, user));
    li.append(text);
    if (m.note) li.append(el('p', 'note', m.note));
    return li;
  }

  renderAll() {
    this.list.replaceChildren(...this.messages.map((m) => this.item(m)));
    this.list.scrollTop = this.list.scrollHeight;
  }

  renderLast() {
    const m = this.messages[this.messages.length - 1];
    if (!m) return;
    this.list.lastElementChild?.replaceWith(this.item(m));
    this.list.scrollTop = this.list.scrollHeight;
  }
}
