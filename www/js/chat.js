// One open chat: its messages, the reply being written, and what the message tools do
// (swipe, rate, continue, edit, delete, branch). Writes go to IndexedDB as they happen; a
// streaming reply is written every few hundred milliseconds.
import {
  listMessages, putMessage, deleteMessage, branchChat, touchChat, currentSwipe, newSwipe, editSwipe,
  throttledWriter, getChat, putChat,
} from './chat-store.js';
import { getCharacter, displayName } from './character-store.js';
import { chatSeed, substituteNames } from './names.js';
import {
  emptyMemory, addPin, editPin, removePin, invalidate, addSummary, setLastUsed, memoryRequest,
} from './memory.js';
import { getMemory, putMemory } from './memory-store.js';
import { promptSettings } from './prefs.js';
import { chatPersona, promptPersona } from './personas.js';
import { chatAdapter } from './chat-adapter.js';
import { checkText, personaBreak } from './safety.js';
import { isQuotaError } from './db.js';
import { draftReader } from './draft.js';

export const STORAGE_FULL = 'This device\'s storage is full: the conversation is shown but not saved. '
  + 'Free some space (under Models, delete a stored model you do not use) and it is saved with your next message.';

let lastId = 0;
// Message ids are made here, not by IndexedDB, so a message can be shown (and its reply
// started) in the same task as the user's Enter, before any write finishes.
export function nextMessageId() {
  let id = Date.now() * 100;
  if (id <= lastId) id = lastId + 1;
  lastId = id;
  return id;
}

export class ChatController {
  // deps: {db, view, engine, prefs(), options(), notify(text), busyChanged(on), navigate(hash), ready(),
  //        warming(name | null, tokens, restored, read): the chat's prompt is being read ahead
  //        (name, tokens to read, tokens a stored prefix gave) or no longer (null; read: done)}
  constructor(deps) {
    this.d = deps;
    this.warmId = null;
    this.chat = null;
    this.character = null;
    this.messages = [];
    this.reply = null;
    this.undo = null;
    this.memory = emptyMemory('');
    this.unsaved = new Map();
    // The message box's text at the last pause in typing, read ahead with the chat (warm).
    this.draft = '';
    this.drafts = draftReader((draft) => {
      this.draft = draft;
      this.warm();
    });
  }

  get busy() {
    return this.reply !== null;
  }

  get charName() {
    return this.character ? displayName(this.character) : 'Character';
  }

  async open(chatId) {
    const { db } = this.d;
    const chat = await getChat(db, chatId);
    if (!chat) throw new Error('This chat no longer exists.');
    const character = await getCharacter(db, chat.characterId);
    if (!character) throw new Error('The character of this chat no longer exists.');
    let messages = await listMessages(db, chatId);
    for (const m of messages) {
      // A reply still marked as streaming was cut off when the page closed.
      for (const s of m.swipes) {
        if (s.status === 'streaming') s.status = 'interrupted';
      }
    }
    if (chat.needsGreeting) {
      // A chat from before greetings were stored: its greeting goes first now.
      const greetings = [character.card.first_mes, ...(character.card.alternate_greetings || [])]
        .filter((g) => typeof g === 'string' && g.trim());
      if (greetings.length) {
        const greeting = {
          id: nextMessageId(), chatId, pos: -1, role: 'assistant', greeting: true,
          swipes: greetings.map((g) => newSwipe(g, 'greeting')), chosen: 0, createdAt: chat.createdAt,
        };
        await putMessage(db, greeting);
        messages = [greeting, ...messages];
      }
      delete chat.needsGreeting;
      await putChat(db, chat);
    }
    this.memory = await getMemory(db, chatId).catch(() => emptyMemory(chatId));
    this.chat = chat;
    this.character = character;
    this.messages = messages;
    this.setViewContext();
    this.renderAll();
    this.showMemory();
    this.d.panel?.showPrompt(null);
    this.warm();
    return { chat, character };
  }

  close() {
    if (this.reply) this.d.engine.stop();
    this.chat = null;
    this.warm();
  }

