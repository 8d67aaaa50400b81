// The app: a library of characters, their chats, and settings, over one engine worker.
// Views are chosen by the address's hash:
//   #/                 the library          #/character/ID   one character
//   #/open/ID          the character's newest chat (or a new one)
//   #/chat/ID          a chat               #/settings       settings and data
//   #/check            the quality check of every character on the loaded model
import { openDb } from './db.js';
import { loadPrefs, applyTheme, checkPrefs, replyOptions } from './prefs.js';
import { ChatPersonaPicker } from './chat-persona.js';
import { ChatAdapterPicker } from './chat-adapter.js';
import { loadSafety } from './safety.js';
import { seedStarters } from './starters.js';
import { Library } from './library.js';
import { RoomController } from './room-chat.js';
import { RoomLibrary } from './room-library.js';
import { ChatView } from './chat-view.js';
import { MemoryPanel } from './memory-panel.js';
import { SettingsView } from './settings-view.js';
import { ModelsView } from './models-view.js';
import { CheckView } from './check-view.js';
import { loadActiveModel } from './active-model.js';
import { ModelStatus } from './model-status.js';
import { EngineClient } from './engine-client.js';
import { unreadableNotice, NEWER_DATA } from './unreadable.js';
import { readSettings, resolveModel } from './settings.js';
import { avatarElement } from './avatar.js';
import { displayName, tagline } from './character-store.js';
import { newChatFor, currentSwipe } from './chat-store.js';
import { errorText } from './wasm.js';
import { registerOffline, keepEngineBuild } from './offline.js';
import { VoiceControls } from './voice-view.js';
import { Editor } from './editor.js';

const $ = (id) => document.getElementById(id);
const hooks = readSettings();
const status = new ModelStatus($('model-status'));

let db = null;
let prefs = checkPrefs(null);
let personaPicker = null;
let adapterPicker = null;
let engine = null;
let model = null;
let modelReady = false;
let library = null;
let roomLibrary = null;
let chat = null;
let settingsView = null;
let voice = null;

// Whose voice reads a message: its author in a room, else the chat's character.
function speakerOf(message) {
  return { id: message?.author?.id || chat?.character?.id || '' };
}

// A message's text as the chat shows it (names filled in): what is read aloud.
function shownText(message) {
  return chat.d.view.display(currentSwipe(message).text, message);
}
let modelsView = null;
let checkView = null;
let editor = null;
// Of the records the store left out as unreadable, the counts already told this visit.
const unreadableTold = {};

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
  return replyOptions(prefs, hooks);
}

function refreshSend() {
  ui.send.disabled = !modelReady || !chat?.chat || chat.busy;
}

function setGenerating(on) {
  // A count of finished replies lets a watcher see a reply that came and went between looks.
  if (!on && document.body.dataset.generating === 'true') document.body.dataset.replies = String(Number(document.body.dataset.replies || 0) + 1);
  document.body.dataset.generating = on ? 'true' : 'false';
  ui.stop.disabled = !on;
  ui.newChat.disabled = on;
  chat?.d.view.showTyping(on);
  personaPicker?.setBusy(on);
  adapterPicker?.setBusy(on);
  refreshSend();
}

function setHeader(view, character = null) {
  const inChat = view === 'chat' && character;
  $('back').hidden = view === 'library';
  $('new-chat').hidden = !inChat;
  $('memory-toggle').hidden = !inChat;
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
    $('char-tagline').textContent = { library: 'Private characters that live in this tab', settings: 'Settings', character: 'Character', models: 'Models', editor: 'Character editor' }[view] || '';
    document.title = 'Kindred';
  }
  for (const [id, v] of [['nav-library', 'library'], ['nav-settings', 'settings'], ['nav-models', 'models'], ['nav-check', 'check']]) {
    if (v === view) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
}

function showView(view) {
  document.body.dataset.view = view;
  for (const name of ['library', 'character', 'chat', 'settings', 'models', 'editor', 'check']) $(`view-${name}`).hidden = name !== view;
  if (view !== 'chat') {
    document.body.dataset.chatReady = 'false';
    if (chat?.chat && !chat.busy) chat.close();
  }
}

