// The room's controls above its conversation: members (talk now, mute, remove), adding a
// character, who speaks next, how prompts present the cast, the narrator, and an autonomous
// run of N turns. Built from DOM nodes; names from cards are only ever set as text.
import { listCharacters, displayName } from './character-store.js';
import { STRATEGIES, PROMPT_MODES, MAX_AUTONOMOUS_TURNS } from './room-store.js';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, className, label, onClick) {
  const b = el('button', className, text);
  b.type = 'button';
  if (label && label !== text) b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

function select(labelText, id, options, value, onChange) {
  const label = el('label', 'room-field');
  label.append(el('span', 'room-field-name', labelText));
  const s = el('select');
  s.id = id;
  for (const [v, text] of options) {
    const o = el('option', '', text);
    o.value = v;
    s.append(o);
  }
  s.value = value;
  s.addEventListener('change', () => onChange(s.value));
  label.append(s);
  return label;
}

export class RoomPanel {
  constructor(controller) {
    this.c = controller;
    this.root = el('section', 'room-panel');
    this.root.id = 'room-panel';
    this.root.setAttribute('aria-label', 'Room');
    this.root.hidden = true;
    this.details = el('details', 'room-settings');
    this.summary = el('summary');
    this.body = el('div', 'room-body');
    this.details.append(this.summary, this.body);
    this.turns = el('input');
    Object.assign(this.turns, { type: 'number', min: '1', max: String(MAX_AUTONOMOUS_TURNS), value: '3', id: 'room-turns' });
    const turnsLabel = el('label', 'room-turns');
    turnsLabel.append(el('span', '', 'Turns'), this.turns);
    this.run = button('Let them talk', 'ghost room-run-button', 'Let them talk among themselves', () => this.c.runAutonomous(this.turns.value));
    this.statusLine = el('p', 'room-status');
    this.statusLine.setAttribute('role', 'status');
    const bar = el('div', 'room-run');
    bar.append(turnsLabel, this.run, this.statusLine);
    this.root.append(this.details, bar);
    const view = document.getElementById('view-chat');
    view.insertBefore(this.root, view.firstChild);
    this.others = [];
  }

  hide() {
    this.root.hidden = true;
  }

  status(text) {
    this.statusLine.textContent = text;
  }

  // Renders the panel from the controller's room; cheap enough to redo after each change.
  show() {
    const room = this.c.room;
    if (!room) return this.hide();
    this.root.hidden = false;
    const busy = this.c.busy;
    const strategy = STRATEGIES.find(([v]) => v === room.strategy)?.[1] || '';
    this.summary.textContent = `${room.members.length} characters · ${strategy}${room.narrator ? ' · narrator' : ''}`;
    this.run.disabled = busy;
    this.turns.disabled = busy;
    if (!busy && this.statusLine.textContent.startsWith('They are talking')) this.status('');

    const list = el('ul', 'room-members');
    list.setAttribute('aria-label', 'Members');
    for (const m of room.members) list.append(this.memberRow(m, busy, room.members.length));
    if (room.narrator) {
      const li = el('li', 'room-member');
      li.append(this.c.avatarOf({ kind: 'narrator' }), el('span', 'room-member-name', `${room.narrator.name} (narrator)`));
      const talk = button('Narrate', 'ghost small', 'Let the narrator talk now', () => this.c.talk({ kind: 'narrator' }));
      talk.disabled = busy;
      li.append(talk);
      list.append(li);
    }

    const fields = el('div', 'room-fields');
    fields.append(
      select('Who speaks next', 'room-strategy', STRATEGIES, room.strategy, (v) => this.c.change({ op: 'strategy', strategy: v })),
      select('Character prompts', 'room-prompt-mode', PROMPT_MODES, room.prompt_mode || 'swap', (v) => this.c.change({ op: 'prompt_mode', mode: v })),
      this.check('room-allow-self', 'A character may answer themself', room.allow_self_responses,
        (on) => this.c.change({ op: 'allow_self', allow: on })),
      this.check('room-narrator', 'Narrator (a game master who rolls dice with {{roll:d20}})', room.narrator,
        (on) => this.c.change({ op: 'narrator', narrator: on ? { name: 'Narrator' } : null })),
    );
    if (room.narrator) fields.append(this.rules(room.narrator));

    this.body.replaceChildren(list, this.addRow(room), fields);
    this.fillCandidates(room);
  }

  check(id, text, checked, onChange) {
    const label = el('label', 'room-check');
    const box = el('input');
    Object.assign(box, { type: 'checkbox', id, checked: Boolean(checked) });
    box.addEventListener('change', () => onChange(box.checked));
    label.append(box, el('span', '', text));
    return label;
  }

  // The game's rules and tone for the narrator, kept when the box loses focus.
  rules(narrator) {
    const label = el('label', 'room-field room-rules');
    label.append(el('span', 'room-field-name', 'Game rules for the narrator'));
    const box = el('textarea');
    Object.assign(box, { rows: 2, maxLength: 4000, value: narrator.instructions || '', placeholder: 'A haunted lighthouse; the players have three lives.' });
    box.addEventListener('change', () => this.c.change({ op: 'narrator', narrator: { ...narrator, instructions: box.value } }));
    label.append(box);
    return label;
  }

  memberRow(m, busy, count) {
    const li = el('li', 'room-member');
    li.dataset.id = m.character_id;
    if (m.muted) li.classList.add('muted');
    li.append(this.c.avatarOf({ kind: 'character', id: m.character_id }), el('span', 'room-member-name', m.name));
    const talk = button('Talk', 'ghost small', `Let ${m.name} talk now`, () => this.c.talk({ kind: 'character', id: m.character_id }));
    talk.disabled = busy;
    const mute = button(m.muted ? 'Muted' : 'Mute', 'ghost small', `Mute ${m.name}`,
      () => this.c.change({ op: 'mute', character_id: m.character_id, muted: !m.muted }));
    mute.setAttribute('aria-pressed', String(Boolean(m.muted)));
    const remove = button('Remove', 'ghost small danger', `Remove ${m.name} from the room`,
      () => this.c.change({ op: 'remove', character_id: m.character_id }));
    remove.disabled = busy || count <= 2;
    li.append(talk, mute, remove);
    return li;
  }

  addRow() {
    const row = el('div', 'room-add');
    const label = el('label', 'room-field');
    label.append(el('span', 'room-field-name', 'Add a character'));
    this.candidates = el('select');
    this.candidates.id = 'room-add-select';
    label.append(this.candidates);
    const add = button('Add', 'ghost', 'Add to the room', () => {
      const record = this.others.find((r) => r.id === this.candidates.value);
      if (record) this.c.addMember(record);
    });
    this.addButton = add;
    row.append(label, add);
    return row;
  }

  async fillCandidates(room) {
    const all = await listCharacters(this.c.d.db);
    const inRoom = new Set(room.members.map((m) => m.character_id));
    this.others = all.filter((r) => !inRoom.has(r.id)).sort((a, b) => displayName(a).localeCompare(displayName(b)));
    this.candidates.replaceChildren(...this.others.map((r) => {
      const o = el('option', '', displayName(r));
      o.value = r.id;
      return o;
    }));
    this.addButton.disabled = this.others.length === 0;
  }
}