  // While the person reads and types, the engine reads this chat's prompt as it stands, so
  // Send only adds the new message. Called whenever the history settles: the chat opened,
  // a reply finished, a message edited, deleted or swiped, the persona or the model changed.
  // A closed chat ends the warm-up.
  warm() {
    const { engine } = this.d;
    if (!engine || this.reply || this.d.readAhead === false) return;
    if (!this.chat || !this.d.ready()) {
      if (this.warmId !== null) engine.warm(null);
      this.warmId = null;
      this.d.warming?.(null);
      return;
    }
    // The message being typed is read too, as if sent (draft.js).
    const draft = this.draft ? [{ id: 'draft', role: 'user', swipes: [newSwipe(this.draft)], chosen: 0 }] : [];
    this.warmId = engine.warm(this.request([...this.messages, ...draft], 'reply'), this.d.options(), this.keepId());
  }

  // The message box changed: its text is read ahead after a pause in the typing.
  draftChanged(text) {
    this.drafts.changed(text);
  }

  // Sent: the draft is a message now.
  clearDraft() {
    this.drafts.cancel();
    this.draft = '';
  }

  // The chat whose prompt prefixes the engine may keep on this device and restore (none when
  // reading ahead is off: ?warm=0 measures and tests the cold path).
  keepId() {
    return this.d.readAhead === false ? null : this.chat?.id ?? null;
  }

  onWarm(msg) {
    if (msg.id !== this.warmId) return;
    const reading = msg.state === 'reading' && this.chat;
    const read = msg.state === 'ready' ? { read: msg.n_prompt - msg.n_reused, shifted: msg.n_shifted ?? 0 } : null;
    this.d.warming?.(reading ? this.charName : null, reading ? msg.n_prompt - msg.n_reused : 0, msg.restored, read);
  }

  // Who the user is in this chat: the chat's own persona, else the default one.
  persona() {
    return chatPersona(this.d.prefs(), this.chat?.personaId);
  }

  // This chat's adapter: undefined for the character's, null for none, or {id, name, scale}.
  async setAdapter(choice) {
    if (!this.chat || this.reply) return;
    if (choice === undefined) delete this.chat.adapter;
    else this.chat.adapter = choice;
    await putChat(this.d.db, this.chat);
    this.warm();
  }

  async setPersona(personaId) {
    if (!this.chat || this.reply) return;
    this.chat.personaId = personaId;
    await putChat(this.d.db, this.chat);
    this.setViewContext();
    this.renderAll();
    this.warm();
  }

  setViewContext() {
    const user = this.persona().name;
    const char = this.charName;
    this.d.view.setContext({
      names: { char, user: 'You' },
      avatar: () => this.d.avatar(this.character, 'avatar avatar-small'),
      display: (text) => substituteNames(text, char, user),
    });
  }

  state() {
    const lastId = this.messages.length ? this.messages[this.messages.length - 1].id : undefined;
    return { busy: this.busy, lastId, cutUntil: this.chat?.cutUntil };
  }

  renderAll() {
    this.d.view.render(this.messages, this.state());
    this.d.view.scrollToEnd();
  }

  rerender(m) {
    this.d.view.update(m, this.state());
  }

  find(id) {
    return this.messages.find((m) => m.id === id);
  }

  // A message that could not be written (a full disk) stays in `unsaved` and is written again,
  // in order, with the next save that goes through: freeing space loses nothing shown.
  async save(m) {
    this.unsaved.set(m.id, m);
    try {
      for (const [id, message] of this.unsaved) {
        await putMessage(this.d.db, message);
        this.unsaved.delete(id);
      }
      await touchChat(this.d.db, m.chatId, { preview: currentSwipe(this.messages[this.messages.length - 1] || m).text.slice(0, 140) });
    } catch (err) {
      this.d.notify(isQuotaError(err) ? STORAGE_FULL : `The conversation could not be saved (${err.message}).`);
    }
  }

