// A chat that may be a room: several characters (and a narrator) taking turns. One-to-one
// chats behave exactly as in ChatController. In a room, after the user speaks the room's
// strategy chooses who answers (in Rust, rooms.rs), replies follow one another, a member can
// be made to talk, and an autonomous run lets the characters talk among themselves for N
// turns. Stop (or Esc) ends the reply in hand, keeping its text, and the run with it.
import { ChatController, nextMessageId } from './chat.js';
import { getChat, listMessages, putChat, touchChat, newSwipe, currentSwipe } from './chat-store.js';
import { getCharacter } from './character-store.js';
import { substituteNames } from './names.js';
import {
  isRoom, roomCall, roomMessages, authorName, withoutName, castOf, createRoom, MAX_AUTONOMOUS_TURNS,
} from './room-store.js';
import { emptyMemory } from './memory.js';
import { getMemory } from './memory-store.js';
import { RoomPanel } from './room-view.js';

export class RoomController extends ChatController {
  constructor(deps) {
    super(deps);
    this.room = null;
    this.cast = new Map();
    this.queue = [];
    this.auto = null;
    this.running = false;
    // Between the turns of a run no reply is in flight, yet the page is still busy: Stop
    // and Esc must reach the run, and Send must wait.
    const report = deps.busyChanged;
    deps.busyChanged = (on) => report(on || this.running);
    this.report = report;
    this.panel = new RoomPanel(this);
  }

  get busy() {
    return this.reply !== null || this.running;
  }

  get charName() {
    if (!this.room) return super.charName;
    const target = this.reply?.target || this.messages[this.messages.length - 1];
    return target?.author ? authorName(this.room, target.author) : this.chat?.title || 'Room';
  }

  async open(chatId) {
    const chat = await getChat(this.d.db, chatId);
    if (!isRoom(chat)) {
      this.room = null;
      this.panel.hide();
      return super.open(chatId);
    }
    const records = await Promise.all(chat.room.members.map((m) => getCharacter(this.d.db, m.character_id)));
    const messages = await listMessages(this.d.db, chatId);
    for (const m of messages) {
      for (const s of m.swipes) {
        if (s.status === 'streaming') s.status = 'interrupted';
      }
    }
    // The room's own memory (pinned facts, summaries), never the previous chat's.
    this.memory = await getMemory(this.d.db, chatId).catch(() => emptyMemory(chatId));
    this.chat = chat;
    this.room = chat.room;
    this.cast = new Map(records.filter(Boolean).map((r) => [r.id, r]));
    this.messages = messages;
    this.character = this.roomCharacter();
    this.setViewContext();
    this.renderAll();
    this.showMemory?.();
    this.panel.show();
    this.warm();
    return { chat, character: this.character };
  }

  close() {
    this.halt();
    super.close();
  }

  // What the page header shows for a room: its name and who is in it.
  roomCharacter() {
    const names = this.room.members.map((m) => m.name).join(', ');
    return { id: `room:${this.chat.id}`, card: { name: this.chat.title || 'Room', description: names }, avatar: null };
  }

  setViewContext() {
    if (!this.room) {
      super.setViewContext();
      return;
    }
    const user = this.persona().name;
    const nameOf = (m) => (m?.author ? authorName(this.room, m.author) : this.charName);
    this.d.view.setContext({
      names: { char: this.chat.title || 'the room', user: 'You' },
      avatar: (m) => this.avatarOf(m?.author),
      display: (text, m) => substituteNames(text, nameOf(m), user),
      author: (m) => (m.role === 'assistant' && m.author ? { id: m.author.id || m.author.kind, name: nameOf(m) } : null),
    });
  }

  avatarOf(author) {
    const record = author?.kind === 'character' ? this.cast.get(author.id) : null;
    const name = authorName(this.room, author);
    return this.d.avatar(record || { id: `narrator:${name}`, card: { name } }, 'avatar avatar-small');
  }

  async saveRoom() {
    this.chat.room = this.room;
    this.character = this.roomCharacter();
    try {
      await touchChat(this.d.db, this.chat.id, { room: this.room });
    } catch (err) {
      this.d.notify(`The room could not be saved (${err.message}).`);
    }
  }

