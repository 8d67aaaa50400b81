// The character editor: #/new and #/edit/ID. Every card field, the structured profile, the
// card's lorebook and the avatar; a live token count of the definition; a "Try it" chat with
// the unsaved character. Saving checks the card through Rust. A starter is never changed in
// place: saving one keeps the original and stores the user's own copy.
import { getCharacter, putCharacter, newId, displayName } from './character-store.js';
import { avatarElement, forgetAvatar } from './avatar.js';
import { rustTools, errorText } from './wasm.js';
import { el, button, field, section, splitList, filePicker } from './editor-dom.js';
import { TextList } from './editor-list.js';
import { ProfileEditor } from './editor-profile.js';
import { LorebookEditor } from './editor-lorebook.js';
import { avatarFromFile } from './editor-avatar.js';
import { TokenCounter } from './editor-tokens.js';
import { TryChat } from './try-chat.js';
import { CheckPanel } from './check-panel.js';
import { StudioPanel } from './studio-panel.js';
import { AdapterEditor } from './editor-adapter.js';
import { ExampleSuggestions } from './editor-suggestions.js';

const NAME_REQUIRED = 'A name is required.';

const $ = (id) => document.getElementById(id);
const text = (v) => (typeof v === 'string' ? v : '');
const WAIT_MS = 200;

// The plain text fields: [card key, label, options].
const FIELDS = {
  name: ['Name', { max: 200, required: true }],
  nickname: ['Nickname', { max: 200, hint: 'Shown and used in chats instead of the name, when set.' }],
  tags: ['Tags', { hint: 'Separated by commas.' }],
  creator: ['Creator', { max: 200 }],
  character_version: ['Version', { max: 64 }],
  description: ['Description', { rows: 6, hint: 'Who the character is: looks, background, situation.' }],
  personality: ['Personality', { rows: 3 }],
  scenario: ['Scenario', { rows: 3, hint: 'Where and when the conversation happens.' }],
  first_mes: ['First message', { rows: 4, hint: 'The greeting that opens every chat. {{user}} and {{char}} become the names.' }],
  mes_example: ['Example dialogues', {
    rows: 8,
    hint: 'Sample exchanges that show how the character talks. Start each one with <START>, then lines like "{{user}}: …" and "{{char}}: …".',
    placeholder: '<START>\n{{user}}: Hello!\n{{char}}: *looks up* Oh, a visitor.',
  }],
  system_prompt: ['System prompt', {
    rows: 3, hint: 'Replaces the app\'s default instructions for this character; {{original}} includes them.',
  }],
  post_history_instructions: ['Post-history instructions', {
    rows: 3, hint: 'Sent after the chat, just before each reply.',
  }],
  creator_notes: ['Creator notes', { rows: 3, hint: 'For people who read or share the card. Never sent to the model.' }],
};

export class Editor {
  // deps: {db, navigate(hash, replace), notify(text), engine(), ready(), prefs(), options()}
  constructor(deps) {
    this.d = deps;
    this.root = $('view-editor');
    this.tools = null;
    this.built = false;
    this.record = null;
    this.base = {};
    this.avatar = null;
    this.avatarVersion = 0;
    this.hash = '';
    this.snapshot = '';
    this.freeText = null;
    this.timer = null;
    this.pendingHash = null;
    window.addEventListener('beforeunload', (event) => {
      if (document.body.dataset.view === 'editor' && this.dirty) {
        event.preventDefault();
        event.returnValue = '';
      }
    });
  }

