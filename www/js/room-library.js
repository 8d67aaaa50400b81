// Rooms in the library: the list of rooms, a form to create one (a name and two or more
// characters), and the item a room gets under recent chats.
import { listCharacters, displayName } from './character-store.js';
import { deleteChat } from './chat-store.js';
import { avatarElement } from './avatar.js';
import { errorText } from './wasm.js';
import { createRoom, listRooms } from './room-store.js';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function when(ms) {
  const d = new Date(ms);
  if (!Number.isFinite(d.getTime())) return '';
  return d.toDateString() === new Date().toDateString()
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

// A room as a chat list item: its members' avatars, name, last words and time.
export function roomItem(chat, byId) {
  const li = el('li', 'chat-item room-item');
  const a = el('a');
  a.href = `#/chat/${encodeURIComponent(chat.id)}`;
  const faces = el('span', 'room-faces');
  for (const m of chat.room.members.slice(0, 3)) {
    faces.append(avatarElement(byId.get(m.character_id) || { id: m.character_id }, m.name, 'avatar avatar-small'));
  }
  const text = el('span', 'chat-text');
  text.append(el('span', 'chat-title', `${chat.title || 'Room'} · room`));
  text.append(el('span', 'chat-preview', chat.preview || chat.room.members.map((m) => m.name).join(', ')));
  a.append(faces, text, el('span', 'chat-when', when(chat.updatedAt)));
  li.append(a);
  return li;
}

export class RoomLibrary {
  // deps: {db, navigate(hash), notify(text)}
  constructor(deps) {
    this.d = deps;
    this.root = el('section', 'rooms');
    this.root.setAttribute('aria-labelledby', 'rooms-title');
    const head = el('div', 'rooms-head');
    const title = el('h3', '', 'Rooms');
    title.id = 'rooms-title';
    this.toggle = el('button', 'ghost small', 'New room');
    this.toggle.type = 'button';
    this.toggle.setAttribute('aria-expanded', 'false');
    this.toggle.addEventListener('click', () => this.openForm(this.form.hidden));
    head.append(title, this.toggle);
    this.form = this.buildForm();
    this.list = el('ul', 'recent-list room-list');
    this.list.setAttribute('aria-label', 'Rooms');
    this.root.append(head, this.form, this.list);
    const recent = document.getElementById('recent');
    recent.parentNode.insertBefore(this.root, recent);
  }

  buildForm() {
    const form = el('form', 'room-form');
    form.hidden = true;
    form.setAttribute('aria-label', 'New room');
    const name = el('label', 'room-field');
    name.append(el('span', 'room-field-name', 'Room title'));
    this.nameInput = el('input');
    Object.assign(this.nameInput, { maxLength: 100, autocomplete: 'off', placeholder: 'The tavern' });
    name.append(this.nameInput);
    this.picks = el('fieldset', 'room-picks');
    this.picks.append(el('legend', '', 'Characters (two or more)'));
    this.choices = el('div', 'room-choices');
    this.picks.append(this.choices);
    this.formStatus = el('p', 'room-status');
    this.formStatus.setAttribute('role', 'status');
    const create = el('button', 'primary', 'Create room');
    create.type = 'submit';
    const cancel = el('button', 'ghost', 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => this.openForm(false));
    const actions = el('p', 'form-actions');
    actions.append(create, cancel);
    form.append(name, this.picks, actions, this.formStatus);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.create();
    });
    return form;
  }

  async openForm(open) {
    this.form.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    if (!open) return;
    this.formStatus.textContent = '';
    const all = (await listCharacters(this.d.db)).sort((a, b) => displayName(a).localeCompare(displayName(b)));
    this.records = all;
    this.choices.replaceChildren(...all.map((r) => {
      const label = el('label', 'room-choice');
      const box = el('input');
      box.type = 'checkbox';
      box.value = r.id;
      label.append(box, avatarElement(r, displayName(r), 'avatar avatar-small'), el('span', '', displayName(r)));
      return label;
    }));
    this.nameInput.focus();
  }

  async create() {
    const ids = [...this.choices.querySelectorAll('input:checked')].map((b) => b.value);
    const picked = ids.map((id) => this.records.find((r) => r.id === id)).filter(Boolean);
    if (picked.length < 2) {
      this.formStatus.textContent = 'Pick at least two characters.';
      return;
    }
    try {
      const chat = await createRoom(this.d.db, this.nameInput.value, picked);
      this.nameInput.value = '';
      this.openForm(false);
      this.d.navigate(`#/chat/${encodeURIComponent(chat.id)}`);
    } catch (err) {
      this.formStatus.textContent = `The room could not be made: ${errorText(err)}`;
    }
  }

  async show() {
    const rooms = await listRooms(this.d.db);
    const byId = new Map((await listCharacters(this.d.db)).map((r) => [r.id, r]));
    this.list.replaceChildren(...rooms.map((chat) => {
      const li = roomItem(chat, byId);
      const del = el('button', 'ghost small danger', 'Delete');
      del.type = 'button';
      del.setAttribute('aria-label', `Delete room ${chat.title || ''}`.trim());
      del.addEventListener('click', async () => {
        await deleteChat(this.d.db, chat.id);
        await this.show();
      });
      li.append(del);
      return li;
    }));
    if (!rooms.length) this.list.append(el('li', 'empty-state', 'No rooms yet: put two or more characters in one chat.'));
  }
}
