// The app: a library of characters, their chats, and settings, over one engine worker.
// Views are chosen by the address's hash:
//   #/                 the library          #/character/ID   one character
//   #/open/ID          the character's newest chat (or a new one)
//   #/chat/ID          a chat               #/settings       settings and data
import { openDb } from './db.js';
import { loadPrefs, applyTheme, checkPrefs } from './prefs.js';
import { seedStarters } from './starters.js';
import { Library } from './library.js';
import { ChatController } from './chat.js';
import { ChatView } from './chat-view.js';
import { SettingsView } from './settings-view.js';
import { ModelStatus } from './model-status.js';
import { EngineClient } from './engine-client.js';
import { readSettings, resolveModel } from './settings.js';
import { avatarElement } from './avatar.js';
import { displayName, tagline } from './character-store.js';
import { createChat, currentSwipe } from './chat-store.js';
import { errorText } from './wasm.js';

const $ = (id) => document.getElementById(id);
const hooks = readSettings();
const status = new ModelStatus($('model-status'));

let db = null;
let prefs = checkPrefs(null);
let engine = null;
let model = null;
let modelReady = false;
let library = null;
let chat = null;
let settingsView = null;

const ui = {
  form: $('composer'),
  input: $('message'),
  send: $('send'),
  stop: $('stop'),
  newChat: $('new-chat'),
  retry: $('model-retry'),
};

function navigate(hash, replace = false) {
  if (replace) {
    history.replaceState(null, '', hash);
    route();
  } else if (location.hash === hash) {
    route();
  } else {
    location.hash = hash;
  }
}

let toastTimer = null;
function notify(text, undo = null) {
  $('toast-text').textContent = text;
  const button = $('toast-undo');
  button.hidden = !undo;
  button.onclick = undo ? async () => { $('toast').hidden = true; await undo(); } : null;
  $('toast').hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { $('toast').hidden = true; }, undo ? 8000 : 6000);
}

function samplingOptions() {
  const s = prefs.sampling;
  return {
    temperature: s.temperature,
    top_p: s.top_p,
    top_k: s.top_k,
    min_p: s.min_p,
    repeat_penalty: s.repeat_penalty,
    max_tokens: hooks.maxTokens ?? s.max_tokens,
    seed: hooks.seed ?? Math.floor(Math.random() * 0xffffffff),
  };
}

function refreshSend() {
  ui.send.disabled = !modelReady || !chat?.chat || chat.busy;
}

function setGenerating(on) {
  document.body.dataset.generating = on ? 'true' : 'false';
  ui.stop.disabled = !on;
  ui.newChat.disabled = on;
  chat?.d.view.showTyping(on);
  refreshSend();
}

function setHeader(view, character = null) {
  const inChat = view === 'chat' && character;
  $('back').hidden = view === 'library';
  $('new-chat').hidden = !inChat;
  const avatar = $('char-avatar');
  if (inChat) {
    const name = displayName(character);
    avatar.replaceWith(Object.assign(avatarElement(character, name, 'avatar avatar-large'), { id: 'char-avatar' }));
    $('char-name').textContent = name;
    $('char-tagline').textContent = tagline(character);
    $('typing-name').textContent = name;
    ui.input.placeholder = `Message ${name}…`;
    document.title = `${name} · Kindred`;
  } else {
    avatar.hidden = true;
    $('char-name').textContent = 'Kindred';
    $('char-tagline').textContent = { library: 'Private characters that live in this tab', settings: 'Settings', character: 'Character' }[view] || '';
    document.title = 'Kindred';
  }
  for (const [id, v] of [['nav-library', 'library'], ['nav-settings', 'settings']]) {
    if (v === view) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
}

function showView(view) {
  document.body.dataset.view = view;
  for (const name of ['library', 'character', 'chat', 'settings']) $(`view-${name}`).hidden = name !== view;
  if (view !== 'chat') {
    document.body.dataset.chatReady = 'false';
    if (chat?.chat && !chat.busy) chat.close();
  }
}

async function route() {
  const hash = location.hash || '#/';
  const [, kind = '', rawId = ''] = hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const id = decodeURIComponent(rawId);
  try {
    if (kind === 'chat' && id) {
      if (chat.busy && chat.chat?.id !== id) chat.stop();
      showView('chat');
      const { character } = await chat.open(id);
      setHeader('chat', character);
      setGenerating(chat.busy);
      document.body.dataset.chatReady = 'true';
      ui.input.focus();
    } else if (kind === 'open' && id) {
      await library.openCharacter(id);
    } else if (kind === 'character' && id) {
      showView('character');
      setHeader('character');
      await library.showCharacter(id);
    } else if (kind === 'settings') {
      showView('settings');
      setHeader('settings');
      settingsView.show();
    } else {
      showView('library');
      setHeader('library');
      await library.show();
    }
  } catch (err) {
    notify(errorText(err));
    if (kind) navigate('#/', true);
  }
  refreshSend();
}

function startEngine() {
  engine?.terminate();
  modelReady = false;
  refreshSend();
  status.start(model.name);
  engine = new EngineClient({
    progress: (msg) => status.update(msg),
    notice: (msg) => status.showNotice(msg.message),
    ready: (msg) => {
      modelReady = true;
      status.ready(msg.info, msg.source, msg.stored);
      refreshSend();
    },
    prompt: (msg) => chat.onPrompt(msg),
    token: (msg) => chat.onToken(msg),
    done: (msg) => chat.onDone(msg),
    error: (msg) => {
      if (msg.scope === 'generate') {
        chat.onError(msg);
        return;
      }
      modelReady = false;
      refreshSend();
      status.fail(msg.message);
      chat.onError({ scope: 'load', message: 'the engine stopped.' });
    },
  });
  chat.d.engine = engine;
  engine.load(model);
}

async function startModel() {
  status.start('');
  try {
    model = await resolveModel(hooks);
  } catch (err) {
    status.fail(err.message);
    return;
  }
  startEngine();
}

function autoGrow() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
}