  build() {
    const f = {};
    for (const [key, [label, opts]] of Object.entries(FIELDS)) {
      f[key] = field(label, opts);
      f[key].control.addEventListener('input', () => this.changed());
    }
    this.f = f;
    f.name.control.addEventListener('input', () => {
      if (!f.name.control.value.trim()) return;
      f.name.control.removeAttribute('aria-invalid');
      if (this.status.textContent === NAME_REQUIRED) this.status.textContent = '';
    });
    this.greetings = new TextList({
      itemLabel: 'Alternate greeting', addText: 'Add alternate greeting', rows: 3, onChange: () => this.changed(),
    });
    this.profile = new ProfileEditor({ tools: this.tools, onChange: () => this.profileChanged() });
    this.lorebook = new LorebookEditor({ onChange: () => this.changed() });
    this.suggestions = new ExampleSuggestions({
      db: this.d.db, characterId: () => this.record?.id, add: (text) => this.addExample(text),
    });
    this.adapter = new AdapterEditor({ db: this.d.db, engine: this.d.engine, ready: this.d.ready, onChange: () => this.changed() });
    this.tokens = new TokenCounter({
      tools: this.tools, engine: this.d.engine, ready: this.d.ready, userName: () => this.d.prefs().persona?.name,
    });
    this.tryChat = new TryChat({
      engine: this.d.engine, ready: this.d.ready, prefs: this.d.prefs, options: this.d.options,
      card: () => this.collect(), lorebooks: () => (this.record?.lorebooks || []).map((l) => l.book).filter(Boolean),
      adapter: () => this.adapter.value,
    });

    this.checkPanel = new CheckPanel({
      engine: this.d.engine, ready: this.d.ready, prefs: this.d.prefs, options: this.d.options, db: this.d.db,
      card: () => this.collect(), lorebooks: () => (this.record?.lorebooks || []).map((l) => l.book).filter(Boolean),
      characterId: () => this.record?.id, modelName: () => this.d.modelName?.() || '', adapter: () => this.adapter.value,
    });
    this.studioPanel = new StudioPanel({
      engine: this.d.engine, ready: this.d.ready, prefs: this.d.prefs, options: this.d.options, db: this.d.db,
      card: () => this.collect(), lorebooks: () => (this.record?.lorebooks || []).map((l) => l.book).filter(Boolean),
      traits: () => this.profile.value.traits, characterId: () => this.record?.id, modelName: () => this.d.modelName?.() || '',
      adapter: () => this.adapter.value, add: (text) => this.addExample(text),
    });

    const top = el('div', 'ed-top');
    const heading = el('div', 'ed-heading');
    this.title = el('h2', '', 'New character');
    this.title.id = 'editor-title';
    this.title.tabIndex = -1;
    this.note = el('p', 'ed-note');
    heading.append(this.title, this.note);
    const actions = el('div', 'ed-actions');
    this.cancel = button('Cancel', 'ghost');
    this.cancel.addEventListener('click', () => this.d.navigate(this.backHash()));
    this.saveButton = button('Save', 'primary');
    this.saveButton.addEventListener('click', () => this.save());
    actions.append(this.cancel, this.saveButton);
    top.append(heading, actions);
    this.status = el('p', 'ed-status');
    this.status.setAttribute('role', 'status');
    this.leaveBar = this.buildLeaveBar();

    const tabs = el('div', 'ed-tabs');
    tabs.setAttribute('role', 'group');
    tabs.setAttribute('aria-label', 'Editor panels');
    this.tabButtons = [['form', 'Edit'], ['try', 'Try and check']].map(([pane, label]) => {
      const b = button(label, 'chip');
      b.dataset.pane = pane;
      b.addEventListener('click', () => this.showPane(pane));
      return b;
    });
    tabs.append(...this.tabButtons);

    const form = el('form', 'ed-form');
    form.noValidate = true;
    form.setAttribute('aria-labelledby', 'editor-title');
    form.addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
    form.append(this.basicsSection(), this.characterSection(), this.profileSection(),
      this.examplesSection(), this.promptsSection(), this.lorebookSection(), this.adapterSection(), this.notesSection());
    const side = el('div', 'ed-side');
    side.append(this.tryChat.root, this.checkPanel.root, this.studioPanel.root);
    this.layout = el('div', 'ed-layout');
    this.layout.append(form, side);
    this.root.replaceChildren(top, this.status, this.leaveBar, this.tokens.root, tabs, this.layout);
    this.showPane('form');
    this.built = true;
  }