  // Applies one change (see RoomChange in rooms.rs) and keeps it.
  async change(change) {
    if (!this.room) return;
    try {
      this.room = await roomCall('room_change', { room: this.room, change });
    } catch (err) {
      this.d.notify(err.message);
      return;
    }
    await this.saveRoom();
    this.setViewContext();
    this.renderAll();
    this.panel.show();
  }

  // A fresh conversation with the same members and settings.
  async newRoomChat() {
    const records = this.room.members.map((m) => this.cast.get(m.character_id)).filter(Boolean);
    const fresh = await createRoom(this.d.db, this.chat.title || '', records);
    const { strategy, prompt_mode: promptMode, allow_self_responses: allowSelf, narrator } = this.room;
    const muted = new Set(this.room.members.filter((m) => m.muted).map((m) => m.character_id));
    fresh.room = {
      ...fresh.room, strategy, prompt_mode: promptMode, allow_self_responses: allowSelf, narrator,
      members: fresh.room.members.map((m) => ({ ...m, muted: muted.has(m.character_id) })),
    };
    await putChat(this.d.db, fresh);
    return fresh;
  }

  async addMember(record) {
    this.cast.set(record.id, record);
    await this.change({ op: 'add', member: castOf([record])[0] });
  }

  // The speaker's card, the others' and the history with every author's name.
  request(history, mode) {
    const base = super.request(history, mode);
    if (!this.room) return base;
    const author = this.reply?.target?.author || { kind: 'character', id: this.room.members[0]?.character_id };
    const narrating = author.kind === 'narrator';
    const speaker = narrating ? null : this.cast.get(author.id);
    const others = this.room.members.filter((m) => narrating || m.character_id !== author.id)
      .map((m) => this.cast.get(m.character_id)?.card || { name: m.name });
    return {
      ...base,
      card: speaker?.card || { name: authorName(this.room, author) },
      adapter: speaker?.adapter ?? undefined,
      lorebooks: (speaker?.lorebooks || []).map((l) => l.book).filter(Boolean),
      history: history.map((m) => {
        const text = currentSwipe(m).text;
        if (m.role === 'user') return { author: 'user', text };
        if (m.author?.kind === 'narrator') return { author: 'narrator', name: authorName(this.room, m.author), text };
        return { author: 'char', name: authorName(this.room, m.author), text };
      }),
      room: { mode: this.room.prompt_mode || 'swap', others, narrator: narrating ? this.room.narrator || { name: 'Narrator' } : null },
    };
  }

  send(text) {
    if (!this.room) return super.send(text);
    if (!this.chat || this.busy || !this.d.ready()) return false;
    text = this.screenInput(text);
    if (text === null) return false;
    this.clearDraft();
    const user = {
      id: nextMessageId(), chatId: this.chat.id, role: 'user', author: { kind: 'user' },
      swipes: [newSwipe(text)], chosen: 0, createdAt: Date.now(),
    };
    user.pos = user.id;
    this.messages.push(user);
    this.begin();
    this.renderAll();
    this.answer(user).catch((err) => this.fail(err));
    return true;
  }

  async answer(user) {
    if (this.room.narrator) {
      // The user may roll too ("I swing: {{roll:d20}}"), with the room's dice.
      const swipe = currentSwipe(user);
      swipe.text = await this.rollDice(swipe.text);
      this.rerender(user);
    }
    await this.save(user);
    const out = await roomCall('room_next_speakers', { room: this.room, messages: roomMessages(this.messages) });
    await this.keepRandomState(out.room);
    this.queue = out.speakers;
    if (!this.queue.length) this.panel.status('Nobody answers on their own here: pick who talks.');
    await this.nextTurn();
  }

  // Makes one member (or the narrator) answer now, muted or not.
  talk(author) {
    if (!this.room || this.busy || !this.d.ready()) return;
    this.begin();
    this.takeTurn(author);
  }