  request(history, mode) {
    const prefs = this.d.prefs();
    const seed = chatSeed(this.chat.id);
    return {
      card: this.character.card,
      persona: promptPersona(this.persona()),
      history: history.map((m) => ({ author: m.role === 'user' ? 'user' : 'char', text: currentSwipe(m).text })),
      lorebooks: (this.character.lorebooks || []).map((l) => l.book).filter(Boolean),
      settings: promptSettings(prefs, seed),
      scan: { seed },
      mode,
      memory: memoryRequest(this.memory, history),
      // Sticky, cooldown and after-match lorebook entries remember across turns.
      lore_state: this.chat.loreState ?? undefined,
      // The character trained elsewhere: its LoRA adapter (or this chat's choice), put on the
      // model for its replies.
      adapter: chatAdapter(this.character, this.chat) ?? undefined,
    };
  }

  showMemory() {
    this.d.panel?.render(this.memory, this.messages);
  }

  async saveMemory() {
    try {
      await putMemory(this.d.db, this.memory);
    } catch (err) {
      this.d.notify(`The memory could not be saved (${err.message}).`);
    }
    this.showMemory();
  }

  // A message's text changed or it went away: summaries built on it no longer hold.
  forget(id) {
    if (invalidate(this.memory, id) > 0) this.saveMemory();
  }

  pin(id) {
    const m = this.find(id);
    if (!m) return;
    try {
      addPin(this.memory, currentSwipe(m).text, m.id);
    } catch (err) {
      this.d.notify(err.message);
      return;
    }
    this.saveMemory();
    this.d.notify('Pinned to memory.');
  }

  addPin(text) {
    try {
      addPin(this.memory, text);
    } catch (err) {
      this.d.notify(err.message);
      return false;
    }
    this.saveMemory();
    return true;
  }

  editPin(pinId, text) {
    if (editPin(this.memory, pinId, text)) this.saveMemory();
  }

  removePin(pinId) {
    if (removePin(this.memory, pinId)) this.saveMemory();
  }

  // A summary written by this chat's warm-up, or before its reply when it does not read ahead.
  onSummary(msg) {
    const ours = this.reply ? msg.id === this.reply.genId && this.reply.target.chatId === this.chat?.id
      : msg.id === this.warmId && Boolean(this.chat);
    if (!ours) return;
    if (addSummary(this.memory, msg)) this.saveMemory();
  }

  // Starts writing into `target`'s chosen swipe; `history` is what the model sees.
  generate(target, history, mode) {
    const swipe = currentSwipe(target);
    const base = mode === 'continue' ? swipe.text : '';
    swipe.status = 'streaming';
    delete swipe.note;
    const saved = this.save(target);
    const writer = throttledWriter(async () => {
      await saved;
      await putMessage(this.d.db, target);
    });
    this.reply = { genId: 0, target, history, base, writer, saved };
    this.warmId = null;
    this.d.warming?.(null);
    this.d.busyChanged(true);
    this.renderAll();
    this.reply.genId = this.d.engine.generate(this.request(history, mode), this.d.options(), this.keepId());
  }

  // The safety rules over what the user typed: the text to send (masked where they mask),
  // or null when it must not be sent; the user is told why either way.
  screenInput(text) {
    const verdict = checkText(this.d.prefs().safety, text, 'input');
    if (!verdict) {
      this.d.notify('The safety check is still loading: try again in a moment.');
      return null;
    }
    if (verdict.message) this.d.notify(verdict.message);
    return verdict.action === 'block' ? null : verdict.text;
  }

  // The rules and persona-break detection over a finished reply. Replies stream token by
  // token, so the check runs once the reply is complete: a word may be on screen while the
  // reply is written, then the stored and shown text is the checked one.
  screenOutput(swipe) {
    delete swipe.safety;
    delete swipe.personaBreak;
    if (!swipe.text) return;
    const verdict = checkText(this.d.prefs().safety, swipe.text, 'output');
    if (verdict?.action) {
      swipe.safety = verdict.action;
      swipe.text = verdict.action === 'block' ? '' : verdict.text;
      swipe.note = [swipe.note, verdict.message].filter(Boolean).join(' · ');
    }
    const broke = personaBreak(swipe.text, this.persona().name);
    if (broke?.is_break) {
      swipe.personaBreak = broke.ai_disclaimers.length ? 'out of character' : 'wrote your lines';
    }
  }

