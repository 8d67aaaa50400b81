// The library: starter and imported characters as cards with search and a tag filter,
// recent chats, import by file pick or drop; and one character's page with its chats,
// lorebooks and exports.
import {
  listCharacters, getCharacter, putCharacter, deleteCharacter, characterFromImport, displayName, tagline, tagsOf,
  readCardFile, MAX_IMPORT,
} from './character-store.js';
import { listChats, newChatFor, deleteChat } from './chat-store.js';
import { avatarElement, forgetAvatar, pngBytes } from './avatar.js';
import { rustTools, errorText } from './wasm.js';
import { download } from './download.js';
import { fileStem } from './names.js';
import { isRoom } from './room-store.js';
import { roomItem } from './room-library.js';

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function when(ms) {
  const d = new Date(ms);
  if (!Number.isFinite(d.getTime())) return '';
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

export function matches(record, query, tag) {
  if (tag && !tagsOf(record).some((t) => t.toLowerCase() === tag.toLowerCase())) return false;
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const card = record.card || {};
  return [displayName(record), card.description, card.creator_notes, ...tagsOf(record)]
    .some((v) => typeof v === 'string' && v.toLowerCase().includes(q));
}

export class Library {
  // deps: {db, navigate(hash), notify(text)}
  constructor(deps) {
    this.d = deps;
    this.query = '';
    this.tag = '';
    this.characters = [];
    this.current = null;
    $('search').addEventListener('input', (e) => { this.query = e.target.value; this.renderGrid(); });
    $('import-file').addEventListener('change', (e) => {
      this.importFiles([...e.target.files]);
      e.target.value = '';
    });
    $('character-new-chat').addEventListener('click', () => this.newChat(this.current));
    $('character-delete').addEventListener('click', () => this.deleteCurrent());
    for (const b of document.querySelectorAll('[data-export]')) {
      b.addEventListener('click', () => this.exportCurrent(b.dataset.export));
    }
    $('lorebook-file').addEventListener('change', (e) => {
      const [file] = e.target.files;
      e.target.value = '';
      if (file) this.attachLorebook(file);
    });
    this.bindDrop();
  }

  bindDrop() {
    const over = (e) => {
      if (![...(e.dataTransfer?.types || [])].includes('Files')) return;
      e.preventDefault();
      document.body.classList.add('dropping');
    };
    document.addEventListener('dragover', over);
    document.addEventListener('dragleave', (e) => {
      if (e.relatedTarget === null) document.body.classList.remove('dropping');
    });
    document.addEventListener('drop', (e) => {
      document.body.classList.remove('dropping');
      const files = [...(e.dataTransfer?.files || [])];
      if (!files.length) return;
      e.preventDefault();
      if (document.body.dataset.view === 'character' && this.current && files.every((f) => /\.json$/i.test(f.name))) {
        this.dropOnCharacter(files);
      } else {
        this.importFiles(files);
      }
    });
  }

  async dropOnCharacter(files) {
    for (const file of files) {
      try {
        await readCardFile(file);
        await this.importFiles([file]);
      } catch {
        await this.attachLorebook(file);
      }
    }
  }

  status(text, id = 'import-status') {
    $(id).textContent = text;
  }

  async importFiles(files) {
    const done = [];
    const failed = [];
    for (const file of files) {
      try {
        const imported = await readCardFile(file);
        const record = characterFromImport(imported, 'imported');
        await putCharacter(this.d.db, record);
        done.push(displayName(record));
      } catch (err) {
        failed.push(`${file.name}: ${errorText(err)}`);
      }
    }
    const parts = [];
    if (done.length) parts.push(`Imported ${done.join(', ')}.`);
    if (failed.length) parts.push(`Could not import ${failed.join('; ')}`);
    this.status(parts.join(' '));
    document.body.dataset.lastImport = done.length ? 'ok' : 'failed';
    if (document.body.dataset.view === 'library') await this.show();
    else if (document.body.dataset.view === 'character') this.status(parts.join(' '), 'character-status');
  }

  async show() {
    this.characters = await listCharacters(this.d.db);
    this.characters.sort((a, b) => {
      const oa = a.origin === 'starter' ? a.order ?? 0 : -1;
      const ob = b.origin === 'starter' ? b.order ?? 0 : -1;
      return oa - ob || (b.createdAt || 0) - (a.createdAt || 0);
    });
    this.renderTags();
    this.renderGrid();
    await this.renderRecent();
  }

  renderTags() {
    const counts = new Map();
    for (const c of this.characters) for (const t of tagsOf(c)) counts.set(t.toLowerCase(), (counts.get(t.toLowerCase()) || 0) + 1);
    const tags = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 16).map(([t]) => t);
    if (this.tag && !tags.includes(this.tag)) tags.unshift(this.tag);
    const box = $('tag-filter');
    box.replaceChildren(...['', ...tags].map((t) => {
      const b = el('button', 'chip', t || 'All');
      b.type = 'button';
      b.setAttribute('aria-pressed', String(this.tag === t));
      b.addEventListener('click', () => {
        this.tag = t;
        this.renderTags();
        this.renderGrid();
      });
      return b;
    }));
  }

  renderGrid() {
    const grid = $('character-grid');
    const shown = this.characters.filter((c) => matches(c, this.query, this.tag));
    grid.replaceChildren(...shown.map((c) => {
      const li = el('li', 'character-card');
      li.dataset.id = c.id;
      const open = el('a', 'open');
      open.href = `#/open/${encodeURIComponent(c.id)}`;
      open.append(avatarElement(c, displayName(c), 'avatar avatar-card'));
      const name = el('span', 'name', displayName(c));
      const line = el('span', 'line', tagline(c));
      open.append(name, line);
      const tags = el('span', 'chips');
      for (const t of tagsOf(c).slice(0, 3)) tags.append(el('span', 'chip small', t));
      open.append(tags);
      const more = el('a', 'details', 'Details');
      more.href = `#/character/${encodeURIComponent(c.id)}`;
      more.setAttribute('aria-label', `Details of ${displayName(c)}`);
      li.append(open, more);
      return li;
    }));
    if (!shown.length) grid.append(el('li', 'empty-state', 'No character matches.'));
  }

  async renderRecent() {
    const chats = (await listChats(this.d.db)).slice(0, 6);
    const byId = new Map(this.characters.map((c) => [c.id, c]));
    const list = $('recent-list');
    list.replaceChildren(...chats.map((chat) => (isRoom(chat) ? roomItem(chat, byId)
      : byId.has(chat.characterId) ? this.chatItem(chat, byId.get(chat.characterId)) : null)).filter(Boolean));
    $('recent').hidden = list.children.length === 0;
  }

  chatItem(chat, character, withDelete = false) {
    const li = el('li', 'chat-item');
    const a = el('a');
    a.href = `#/chat/${encodeURIComponent(chat.id)}`;
    a.append(avatarElement(character, displayName(character), 'avatar avatar-small'));
    const text = el('span', 'chat-text');
    text.append(el('span', 'chat-title', `${displayName(character)} · ${chat.title || 'Chat'}`));
    text.append(el('span', 'chat-preview', chat.preview || ''));
    a.append(text, el('span', 'chat-when', when(chat.updatedAt)));
    li.append(a);
    if (withDelete) {
      const del = el('button', 'ghost small danger', 'Delete');
      del.type = 'button';
      del.setAttribute('aria-label', `Delete ${chat.title || 'chat'}`);
      del.addEventListener('click', async () => {
        await deleteChat(this.d.db, chat.id);
        await this.showCharacter(character.id);
      });
      li.append(del);
    }
    return li;
  }

  // The newest chat with the character, or a new one.
  async openCharacter(id) {
    const character = await getCharacter(this.d.db, id);
    if (!character) throw new Error('This character no longer exists.');
    const [latest] = await listChats(this.d.db, id);
    const chat = latest || await this.createChatFor(character);
    this.d.navigate(`#/chat/${encodeURIComponent(chat.id)}`, true);
  }

  createChatFor(character) {
    return newChatFor(this.d.db, character);
  }

  async newChat(character) {
    if (!character) return;
    const chat = await this.createChatFor(character);
    this.d.navigate(`#/chat/${encodeURIComponent(chat.id)}`);
  }

  async showCharacter(id) {
    const c = await getCharacter(this.d.db, id);
    if (!c) throw new Error('This character no longer exists.');
    // Read everything first, so the page never shows this name over the last character's details.
    const chats = await listChats(this.d.db, id);
    this.current = c;
    const name = displayName(c);
    $('character-title').textContent = name;
    $('character-avatar').replaceWith(Object.assign(avatarElement(c, name, 'avatar avatar-huge'), { id: 'character-avatar' }));
    $('character-tags').replaceChildren(...tagsOf(c).map((t) => el('span', 'chip small', t)));
    $('character-delete').hidden = c.origin === 'starter';
    $('character-status').textContent = '';
    $('character-chats').replaceChildren(...chats.map((chat) => this.chatItem(chat, c, true)));
    if (!chats.length) $('character-chats').append(el('li', 'empty-state', 'No chats yet.'));
    this.renderBooks(c);
    const about = $('character-about');
    about.replaceChildren();
    const card = c.card || {};
    for (const [label, value] of [['Description', card.description], ['Personality', card.personality],
      ['Scenario', card.scenario], ['Creator notes', card.creator_notes], ['Creator', card.creator]]) {
      if (typeof value !== 'string' || !value.trim()) continue;
      about.append(el('h4', '', label), el('p', 'about-text', value.length > 4000 ? `${value.slice(0, 4000)}…` : value));
    }
    return c;
  }

  renderBooks(c) {
    const list = $('character-books');
    const own = c.card?.character_book?.entries?.length || 0;
    const items = [];
    if (own) items.push(el('li', '', `Built into the card: ${own} entr${own === 1 ? 'y' : 'ies'}`));
    (c.lorebooks || []).forEach((b, i) => {
      const li = el('li', 'book');
      li.append(el('span', '', `${b.name || 'Lorebook'}: ${b.book?.entries?.length || 0} entries`));
      const del = el('button', 'ghost small', 'Remove');
      del.type = 'button';
      del.setAttribute('aria-label', `Remove lorebook ${b.name || ''}`.trim());
      del.addEventListener('click', async () => {
        c.lorebooks.splice(i, 1);
        await putCharacter(this.d.db, c);
        this.renderBooks(c);
      });
      li.append(del);
      items.push(li);
    });
    if (!items.length) items.push(el('li', 'empty-state', 'None. Attach a lorebook (World Info) JSON file.'));
    list.replaceChildren(...items);
  }

  async attachLorebook(file) {
    const c = this.current;
    if (!c) return;
    try {
      if (file.size > MAX_IMPORT) throw new Error('the file is larger than 32 MB');
      const tools = await rustTools();
      const { book } = tools.import_lorebook(await file.text());
      const name = (typeof book.name === 'string' && book.name.trim()) || file.name.replace(/\.json$/i, '');
      c.lorebooks = [...(c.lorebooks || []), { name: name.slice(0, 100), book }];
      await putCharacter(this.d.db, c);
      this.renderBooks(c);
      this.status(`Attached ${name}.`, 'character-status');
    } catch (err) {
      this.status(`Could not attach ${file.name}: ${errorText(err)}`, 'character-status');
    }
  }

  async exportCurrent(choice) {
    const c = this.current;
    if (!c) return;
    try {
      const tools = await rustTools();
      const [kind, spec] = choice === 'json-v2' ? ['json', 'v2'] : [choice, 'v3'];
      const avatar = kind === 'png' ? await pngBytes(c) : c.avatar ? new Uint8Array(c.avatar) : null;
      const bytes = tools.export_card(JSON.stringify(c.card), avatar, kind, spec);
      const type = { png: 'image/png', json: 'application/json', charx: 'application/zip' }[kind];
      download(bytes, `${fileStem(displayName(c))}.${kind}`, type);
      this.status(`Exported ${displayName(c)} as ${kind.toUpperCase()}${kind === 'json' ? ` ${spec.toUpperCase()}` : ''}.`, 'character-status');
    } catch (err) {
      this.status(`Could not export: ${errorText(err)}`, 'character-status');
    }
  }

  async deleteCurrent() {
    const c = this.current;
    if (!c || c.origin === 'starter') return;
    const button = $('character-delete');
    // A second press confirms; no blocking dialog.
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = `Really delete ${displayName(c)} and all chats?`;
      setTimeout(() => { button.dataset.armed = 'false'; button.textContent = 'Delete character'; }, 5000);
      return;
    }
    button.dataset.armed = 'false';
    button.textContent = 'Delete character';
    await deleteCharacter(this.d.db, c.id);
    forgetAvatar(c.id);
    this.current = null;
    this.d.navigate('#/');
  }
}