  basicsSection() {
    const s = section('Basics');
    const avatarBox = el('div', 'ed-avatar');
    this.avatarSlot = el('span', 'avatar avatar-huge placeholder');
    const pick = filePicker('Upload avatar', 'image/png,image/jpeg,image/webp,image/gif', (file) => this.uploadAvatar(file));
    this.removeAvatar = button('Remove avatar', 'ghost small');
    this.removeAvatar.addEventListener('click', () => {
      this.avatar = null;
      this.avatarVersion += 1;
      this.renderAvatar();
      this.changed();
    });
    const avatarTools = el('div', 'ed-avatar-tools');
    avatarTools.append(pick, this.removeAvatar, el('p', 'ed-hint', 'Shown at most 512 pixels a side.'));
    avatarBox.append(this.avatarSlot, avatarTools);
    const grid = el('div', 'ed-grid');
    grid.append(this.f.nickname.wrap, this.f.creator.wrap, this.f.character_version.wrap);
    s.append(avatarBox, this.f.name.wrap, grid, this.f.tags.wrap);
    return s;
  }

  characterSection() {
    const s = section('Character');
    this.profileNote = el('p', 'ed-hint ed-from-profile', 'Written from the structured profile below.');
    this.profileNote.hidden = true;
    const greetingsTitle = el('h4', 'ed-subtitle', 'Alternate greetings');
    const greetingsHint = el('p', 'ed-hint', 'Other ways a chat can open; swipe the greeting to choose.');
    s.append(this.profileNote, this.f.description.wrap, this.f.personality.wrap, this.f.scenario.wrap,
      this.f.first_mes.wrap, greetingsTitle, greetingsHint, this.greetings.root);
    return s;
  }

  profileSection() {
    this.profileDetails = section('Structured profile and traits', false);
    this.profileDetails.append(this.profile.root);
    return this.profileDetails;
  }

  examplesSection() {
    const s = section('Example dialogues');
    s.append(this.f.mes_example.wrap, this.suggestions.root);
    return s;
  }

  // A suggested example joins the card's example dialogues, after those there.
  addExample(text) {
    const control = this.f.mes_example.control;
    const before = control.value.trimEnd();
    control.value = before ? `${before}\n${text}` : text;
    this.changed();
  }

  promptsSection() {
    const s = section('Prompts', false);
    s.append(this.f.system_prompt.wrap, this.f.post_history_instructions.wrap);
    return s;
  }

  lorebookSection() {
    this.lorebookDetails = section('Lorebook', false);
    this.lorebookDetails.append(this.lorebook.root);
    return this.lorebookDetails;
  }

  adapterSection() {
    this.adapterDetails = section('Trained adapter (LoRA)', false);
    this.adapterDetails.append(this.adapter.root);
    return this.adapterDetails;
  }

  notesSection() {
    const s = section('Creator notes', false);
    s.append(this.f.creator_notes.wrap);
    return s;
  }

  buildLeaveBar() {
    const bar = el('div', 'ed-leave');
    bar.setAttribute('role', 'alert');
    bar.hidden = true;
    const save = button('Save', 'primary small', 'Save and leave');
    save.addEventListener('click', () => this.save(this.pendingHash));
    const discard = button('Discard changes', 'ghost small danger');
    discard.addEventListener('click', () => {
      const to = this.pendingHash || '#/';
      this.snapshot = this.fingerprint();
      bar.hidden = true;
      this.d.navigate(to);
    });
    const stay = button('Keep editing', 'ghost small');
    stay.addEventListener('click', () => { bar.hidden = true; this.title.focus(); });
    bar.append(el('span', '', 'You have unsaved changes.'), save, discard, stay);
    return bar;
  }

  showPane(pane) {
    this.layout.dataset.pane = pane;
    for (const b of this.tabButtons) b.setAttribute('aria-pressed', String(b.dataset.pane === pane));
  }

  backHash() {
    return this.record ? `#/character/${encodeURIComponent(this.record.id)}` : '#/';
  }

  // Opens the editor on a stored character, or on a new one (id null).
  async open(id) {
    this.tools ??= await rustTools();
    if (!this.built) this.build();
    const record = id ? await getCharacter(this.d.db, id) : null;
    if (id && !record) throw new Error('This character no longer exists.');
    this.record = record;
    this.hash = id ? `#/edit/${encodeURIComponent(id)}` : '#/new';
    this.base = structuredClone(record?.card || { name: '', tags: [], alternate_greetings: [], extensions: {} });
    this.avatar = record?.avatar ? { bytes: record.avatar, mime: record.avatarMime } : null;
    this.avatarVersion = 0;
    this.fill();
    this.leaveBar.hidden = true;
    this.status.textContent = '';
    this.f.name.control.removeAttribute('aria-invalid');
    this.title.textContent = record ? `Edit ${displayName(record)}` : 'New character';
    this.note.textContent = record?.origin === 'starter'
      ? 'A starter character: saving keeps the original and adds your own copy to the library.'
      : '';
    this.showPane('form');
    this.tryChat.restart();
    this.checkPanel.restore();
    this.studioPanel.restore();
    this.snapshot = this.fingerprint();
    this.refresh();
  }