  send(text) {
    if (!this.chat || this.reply || !this.d.ready()) return false;
    text = this.screenInput(text);
    if (text === null) return false;
    this.clearDraft();
    const user = { id: nextMessageId(), chatId: this.chat.id, role: 'user', swipes: [newSwipe(text)], chosen: 0, createdAt: Date.now() };
    user.pos = user.id;
    const reply = { id: nextMessageId(), chatId: this.chat.id, role: 'assistant', swipes: [newSwipe('', 'streaming')], chosen: 0, createdAt: Date.now() };
    reply.pos = reply.id;
    this.messages.push(user, reply);
    const history = this.messages.slice(0, -1);
    this.save(user);
    this.generate(reply, history, 'reply');
    return true;
  }

  onPrompt(msg) {
    if (!this.reply || msg.id !== this.reply.genId || this.reply.target.chatId !== this.chat?.id) return;
    const cut = Array.isArray(msg.cut) ? msg.cut.filter(Number.isInteger) : [];
    const last = cut.length ? this.reply.history[Math.max(...cut)] : undefined;
    const cutUntil = last?.id;
    document.body.dataset.lore = Array.isArray(msg.lore) ? msg.lore.join('|') : '';
    setLastUsed(this.memory, msg.memory);
    this.d.panel?.showPrompt({ text: msg.prompt_text, tokens: msg.prompt_tokens });
    this.saveMemory();
    if (cutUntil === this.chat.cutUntil) return;
    this.chat.cutUntil = cutUntil;
    touchChat(this.d.db, this.chat.id, { cutUntil }).catch(() => {});
    this.renderAll();
  }

  onToken(msg) {
    const r = this.reply;
    if (!r || msg.id !== r.genId) return;
    const swipe = currentSwipe(r.target);
    swipe.text = r.base + msg.text;
    this.d.view.setStreamText(r.target.id, swipe.text);
    r.writer.push(swipe.text);
  }

  async finish(text, status, note, stats) {
    const r = this.reply;
    this.reply = null;
    const swipe = currentSwipe(r.target);
    swipe.text = r.base + text;
    swipe.status = status;
    if (note) swipe.note = note;
    if (stats) swipe.stats = stats;
    if (status === 'done' || status === 'stopped') this.screenOutput(swipe);
    this.d.busyChanged(false);
    this.renderAll();
    await r.writer.flush();
    await r.saved;
    await this.save(r.target);
    this.d.view.announce(swipe.text ? `${this.charName}: ${swipe.text}` : `${this.charName} did not reply.`);
    if (!this.reply) this.warm();
  }

  onDone(msg) {
    if (!this.reply || msg.id !== this.reply.genId) return;
    const stopped = msg.stop_reason === 'user';
    const text = msg.text || '';
    const empty = !this.reply.base && !text;
    const note = empty ? 'No reply: try again or rephrase.' : stopped ? 'Stopped' : '';
    const stats = msg.stats ? {
      n_generated: msg.stats.n_generated, tokens_per_s: msg.stats.tokens_per_s, n_prompt: msg.stats.n_prompt,
      n_reused: msg.stats.n_reused, n_shifted: msg.stats.n_shifted, first_ms: msg.stats.first_ms,
    } : null;
    if (msg.lore_state && typeof msg.lore_state === 'object') this.keepLoreState(msg.lore_state);
    return this.finish(text, stopped ? 'stopped' : 'done', note, stats);
  }

  // The lorebook activations the reply's prompt left, kept with its chat for the next request.
  keepLoreState(state) {
    const chatId = this.reply.target.chatId;
    if (this.chat?.id === chatId) this.chat.loreState = state;
    touchChat(this.d.db, chatId, { loreState: state }).catch(() => {});
  }