async function route() {
  const hash = location.hash || '#/';
  const [, kind = '', rawId = ''] = hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const id = decodeURIComponent(rawId);
  // Unsaved edits: the editor keeps the page and asks first.
  if (editor && !editor.canLeave(hash)) return;
  try {
    if (kind === 'chat' && id) {
      if (chat.busy && chat.chat?.id !== id) chat.stop();
      // Another chat: not ready until it is drawn with its own choices.
      if (chat.chat?.id !== id) document.body.dataset.chatReady = 'false';
      showView('chat');
      const { character } = await chat.open(id);
      setHeader('chat', character);
      personaPicker.show();
      await adapterPicker.show();
      setGenerating(chat.busy);
      document.body.dataset.chatReady = 'true';
      ui.input.focus();
    } else if (kind === 'open' && id) {
      await library.openCharacter(id);
    } else if (kind === 'character' && id) {
      showView('character');
      setHeader('character');
      const shown = await library.showCharacter(id);
      $('character-edit').href = `#/edit/${encodeURIComponent(shown.id)}`;
    } else if (kind === 'settings') {
      showView('settings');
      setHeader('settings');
      settingsView.show();
    } else if (kind === 'new' || (kind === 'edit' && id)) {
      showView('editor');
      setHeader('editor');
      await editor.open(kind === 'edit' ? id : null);
    } else if (kind === 'check') {
      showView('check');
      setHeader('check');
      await checkView.show();
    } else if (kind === 'models') {
      showView('models');
      setHeader('models');
      await modelsView.show();
    } else {
      showView('library');
      setHeader('library');
      await library.show();
      await roomLibrary.show();
    }
  } catch (err) {
    notify(errorText(err));
    if (kind) navigate('#/', true);
  }
  const left = unreadableNotice(db.unreadable(), unreadableTold);
  if (left) notify(left);
  refreshSend();
}

function startEngine() {
  engine?.terminate();
  modelReady = false;
  refreshSend();
  status.start(model.name);
  engine = new EngineClient({
    any: (msg) => {
      modelsView?.engineEvent(msg);
      editor?.engineEvent(msg);
      checkView?.engineEvent(msg);
    },
    progress: (msg) => status.update(msg),
    notice: (msg) => status.showNotice(msg.message),
    ready: (msg) => {
      modelReady = true;
      status.ready(msg.info, msg.source, msg.stored, msg.cpu);
      status.showBackend(msg.backend, msg.backendReason);
      refreshSend();
      keepEngineBuild(msg.cpu?.build);
      chat.warm();
    },
    warm: (msg) => chat.onWarm(msg),
    backend: (msg) => status.showBackend(msg.backend, msg.backendReason),
    adapter: (msg) => status.showAdapter(msg.name, msg.scale),
    prompt: (msg) => chat.onPrompt(msg),
    summary: (msg) => chat.onSummary(msg),
    token: (msg) => chat.onToken(msg),
    done: (msg) => {
      const target = chat.reply?.genId === msg.id ? chat.reply.target : null;
      Promise.resolve(chat.onDone(msg)).then(() => {
        if (target) voice?.replyDone(speakerOf(target), shownText(target));
      });
    },
    error: (msg) => {
      if (msg.scope === 'generate') {
        chat.onError(msg);
        return;
      }
      if (msg.scope === 'check') return; // the editor's Check panel shows it (through `any`)
      modelReady = false;
      refreshSend();
      status.fail(msg.message);
      chat.onError({ scope: 'load', message: 'the engine stopped.' });
    },
  });
  chat.d.engine = engine;
  engine.load(model, backendChoice());
}

// The backend to run the model on: the ?backend= hook over the saved setting.
function backendChoice() {
  return {
    backend: hooks.backend ?? prefs.backend,
    backendSource: hooks.backend ? 'address' : 'settings',
    loseGpuAfter: hooks.loseGpuAfter ?? undefined,
    threads: hooks.threads ?? undefined,
    simd: hooks.simd ?? undefined,
    stepMs: hooks.stepMs ?? undefined,
  };
}

async function startModel() {
  status.start('');
  try {
    // The address hook wins over the model chosen under Models, which wins over the default.
    const chosen = hooks.modelUrl || hooks.invalid ? null : await loadActiveModel(db).catch(() => null);
    model = chosen || await resolveModel(hooks);
  } catch (err) {
    status.fail(err.message);
    modelsView?.engineEvent({ type: 'error', scope: 'load', message: err.message });
    return;
  }
  startEngine();
}

