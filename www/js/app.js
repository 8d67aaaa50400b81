// The chat page: wires the character, the stored conversation, the model panel and the
// engine worker together.
import { loadCharacter } from './characters.js';
import { ChatStore, throttledWriter } from './chat-store.js';
import { ChatView, avatarElement } from './chat-view.js';
import { ModelStatus } from './model-status.js';
import { buildMessages, stopStrings, greetingText, DEFAULT_USER_NAME } from './prompt.js';
import { readSettings, resolveModel } from './settings.js';
import { EngineClient } from './engine-client.js';

const $ = (id) => document.getElementById(id);
const settings = readSettings();
const userName = DEFAULT_USER_NAME;

const ui = {
  form: $('composer'),
  input: $('message'),
  send: $('send'),
  stop: $('stop'),
  newChat: $('new-chat'),
  retry: $('model-retry'),
};
const status = new ModelStatus($('model-status'));

let character = null;
let view = null;
let store = null;
let chatId = '';
let history = [];        // [{id, role, content, status}] as stored, oldest first
let engine = null;
let model = null;
let modelReady = false;
let reply = null;        // the reply being streamed: {genId, record, handle, writer, text}

function setGenerating(on) {
  document.body.dataset.generating = on ? 'true' : 'false';
  ui.stop.disabled = !on;
  ui.newChat.disabled = on;
  view?.showTyping(on);
  refreshSend();
}

function refreshSend() {
  ui.send.disabled = !modelReady || reply !== null;
}

function showCharacter() {
  $('char-name').textContent = character.name;
  $('char-tagline').textContent = character.tagline || '';
  $('char-avatar').replaceWith(Object.assign(avatarElement(character, 'avatar avatar-large'), { id: 'char-avatar' }));
  $('typing-name').textContent = character.name;
  ui.input.placeholder = `Message ${character.name}…`;
  document.title = `${character.name} · Kindred`;
}

function renderChat() {
  view.clear();
  const greeting = greetingText(character, userName);
  if (greeting) view.add({ role: 'assistant', content: greeting, status: 'greeting' });
  for (const m of history) view.add(m);
  view.scrollToEnd();
}

async function loadHistory() {
  try {
    store = await ChatStore.open();
    history = await store.list(chatId);
  } catch (err) {
    store = null;
    history = [];
    status.showNotice(`This conversation cannot be saved on this device (${err.message}).`);
  }
  // A reply still marked as streaming was cut off when the page closed.
  for (const m of history) {
    if (m.status === 'streaming') {
      m.status = 'interrupted';
      store?.update(m.id, { status: 'interrupted' }).catch(() => {});
    }
  }
}

async function save(kind, ...args) {
  if (!store) return undefined;
  try {
    return await store[kind](...args);
  } catch (err) {
    status.showNotice(`The conversation could not be saved (${err.message}).`);
    return undefined;
  }
}

function send() {
  const content = ui.input.value.trim();
  if (!content || !modelReady || reply || !view) return;
  ui.input.value = '';
  autoGrow();
  const prior = history.filter((m) => m.content);
  const userMsg = { chatId, role: 'user', content, status: 'done' };
  const record = { chatId, role: 'assistant', content: '', status: 'streaming' };
  view.add(userMsg);
  const handle = view.add(record);
  history.push(userMsg, record);
  // Everything from here to the engine call is synchronous, so a second Enter cannot slip in.
  const saved = (async () => {
    userMsg.id = await save('add', userMsg);
    record.id = await save('add', record);
  })();
  const writer = throttledWriter(async (text) => {
    await saved;
    if (record.id !== undefined) await save('update', record.id, { content: text });
  });
  const options = {
    max_tokens: settings.maxTokens,
    stop: stopStrings(userName),
    seed: settings.seed ?? Math.floor(Math.random() * 0xffffffff),
  };
  const messages = buildMessages(character, [...prior, userMsg], userName);
  reply = { record, handle, writer, saved, text: '', genId: 0 };
  setGenerating(true);
  reply.genId = engine.generate(messages, options);
}

function onToken(msg) {
  if (!reply || msg.id !== reply.genId) return;
  reply.text = msg.text;
  reply.record.content = msg.text;
  reply.handle.setText(msg.text);
  reply.writer.push(msg.text);
}

async function finishReply(text, finalStatus, note, stats = null) {
  const current = reply;
  reply = null;
  if (stats) {
    // Kept out of sight but on hand for debugging and tests.
    current.handle.element.dataset.tokens = String(stats.n_generated);
    current.handle.element.dataset.tokensPerSecond = stats.tokens_per_s.toFixed(2);
  }
  current.record.content = text;
  current.record.status = finalStatus;
  current.handle.setText(text);
  current.handle.setStatus(finalStatus, note);
  setGenerating(false);
  await current.writer.flush();
  await current.saved;
  if (current.record.id !== undefined) await save('update', current.record.id, { content: text, status: finalStatus });
  view.announce(text ? `${character.name}: ${text}` : `${character.name} did not reply.`);
  ui.input.focus();
}

function onDone(msg) {
  if (!reply || msg.id !== reply.genId) return;
  const stopped = msg.stop_reason === 'user';
  const note = msg.text ? (stopped ? 'Stopped' : '') : 'No reply: try again or rephrase.';
  finishReply(msg.text, stopped ? 'stopped' : 'done', note, msg.stats);
}

function onError(msg) {
  if (msg.scope === 'generate') {
    if (reply && (msg.id === undefined || msg.id === reply.genId)) {
      finishReply(reply.text, 'error', `Failed: ${msg.message}`);
    }
    return;
  }
  modelReady = false;
  refreshSend();
  status.fail(msg.message);
  if (reply) finishReply(reply.text, 'error', 'Failed: the engine stopped.');
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
    token: onToken,
    done: onDone,
    error: onError,
  });
  engine.load(model);
}

async function startModel() {
  status.start('');
  try {
    model = await resolveModel(settings);
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
    if (event.key === 'Escape' && reply) {
      event.preventDefault();
      engine.stop();
    }
  });
  ui.stop.addEventListener('click', () => {
    if (reply) engine.stop();
  });
  ui.newChat.addEventListener('click', async () => {
    if (reply || !window.confirm(`Start a new chat with ${character.name}? This conversation will be deleted.`)) return;
    await save('clear', chatId);
    history = [];
    renderChat();
  });
  ui.retry.addEventListener('click', () => {
    if (model) startEngine();
    else startModel();
  });
  // Closing or hiding the tab mid-reply: write what has been shown right away.
  const flush = () => reply?.writer.flush();
  window.addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
}

async function main() {
  setGenerating(false);
  bindEvents();
  startModel();
  navigator.storage?.persist?.().catch(() => {});
  character = await loadCharacter();
  chatId = `character:${character.id}`;
  view = new ChatView({
    list: $('messages'), scroller: $('chat'), typing: $('typing'), announcer: $('announcer'),
  }, character);
  showCharacter();
  await loadHistory();
  renderChat();
  document.body.dataset.chatReady = 'true';
}

main();