  onError(msg) {
    if (!this.reply) return;
    if (msg.scope === 'generate' && msg.id !== undefined && msg.id !== this.reply.genId) return;
    const shown = currentSwipe(this.reply.target).text.slice(this.reply.base.length);
    this.finish(shown, 'error', `Failed: ${msg.message}`);
  }

  stop() {
    if (this.reply) this.d.engine.stop();
  }

  flush() {
    return this.reply?.writer.flush();
  }

  // Swipe to the previous or next alternative; past the last one of the last reply, a new one.
  swipe(id, dir) {
    const m = this.find(id);
    if (!m || this.reply) return;
    const to = m.chosen + dir;
    if (to >= 0 && to < m.swipes.length) {
      m.chosen = to;
      this.forget(m.id);
      this.save(m);
      this.rerender(m);
      this.warm();
      return;
    }
    const isLast = this.messages[this.messages.length - 1] === m;
    if (dir > 0 && isLast && !m.greeting && this.d.ready()) {
      m.swipes.push(newSwipe('', 'streaming'));
      m.chosen = m.swipes.length - 1;
      this.generate(m, this.messages.slice(0, -1), 'reply');
    }
  }

  // A new reply in place of the last one (offered when a reply broke character).
  regenerate(id) {
    const m = this.find(id);
    if (!m || this.reply || m.greeting || !this.d.ready() || this.messages[this.messages.length - 1] !== m) return;
    m.swipes.push(newSwipe('', 'streaming'));
    m.chosen = m.swipes.length - 1;
    this.generate(m, this.messages.slice(0, -1), 'reply');
  }

  rate(id, stars) {
    const m = this.find(id);
    if (!m || this.reply || !(stars >= 1 && stars <= 4)) return;
    const swipe = currentSwipe(m);
    swipe.rating = swipe.rating === stars ? null : stars;
    this.save(m);
    this.rerender(m);
  }

  continue(id) {
    const m = this.find(id);
    if (!m || this.reply || !this.d.ready() || this.messages[this.messages.length - 1] !== m) return;
    this.generate(m, this.messages.slice(), 'continue');
  }

  edit(id, text) {
    const m = this.find(id);
    if (!m || this.reply) return;
    editSwipe(m, text);
    // The user's words now: the flags on the model's words no longer apply.
    delete currentSwipe(m).personaBreak;
    delete currentSwipe(m).safety;
    this.forget(m.id);
    this.save(m);
    this.renderAll();
    this.warm();
  }

  async delete(id) {
    const m = this.find(id);
    if (!m || this.reply) return;
    this.messages = this.messages.filter((x) => x !== m);
    if (this.chat.cutUntil === id) this.chat.cutUntil = undefined;
    this.forget(m.id);
    this.unsaved.delete(m.id);
    this.renderAll();
    this.warm();
    try {
      await deleteMessage(this.d.db, id);
    } catch (err) {
      this.d.notify(`The message could not be deleted (${err.message}).`);
      return;
    }
    this.d.offerUndo('Message deleted.', async () => {
      await putMessage(this.d.db, m);
      this.messages = [...this.messages, m].sort((a, b) => (a.pos - b.pos) || (a.id - b.id));
      this.renderAll();
      this.warm();
    });
  }

  async branch(id) {
    if (this.reply) return;
    try {
      const child = await branchChat(this.d.db, this.chat, this.messages, id);
      // Pinned facts go along; summaries name this chat's messages, so they stay here.
      if (this.memory.pinned.length) {
        const pinned = this.memory.pinned.map((p) => ({ ...p, sourceId: null }));
        await putMemory(this.d.db, { ...emptyMemory(child.id), pinned, nextPin: this.memory.nextPin });
      }
      this.d.navigate(`#/chat/${encodeURIComponent(child.id)}`);
    } catch (err) {
      this.d.notify(`The branch could not be made (${err.message}).`);
    }
  }
}