// From the Models page: load another model in a fresh worker.
function useModel(choice) {
  if (chat.busy) chat.onError({ scope: 'load', message: 'the model was changed.' });
  model = choice;
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
  ui.input.addEventListener('input', () => {
    autoGrow();
    chat.draftChanged(ui.input.value);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && chat.busy) {
      event.preventDefault();
      chat.stop();
    }
  });
  ui.stop.addEventListener('click', () => chat.stop());
  ui.newChat.addEventListener('click', async () => {
    if (chat.busy || !chat.character) return;
    if (chat.room) {
      navigate(`#/chat/${encodeURIComponent((await chat.newRoomChat()).id)}`);
      return;
    }
    const fresh = await newChatFor(db, chat.character);
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
  if (db.newer) notify(NEWER_DATA);
  prefs = await loadPrefs(db).catch(() => checkPrefs(null));
  applyTheme(prefs.theme);
  const view = new ChatView({
    list: $('messages'), scroller: $('chat'), typing: $('typing'), announcer: $('announcer'),
  }, {
    swipe: (id, dir) => chat.swipe(id, dir),
    rate: (id, n) => chat.rate(id, n),
    continue: (id) => chat.continue(id),
    regenerate: (id) => chat.regenerate(id),
    edit: (id, text) => chat.edit(id, text),
    delete: (id) => chat.delete(id),
    branch: (id) => chat.branch(id),
    pin: (id) => chat.pin(id),
    source: (id) => currentSwipe(chat.find(id)).text,
    speak: (id) => { const m = chat.find(id); if (m) voice?.speakMessage(speakerOf(m), shownText(m)); },
    speechUnavailable: () => voice?.reason,
  });
  const panel = new MemoryPanel({
    add: (text) => chat.addPin(text),
    edit: (pinId, text) => chat.editPin(pinId, text),
    remove: (pinId) => chat.removePin(pinId),
  });
  // A RoomController is a ChatController that also runs rooms (several characters).
  chat = new RoomController({
    db, view, panel, engine: null,
    prefs: () => prefs,
    options: samplingOptions,
    notify: (text) => notify(text),
    offerUndo: (text, fn) => notify(text, fn),
    busyChanged: setGenerating,
    warming: (name, tokens, restored, read) => status.warming(name, tokens, restored, read),
    readAhead: hooks.warm !== false,
    navigate,
    ready: () => modelReady,
    avatar: (character, className) => avatarElement(character, displayName(character), className),
  });
  personaPicker = new ChatPersonaPicker({ select: $('chat-persona'), controller: chat, prefs: () => prefs, notify });
  adapterPicker = new ChatAdapterPicker({ select: $('chat-adapter'), controller: chat, db, notify });
  loadSafety().catch((err) => notify(`The safety checks could not be loaded (${errorText(err)}).`));
  library = new Library({ db, navigate, notify });
  roomLibrary = new RoomLibrary({ db, navigate, notify });
  settingsView = new SettingsView({
    db,
    prefs: () => prefs,
    setPrefs: (p) => {
      const moved = p.backend !== prefs.backend;
      prefs = p;
      // A new backend choice takes effect at once, unless a reply is being written.
      if (moved && model && !chat?.busy) startEngine();
    },
    afterDataChange: async () => {
      prefs = await loadPrefs(db);
      applyTheme(prefs.theme);
      await voice?.init().catch(() => {});
      await seedStarters(db).catch(() => {});
    },
    unloadModel: () => {},
  });
  checkView = new CheckView({
    db, root: $('view-check'),
    engine: () => engine, ready: () => modelReady, prefs: () => prefs, options: samplingOptions,
    modelName: () => model?.name || model?.id || '',
    current: () => model, use: useModel,
  });
  modelsView = new ModelsView({
    db,
    root: $('view-models'),
    current: () => model,
    use: useModel,
    cancel: () => engine?.cancel(),
    // Checked by the worker of the model in use, which the file would replace.
    checkFile: (file) => engine?.checkFile(file) ?? Promise.resolve(),
  });
  editor = new Editor({
    db, navigate, notify,
    engine: () => engine,
    ready: () => modelReady,
    prefs: () => prefs,
    options: samplingOptions,
    modelName: () => model?.name || model?.id || '',
  });
  bindEvents();
  // The starters first: a first visit shows its characters before the model's download
  // (whose large writes would hold up theirs) begins.
  try {
    await seedStarters(db);
  } catch (err) {
    notify(`The starter characters could not be loaded (${errorText(err)}).`);
  }
  startModel();
  navigator.storage?.persist?.().catch(() => {});
  registerOffline((text) => notify(text));
  voice = new VoiceControls({ db });
  await voice.init().catch(() => {});
  await route();
  document.body.dataset.appReady = 'true';
}

main();