function send() {
  const content = ui.input.value.trim();
  if (!content || !chat.send(content)) return;
  ui.input.value = '';
  autoGrow();
}

function bindEvents() {
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  ui.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  ui.input.addEventListener('input', autoGrow);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && chat.busy) {
      event.preventDefault();
      chat.stop();
    }
  });
  ui.stop.addEventListener('click', () => chat.stop());
  ui.newChat.addEventListener('click', async () => {
    if (chat.busy || !chat.character) return;
    const card = chat.character.card || {};
    const greetings = [card.first_mes, ...(Array.isArray(card.alternate_greetings) ? card.alternate_greetings : [])]
      .filter((g) => typeof g === 'string');
    const fresh = await createChat(db, chat.character.id, greetings);
    navigate(`#/chat/${encodeURIComponent(fresh.id)}`);
  });
  ui.retry.addEventListener('click', () => {
    if (model) startEngine();
    else startModel();
  });
  window.addEventListener('hashchange', () => route());
  // Closing or hiding the tab mid-reply: write what has been shown right away.
  const flush = () => chat?.flush();
  window.addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
}

async function main() {
  setGenerating(false);
  try {
    db = await openDb();
  } catch (err) {
    status.fail(`This browser's storage is unavailable (${err.message}); the app cannot keep characters or chats.`);
    return;
  }
  prefs = await loadPrefs(db).catch(() => checkPrefs(null));
  applyTheme(prefs.theme);
  const view = new ChatView({
    list: $('messages'), scroller: $('chat'), typing: $('typing'), announcer: $('announcer'),
  }, {
    swipe: (id, dir) => chat.swipe(id, dir),
    rate: (id, n) => chat.rate(id, n),
    continue: (id) => chat.continue(id),
    edit: (id, text) => chat.edit(id, text),
    delete: (id) => chat.delete(id),
    branch: (id) => chat.branch(id),
    source: (id) => currentSwipe(chat.find(id)).text,
  });
  chat = new ChatController({
    db, view, engine: null,
    prefs: () => prefs,
    options: samplingOptions,
    notify: (text) => notify(text),
    offerUndo: (text, fn) => notify(text, fn),
    busyChanged: setGenerating,
    navigate,
    ready: () => modelReady,
    avatar: (character, className) => avatarElement(character, displayName(character), className),
  });
  library = new Library({ db, navigate, notify });
  settingsView = new SettingsView({
    db,
    prefs: () => prefs,
    setPrefs: (p) => { prefs = p; },
    afterDataChange: async () => {
      prefs = await loadPrefs(db);
      applyTheme(prefs.theme);
      await seedStarters(db).catch(() => {});
    },
    unloadModel: () => {},
  });
  bindEvents();
  startModel();
  navigator.storage?.persist?.().catch(() => {});
  try {
    await seedStarters(db);
  } catch (err) {
    notify(`The starter characters could not be loaded (${errorText(err)}).`);
  }
  await route();
  document.body.dataset.appReady = 'true';
}

main();