  fill() {
    const c = this.base;
    for (const key of Object.keys(FIELDS)) {
      this.f[key].control.value = key === 'tags'
        ? (Array.isArray(c.tags) ? c.tags.filter((t) => typeof t === 'string') : []).join(', ')
        : text(c[key]);
    }
    this.greetings.set(Array.isArray(c.alternate_greetings) ? c.alternate_greetings.filter((g) => typeof g === 'string') : []);
    let profile = null;
    try {
      profile = JSON.parse(this.tools.read_card_profile(JSON.stringify(c)));
    } catch (err) {
      this.status.textContent = `The card's profile could not be read (${errorText(err)}); saving replaces it.`;
    }
    let compiles = false;
    if (profile) {
      const out = JSON.parse(this.tools.compile_profile(JSON.stringify(profile)));
      compiles = out.description === text(c.description) && out.personality === text(c.personality);
    }
    this.profile.load(profile, compiles);
    this.profileDetails.open = Boolean(profile);
    this.freeText = compiles ? { description: '', personality: '' } : null;
    this.lorebook.load(c.character_book);
    this.lorebookDetails.open = Boolean(c.character_book?.entries?.length);
    this.adapter.load(this.record?.adapter);
    this.suggestions.reset();
    this.adapterDetails.open = Boolean(this.record?.adapter);
    this.renderAvatar();
  }

  renderAvatar() {
    const name = this.f.name.control.value.trim() || '?';
    const shown = avatarElement(
      this.avatar ? { id: `editor:${this.record?.id || 'new'}`, avatar: this.avatar.bytes, avatarMime: this.avatar.mime } : null,
      name, 'avatar avatar-huge',
    );
    shown.classList.add('ed-avatar-image');
    if (this.avatar) shown.alt = 'Avatar';
    this.avatarSlot.replaceWith(shown);
    this.avatarSlot = shown;
    this.removeAvatar.hidden = !this.avatar;
  }

  async uploadAvatar(file) {
    try {
      this.avatar = await avatarFromFile(file);
      this.avatarVersion += 1;
      this.renderAvatar();
      this.status.textContent = `Avatar set (${this.avatar.width} × ${this.avatar.height}).`;
      this.changed();
    } catch (err) {
      this.status.textContent = `Could not use ${file.name}: ${errorText(err)}`;
    }
  }

  // The card as edited: the stored card with every field the form shows replaced, and the
  // profile stored in its extensions (its compiled text written in when chosen).
  collect() {
    const card = structuredClone(this.base);
    for (const key of Object.keys(FIELDS)) {
      if (key === 'tags' || key === 'nickname') continue;
      card[key] = this.f[key].control.value;
    }
    card.name = card.name.trim();
    const nickname = this.f.nickname.control.value.trim();
    if (nickname) card.nickname = nickname;
    else delete card.nickname;
    card.tags = [...new Set(splitList(this.f.tags.control.value))];
    card.alternate_greetings = this.greetings.values;
    const book = this.lorebook.value;
    if (book) card.character_book = book;
    else delete card.character_book;
    const hadProfile = Boolean(card.extensions?.kindred?.profile);
    if (!this.profile.isEmpty || hadProfile || this.profile.compiles) {
      return JSON.parse(this.tools.store_card_profile(JSON.stringify(card), JSON.stringify(this.profile.value), this.profile.compiles));
    }
    return card;
  }

  fingerprint() {
    return `${JSON.stringify(this.collectSafely())}|${this.avatarVersion}|${JSON.stringify(this.adapter.value)}`;
  }

  collectSafely() {
    try {
      return this.collect();
    } catch {
      return null;
    }
  }

  get dirty() {
    return this.built && Boolean(this.hash) && this.fingerprint() !== this.snapshot;
  }

