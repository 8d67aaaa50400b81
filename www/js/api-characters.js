// The characters part of /kindred.js: the app's own library and chats in this site's
// IndexedDB (a chat started here shows up in the app, and the other way round), and each chat
// run by the app's ChatController with no view on it, so a reply is assembled, screened,
// stored and remembered exactly as the app's.
import { openDb } from './db.js';
import { listCharacters, getCharacter, putCharacter, characterFromImport, readCardFile, displayName, tagsOf } from './character-store.js';
import { newChatFor, getChat, currentSwipe } from './chat-store.js';
import { ChatController } from './chat.js';
import { loadPrefs, replyOptions } from './prefs.js';
import { loadSafety } from './safety.js';
import { seedStarters } from './starters.js';
import { substituteNames } from './names.js';

// What a view does, done by nobody: the chat is read through history().
const NO_VIEW = Object.freeze({
  setContext() {}, render() {}, update() {}, scrollToEnd() {}, setStreamText() {}, announce() {}, showTyping() {},
});

function summary(record) {
  const card = record.card || {};
  return {
    id: record.id, name: displayName(record), description: typeof card.description === 'string' ? card.description : '',
    tags: tagsOf(record), origin: record.origin ?? 'imported',
  };
}

export class Characters {
  // engine: kindred.js's Engine (its queue runs each reply); site: the site's root URL.
  constructor(engine, site, error) {
    this.engine = engine;
    this.site = site;
    this.error = error;
    this.db = null;
  }

  async open() {
    if (!this.db) {
      try {
        this.db = await openDb();
      } catch (err) {
        throw this.error('engine_error', `This site's storage cannot be opened (${err.message}).`);
      }
      // A first visit to the site through the API gets the starters, as one to the app does.
      await seedStarters(this.db, this.site).catch(() => {});
      await loadSafety();
    }
    return this.db;
  }

  async list() {
    const db = await this.open();
    const all = await listCharacters(db);
    return all.sort((a, b) => (a.order ?? 1e9) - (b.order ?? 1e9) || displayName(a).localeCompare(displayName(b))).map(summary);
  }

  async get(id) {
    const record = await getCharacter(await this.open(), id);
    if (!record) throw this.error('character_not_found', `No character "${id}" on this site.`);
    return { ...summary(record), card: structuredClone(record.card) };
  }

  // A PNG, JSON or CHARX card (a File or Blob), stored like an import in the app.
  async import(file) {
    if (!(file instanceof Blob)) throw this.error('invalid_request', 'import() takes a File or Blob.');
    const db = await this.open();
    let imported;
    try {
      imported = await readCardFile(file);
    } catch (err) {
      throw this.error('invalid_request', err.message);
    }
    const record = characterFromImport(imported, 'imported');
    await putCharacter(db, record);
    return summary(record);
  }

  // A new chat with character `id` (its greeting first), or the stored chat `options.chat`.
  // options.persona: {name, description} the user is in this chat (default: the app's).
  async chat(id, options = {}) {
    const db = await this.open();
    const character = await getCharacter(db, id);
    if (!character) throw this.error('character_not_found', `No character "${id}" on this site.`);
    let chatId = options.chat;
    if (chatId !== undefined) {
      const stored = await getChat(db, chatId);
      if (!stored || stored.characterId !== id) throw this.error('invalid_request', `No chat "${chatId}" with this character.`);
    } else {
      chatId = (await newChatFor(db, character)).id;
    }
    const chat = new ApiChat(this.engine, db, await loadPrefs(db), options.persona, this.error);
    await chat.controller.open(chatId);
    return chat;
  }
}

class ApiChat {
  constructor(engine, db, prefs, persona, error) {
    this.engine = engine;
    this.error = error;
    const usePrefs = () => {
      if (!persona) return prefs;
      const own = { id: 'api', name: String(persona.name || 'User').slice(0, 100), description: String(persona.description || '').slice(0, 4000) };
      return { ...prefs, personas: [...prefs.personas.filter((p) => p.id !== 'api'), own], defaultPersona: 'api', persona: own };
    };
    this.controller = new ChatController({
      db, view: NO_VIEW, engine: engine.chatEngine(), prefs: usePrefs, options: () => replyOptions(prefs),
      notify: (text) => { this.notice = text; }, offerUndo: () => {}, busyChanged: () => {}, navigate: () => {},
      readAhead: false, ready: () => engine.ready !== null, avatar: () => null,
    });
    this.notice = '';
  }

  get id() {
    return this.controller.chat?.id;
  }

  // A message as the API shows it: its chosen swipe, with {{char}} and {{user}} named as the
  // app shows them.
  message(m) {
    const s = currentSwipe(m);
    const c = this.controller;
    return {
      id: m.id, role: m.role, content: substituteNames(s.text, c.charName, c.persona().name), greeting: Boolean(m.greeting), swipe: m.chosen, swipes: m.swipes.length,
      rating: s.rating ?? null, status: s.status,
    };
  }

  // The messages as they stand.
  history() {
    return this.controller.messages.map((m) => this.message(m));
  }

  // The user's message, then the character's reply: resolves to {message, finish_reason,
  // usage} once the reply is stored, or with {stream: true} to its chunks.
  send(text, { stream = false, signal } = {}) {
    if (typeof text !== 'string' || !text.trim()) return Promise.reject(this.error('invalid_request', 'send() takes the message text.'));
    return this.engine.runChat(this, (c) => c.send(text), stream, signal);
  }

  // Another reply in place of the last one (the app's swipe past the last alternative).
  swipe({ stream = false, signal } = {}) {
    const last = this.controller.messages.at(-1);
    if (!last || last.role !== 'assistant' || last.greeting) return Promise.reject(this.error('invalid_request', 'There is no reply to swipe.'));
    return this.engine.runChat(this, (c) => { c.swipe(last.id, last.swipes.length - last.chosen); return c.busy; }, stream, signal);
  }

  // 1-4 stars on the last reply's shown swipe (as the app's stars; the same again clears it).
  async rate(stars) {
    const last = [...this.controller.messages].reverse().find((m) => m.role === 'assistant' && !m.greeting);
    if (!last) throw this.error('invalid_request', 'There is no reply to rate.');
    if (!(Number.isInteger(stars) && stars >= 1 && stars <= 4)) throw this.error('invalid_request', 'stars must be 1 to 4.');
    // rate() does not hand back its write: saved again, awaited, so the rating is stored on return.
    this.controller.rate(last.id, stars);
    await this.controller.save(last);
    return currentSwipe(last).rating ?? null;
  }
}