  // Lets the characters talk among themselves for `turns` turns.
  runAutonomous(turns) {
    if (!this.room || this.busy || !this.d.ready()) return;
    const n = Math.max(1, Math.min(MAX_AUTONOMOUS_TURNS, Math.floor(Number(turns)) || 1));
    this.begin();
    this.auto = { state: null, turns: n, taken: 0 };
    this.nextTurn().catch((err) => this.fail(err));
  }

  begin() {
    this.running = true;
    this.queue = [];
    this.runChat = this.chat.id;
    this.report(true);
    document.body.dataset.roomRunning = 'true';
  }

  async nextTurn() {
    if (!this.running || this.chat?.id !== this.runChat) return this.end();
    let speaker = this.queue.shift() || null;
    if (!speaker && this.auto) speaker = await this.autonomousNext();
    if (!this.running) return this.end();
    if (!speaker || !this.d.ready()) return this.end();
    this.takeTurn(speaker);
  }

  async autonomousNext() {
    const { state, turns } = this.auto;
    const out = await roomCall('room_autonomous_next', {
      room: this.room, messages: roomMessages(this.messages), autonomous: state, turns,
    });
    await this.keepRandomState(out.room);
    if (!this.auto) return null;
    this.auto.state = out.autonomous;
    if (!out.speaker) {
      const why = { no_speaker: 'Nobody was left to talk.', user_spoke: 'You spoke, so they stopped.' }[out.stop_reason];
      if (why) this.panel.status(why);
      this.auto = null;
      return null;
    }
    this.auto.taken += 1;
    this.panel.status(`They are talking among themselves: turn ${this.auto.taken} of ${this.auto.turns}. Stop or Esc ends it.`);
    return out.speaker;
  }

  // Only the random state comes back from a choice: a member muted meanwhile stays muted.
  async keepRandomState(room) {
    if (!room?.rng || !this.room) return;
    this.room = { ...this.room, rng: room.rng };
    await this.saveRoom();
  }

  takeTurn(speaker) {
    const author = speaker.kind === 'narrator' ? { kind: 'narrator' } : { kind: 'character', id: speaker.id };
    const reply = {
      id: nextMessageId(), chatId: this.chat.id, role: 'assistant', author,
      swipes: [newSwipe('', 'streaming')], chosen: 0, createdAt: Date.now(),
    };
    reply.pos = reply.id;
    this.messages.push(reply);
    document.getElementById('typing-name').textContent = authorName(this.room, author);
    this.generate(reply, this.messages.slice(0, -1), 'reply');
  }

  onToken(msg) {
    if (this.room && this.reply && msg.id === this.reply.genId && !this.reply.base) {
      msg = { ...msg, text: withoutName(msg.text, authorName(this.room, this.reply.target.author)) };
    }
    super.onToken(msg);
  }

  async finish(text, status, note, stats) {
    if (!this.room || !this.reply) return super.finish(text, status, note, stats);
    const author = this.reply.target.author;
    // A continuation keeps its leading space; a new reply loses the name it may repeat.
    let said = this.reply.base ? text : withoutName(text, authorName(this.room, author));
    if (author?.kind === 'narrator' && status === 'done') said = await this.rollDice(said);
    if (status !== 'done') this.halt();
    await super.finish(said, status, note, stats);
    if (this.running) await this.nextTurn().catch((err) => this.fail(err));
    else this.end();
  }

  async rollDice(text) {
    if (!/\{\{\s*roll/i.test(text)) return text;
    const out = await roomCall('room_roll_dice', { room: this.room, text });
    await this.keepRandomState(out.room);
    return out.text;
  }

  stop() {
    const inFlight = this.reply !== null;
    this.halt();
    if (inFlight) super.stop();
    else this.end();
  }

  // Ends the run: no next turn once the reply in hand (if any) finishes.
  halt() {
    this.queue = [];
    this.auto = null;
    this.running = false;
  }

  end() {
    this.halt();
    document.body.dataset.roomRunning = 'false';
    this.report(this.reply !== null);
    if (this.room) this.panel.show();
    this.warm();
  }

  // Mid-run the next speaker answers at once: nothing to read ahead for.
  warm() {
    if (!this.running) super.warm();
  }

  fail(err) {
    this.d.notify(`The room could not go on (${err.message}).`);
    this.end();
  }
}