  profileChanged() {
    this.studioPanel?.renderTraits();
    const compiles = this.profile.compiles;
    if (compiles && !this.freeText) {
      this.freeText = { description: this.f.description.control.value, personality: this.f.personality.control.value };
    } else if (!compiles && this.freeText) {
      this.f.description.control.value = this.freeText.description;
      this.f.personality.control.value = this.freeText.personality;
      this.freeText = null;
    }
    this.changed();
  }

  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), WAIT_MS);
    this.root.dataset.dirty = 'true';
  }

  // Compiled profile text, the token count, the dirty mark: all from the form as it is.
  refresh() {
    let compiled = null;
    try {
      compiled = this.profile.compile();
    } catch (err) {
      this.status.textContent = `The profile could not be compiled: ${errorText(err)}`;
    }
    const compiles = this.profile.compiles && compiled;
    for (const key of ['description', 'personality']) {
      const control = this.f[key].control;
      control.readOnly = Boolean(compiles);
      if (compiles) control.value = compiled[key];
    }
    this.profileNote.hidden = !compiles;
    if (document.activeElement !== this.f.name.control) this.renderAvatar();
    const card = this.collectSafely();
    if (card) this.tokens.update(card);
    this.root.dataset.dirty = String(this.dirty);
  }

  // Called by the router before it shows another view: false keeps the editor (the address
  // is put back) and asks what to do with the unsaved changes.
  canLeave(hash) {
    if (document.body.dataset.view !== 'editor' || !this.built || hash === this.hash) return true;
    if (!this.dirty) {
      this.close();
      return true;
    }
    history.replaceState(null, '', this.hash);
    this.pendingHash = hash;
    this.leaveBar.hidden = false;
    this.leaveBar.querySelector('button')?.focus();
    return false;
  }

  // Another view: the form goes away entirely, so its labels never shadow another view's
  // controls, and the next open builds it afresh.
  close() {
    clearTimeout(this.timer);
    this.tokens.dispose();
    this.tryChat.stop();
    this.checkPanel.stop();
    this.studioPanel.stop();
    this.root.replaceChildren();
    this.built = false;
    this.hash = '';
  }

  engineEvent(msg) {
    if (!this.built) return;
    this.tokens.onEngine(msg);
    this.tryChat.onEngine(msg);
    this.checkPanel.onEngine(msg);
    this.studioPanel.onEngine(msg);
  }

  async save(then = null) {
    const name = this.f.name.control.value.trim();
    if (!name) {
      this.f.name.control.setAttribute('aria-invalid', 'true');
      this.status.textContent = NAME_REQUIRED;
      this.leaveBar.hidden = true;
      this.f.name.control.focus();
      return;
    }
    this.f.name.control.removeAttribute('aria-invalid');
    this.saveButton.disabled = true;
    try {
      const edited = this.collect();
      const now = Date.now();
      edited.modification_date = Math.floor(now / 1000);
      if (!Number.isInteger(edited.creation_date)) edited.creation_date = edited.modification_date;
      const card = this.tools.normalize_card(JSON.stringify(edited));
      const old = this.record;
      const copy = old?.origin === 'starter';
      const record = old && !copy ? { ...old } : {
        id: newId('char'),
        origin: 'created',
        lorebooks: structuredClone(old?.lorebooks || []),
        createdAt: now,
      };
      if (copy) record.copiedFrom = old.id;
      record.card = card;
      record.spec = 'v3';
      record.avatar = this.avatar?.bytes || null;
      record.avatarMime = this.avatar ? this.avatar.mime : null;
      const adapter = this.adapter.value;
      if (adapter) record.adapter = adapter;
      else delete record.adapter;
      await putCharacter(this.d.db, record);
      forgetAvatar(record.id);
      this.snapshot = this.fingerprint();
      this.root.dataset.dirty = 'false';
      this.leaveBar.hidden = true;
      this.d.notify(copy ? `Saved your copy of ${displayName(record)}; the original is still in the library.`
        : `Saved ${displayName(record)}.`);
      this.record = record;
      this.hash = `#/edit/${encodeURIComponent(record.id)}`;
      this.d.navigate(then || `#/character/${encodeURIComponent(record.id)}`);
    } catch (err) {
      this.status.textContent = `Could not save: ${errorText(err)}`;
    } finally {
      this.saveButton.disabled = false;
    }
  }
}
