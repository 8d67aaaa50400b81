// The Models page (#/models): the model in use and the backend running it, the presets from
// models/manifest.json, another model by address or from a file, and what the device keeps
// (each stored model's size, deletion, storage use and persistence).
//
// Choosing a model reloads the engine with it; the choice is remembered only once it is
// ready, so a failed or cancelled download leaves the previous model in place.
import {
  presetsFromManifest, choiceFromAddress, choiceFromFile, isGguf, backendText, templateText, layoutText,
} from './model-choice.js';
import { saveActiveModel } from './active-model.js';
import { listStoredModels, storageEstimate, persistState, requestPersist } from './model-storage.js';
import { prefixUsage, clearPrefixes, PREFIX_BUDGET } from './prefix-store.js';
import { deleteModel, ADAPTER_KIND } from './model-store.js';
import { RateMeter } from './rate-meter.js';
import { formatBytes, formatPercent } from './format.js';
import { errorText } from './wasm.js';

const PHASES = {
  download: 'Downloading',
  cache: 'Loading from this device',
  file: 'Reading the file',
  verify: 'Checking the download',
  init: 'Starting the engine',
};

const PERSIST_TEXT = {
  granted: 'Persistent storage: granted. The browser keeps the models even when space runs low.',
  'not-granted': 'Persistent storage: not granted. The browser may remove models when space runs low.',
  unsupported: 'Persistent storage: not available in this browser.',
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function section(title, id) {
  const box = el('section', 'models-section');
  const heading = el('h3', '', title);
  heading.id = id;
  box.setAttribute('aria-labelledby', id);
  box.append(heading);
  return box;
}

function host(url) {
  try {
    const u = new URL(url);
    return u.origin === location.origin ? 'this site' : u.hostname;
  } catch {
    return '';
  }
}

// What the model needs beside its weights: the KV cache when the context is full, and what the
// device says it has (Chromium reports up to 8 GB, rounded).
export function memoryText(info, deviceGb) {
  if (!info?.file_bytes || !info.kv_bytes_per_token || !info.context_length) return '';
  const kv = info.kv_bytes_per_token * info.context_length;
  const need = `${formatBytes(info.file_bytes)} of weights + up to ${formatBytes(kv)} of KV cache at ${info.context_length} tokens`
    + ` = ${formatBytes(info.file_bytes + kv)}`;
  return Number(deviceGb) > 0 ? `${need}; this device reports about ${deviceGb} GB of memory` : need;
}

export class ModelsView {
  // deps: {db, root, current(): choice|null, use(choice), cancel(), checkFile(file): Promise, rejecting with why the engine cannot run it}
  constructor(deps) {
    this.d = deps;
    this.presets = null;
    this.stored = [];
    this.pending = null;
    this.fallback = null;
    this.state = 'loading';
    this.lastReady = null;
    this.lastError = '';
    this.phase = null;
    this.meter = new RateMeter();
    this.build(deps.root);
  }

  build(root) {
    const title = el('h2', '', 'Models');
    title.id = 'models-title';
    const intro = el('p', 'models-intro',
      'The model runs in this tab. It is downloaded once and kept on this device; nothing you write leaves it.');

    const current = section('In use', 'models-current-title');
    this.currentName = el('p', 'models-current-name');
    this.currentState = el('p', 'models-current-state');
    this.currentState.setAttribute('role', 'status');
    this.details = el('dl', 'models-details');
    this.progressBox = el('div', 'models-progress');
    this.progressLabel = el('span', 'progress-label');
    this.progressRate = el('span', 'progress-rate');
    const head = el('div', 'progress-head');
    head.append(this.progressLabel, this.progressRate);
    this.progress = el('progress');
    this.progress.setAttribute('aria-label', 'Model loading progress');
    this.progressText = el('p', 'progress-text');
    this.cancelButton = el('button', 'ghost', 'Cancel');
    this.cancelButton.type = 'button';
    this.cancelButton.setAttribute('aria-label', 'Cancel the download');
    this.cancelButton.addEventListener('click', () => this.d.cancel());
    this.progressBox.append(head, this.progress, this.progressText, this.cancelButton);
    this.progressBox.hidden = true;
    this.fallbackButton = el('button', 'ghost');
    this.fallbackButton.type = 'button';
    this.fallbackButton.hidden = true;
    this.fallbackButton.addEventListener('click', () => this.fallback && this.choose(this.fallback));
    current.append(this.currentName, this.currentState, this.progressBox, this.fallbackButton, this.details);

    const presets = section('Presets', 'models-presets-title');
    this.presetList = el('ul', 'models-list');
    this.presetList.setAttribute('aria-labelledby', 'models-presets-title');
    presets.append(this.presetList);

    const other = section('Another model', 'models-other-title');
    const form = el('form', 'models-url');
    const label = el('label', '', 'Address of a GGUF file (https, or a path on this site)');
    this.urlInput = el('input');
    Object.assign(this.urlInput, { type: 'text', inputMode: 'url', autocomplete: 'off', spellcheck: false, name: 'model-url' });
    this.urlInput.placeholder = '…/resolve/main/model.gguf';
    label.append(this.urlInput);
    const go = el('button', 'primary', 'Download and use');
    go.type = 'submit';
    form.append(label, go);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.chooseAddress();
    });
    const pick = el('label', 'button ghost', 'Open a GGUF file…');
    this.fileInput = el('input', 'visually-hidden');
    Object.assign(this.fileInput, { type: 'file', accept: '.gguf' });
    this.fileInput.addEventListener('change', () => {
      const [file] = this.fileInput.files;
      this.fileInput.value = '';
      if (file) this.chooseFile(file);
    });
    pick.append(this.fileInput);
    this.chooseStatus = el('p', 'models-choose-status');
    this.chooseStatus.setAttribute('role', 'status');
    other.append(form, pick, this.chooseStatus);

    const storage = section('On this device', 'models-storage-title');
    this.storedList = el('ul', 'models-stored');
    this.storedList.setAttribute('aria-labelledby', 'models-storage-title');
    this.usage = el('p', 'models-usage');
    this.persistButton = el('button', 'ghost', 'Keep models when space runs low');
    this.persistButton.type = 'button';
    this.persistButton.addEventListener('click', () => this.persist());
    this.persistText = el('p', 'models-persist');
    this.persistText.setAttribute('role', 'status');
    this.storageStatus = el('p', 'models-storage-status');
    this.storageStatus.setAttribute('role', 'status');
    // Prompts kept ready: the engine's reading of chats' prompts, so reopening one is quick.
    const prompts = el('div', 'models-prefixes');
    this.prefixText = el('p', 'models-item-meta');
    this.prefixClear = el('button', 'ghost small', 'Clear kept prompts');
    this.prefixClear.type = 'button';
    this.prefixClear.addEventListener('click', () => this.clearPrefixes());
    prompts.append(this.prefixText, this.prefixClear);
    storage.append(this.storedList, prompts, this.storageStatus, this.usage, this.persistButton, this.persistText);

    root.replaceChildren(title, intro, current, presets, other, storage);
  }

  async show() {
    this.renderCurrent();
    this.chooseStatus.textContent = '';
    this.storageStatus.textContent = '';
    await Promise.all([this.loadPresets(), this.refreshStorage()]);
    // Drawn by refreshStorage, which may have finished before the preset list arrived.
    this.renderPresets();
    this.persistText.textContent = PERSIST_TEXT[await persistState().catch(() => 'unsupported')];
  }

  async loadPresets() {
    if (this.presets) return;
    const href = new URL('models/manifest.json', location.href).href;
    try {
      const response = await fetch(href, { cache: 'no-cache' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.presets = presetsFromManifest(await response.json(), href);
    } catch (err) {
      this.presets = [];
      this.chooseStatus.textContent = `The model list could not be loaded (${errorText(err)}).`;
    }
  }

  async refreshStorage() {
    try {
      this.stored = await listStoredModels(this.d.db);
    } catch (err) {
      this.stored = [];
      this.storageStatus.textContent = `The stored models could not be listed (${errorText(err)}).`;
    }
    this.renderPresets();
    this.renderStored();
    await this.renderPrefixes();
    const estimate = await storageEstimate().catch(() => null);
    this.usage.textContent = estimate
      ? `This site uses ${formatBytes(estimate.usage)} of the ${formatBytes(estimate.quota)} the browser allows it.`
      : 'This browser does not say how much storage the site may use.';
    this.usage.dataset.usage = estimate ? String(estimate.usage) : '';
  }

  isCurrent(id) {
    return this.d.current()?.id === id;
  }

  renderPresets() {
    const items = (this.presets || []).map((preset) => {
      const li = el('li', 'models-item');
      li.dataset.modelId = preset.id;
      const name = el('h4', 'models-item-name', preset.name);
      const size = preset.bytes ? formatBytes(preset.bytes) : preset.approxBytes ? `about ${formatBytes(preset.approxBytes)}` : 'size unknown';
      const facts = [preset.architecture, preset.quant, size, preset.licence, `from ${host(preset.url)}`].filter(Boolean);
      const meta = el('p', 'models-item-meta', facts.join(' · '));
      const check = el('p', 'models-item-meta', preset.sha256 ? 'Checked against its sha256 after download' : 'Not verified: no checksum is known for this file');
      const stored = this.stored.find((s) => s.id === preset.id && s.complete);
      const state = el('p', 'models-item-state', stored ? `On this device (${formatBytes(stored.bytes)})` : 'Not on this device');
      li.append(name, meta, check, state);
      if (preset.isDefault) {
        li.classList.add('models-item-default');
        li.append(el('p', 'models-item-why', `The default. ${preset.defaultReason}`.trim()));
      }
      if (preset.page) {
        const link = el('a', 'models-item-link', 'Model page');
        Object.assign(link, { href: preset.page, target: '_blank', rel: 'noopener noreferrer' });
        li.append(link);
      }
      li.append(this.useButton(preset, stored ? 'Use' : 'Download and use'));
      return li;
    });
    this.presetList.replaceChildren(...items);
  }

  useButton(choice, text) {
    const current = this.isCurrent(choice.id);
    const button = el('button', 'ghost small', current ? 'In use' : text);
    button.type = 'button';
    button.disabled = current;
    button.setAttribute('aria-label', current ? `${choice.name} is in use` : `${text}: ${choice.name}`);
    button.addEventListener('click', () => this.choose(choice));
    return button;
  }

  renderStored() {
    if (this.stored.length === 0) {
      this.storedList.replaceChildren(el('li', 'models-empty', 'No model is stored on this device yet.'));
      return;
    }
    const loadingId = this.state === 'loading' ? this.d.current()?.id : null;
    this.storedList.replaceChildren(...this.stored.map((record) => {
      const li = el('li', 'models-stored-item');
      li.dataset.modelId = record.id;
      const size = record.complete ? formatBytes(record.bytes) : 'partly downloaded: using it again continues the download';
      const text = el('span', 'models-stored-text');
      const what = record.kind === ADAPTER_KIND ? ' · LoRA adapter' : this.isCurrent(record.id) ? ' · in use' : '';
      text.append(el('strong', '', record.name), el('span', 'models-item-meta', ` · ${size}${what}`));
      const remove = el('button', 'ghost danger small', 'Delete');
      remove.type = 'button';
      remove.setAttribute('aria-label', `Delete ${record.name} from this device`);
      remove.disabled = record.id === loadingId;
      remove.addEventListener('click', () => this.remove(record));
      li.append(text, remove);
      return li;
    }));
  }

  async renderPrefixes() {
    const usage = await prefixUsage(this.d.db).catch(() => ({ count: 0, bytes: 0 }));
    this.prefixText.textContent = usage.count
      ? `Prompts kept ready: ${usage.count} (${formatBytes(usage.bytes)} of at most ${formatBytes(PREFIX_BUDGET)}), so chats reopen without reading their prompt again.`
      : 'No prompts kept ready yet: chats you reply in keep their read prompt here, so they reopen quickly.';
    this.prefixText.dataset.count = String(usage.count);
    this.prefixClear.disabled = usage.count === 0;
  }

  async clearPrefixes() {
    try {
      await clearPrefixes(this.d.db);
      this.storageStatus.textContent = 'Cleared the kept prompts: each chat reads its prompt again the next time.';
    } catch (err) {
      this.storageStatus.textContent = `The kept prompts could not be cleared: ${errorText(err)}`;
    }
    await this.refreshStorage();
  }

  async remove(record) {
    try {
      await deleteModel(this.d.db, record.id);
      const inUse = this.isCurrent(record.id);
      this.storageStatus.textContent = inUse
        ? `Deleted ${record.name}. It stays loaded for this visit and is ${this.d.current()?.kind === 'file' ? 'gone next time unless you open the file again' : 'downloaded again next time'}.`
        : `Deleted ${record.name} (${formatBytes(record.bytes)}).`;
    } catch (err) {
      this.storageStatus.textContent = `Could not delete ${record.name}: ${errorText(err)}`;
    }
    await this.refreshStorage();
  }

  async persist() {
    this.persistButton.disabled = true;
    try {
      this.persistText.textContent = PERSIST_TEXT[await requestPersist()];
    } catch (err) {
      this.persistText.textContent = `Persistent storage could not be requested: ${errorText(err)}`;
    } finally {
      this.persistButton.disabled = false;
    }
  }

  chooseAddress() {
    let choice;
    try {
      choice = choiceFromAddress(this.urlInput.value, location.href);
    } catch (err) {
      this.chooseStatus.textContent = err.message;
      this.urlInput.focus();
      return;
    }
    const preset = (this.presets || []).find((p) => p.url === choice.url);
    this.choose(preset || choice);
  }

  async chooseFile(file) {
    let head;
    try {
      head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
    } catch (err) {
      this.chooseStatus.textContent = `“${file.name}” could not be read: ${errorText(err)}`;
      return;
    }
    if (!isGguf(head)) {
      this.chooseStatus.textContent = `“${file.name}” is not a GGUF model file. Pick a file ending in .gguf, as published for llama.cpp.`;
      return;
    }
    this.chooseStatus.textContent = `Checking “${file.name}”…`;
    try {
      await this.d.checkFile(file);
    } catch (err) {
      this.chooseStatus.textContent = `“${file.name}” is not a model the page can run: ${errorText(err)}`;
      return;
    }
    this.choose({ ...choiceFromFile(file), file });
  }

  choose(choice) {
    const previous = this.d.current();
    this.pending = { choice, previous: previous && previous.id !== choice.id ? previous : null };
    this.fallback = null;
    this.chooseStatus.textContent = `Loading ${choice.name}…`;
    this.d.use(choice);
    this.started();
  }

  // Every message from the engine worker (see worker.js), whichever view is showing.
  engineEvent(msg) {
    if (msg.type === 'progress') this.onProgress(msg);
    else if (msg.type === 'ready' || msg.type === 'loaded') this.onReady(msg);
    else if (msg.type === 'error' && msg.scope === 'load') this.onLoadError(msg);
  }

  started() {
    this.state = 'loading';
    this.lastError = '';
    this.phase = null;
    this.meter.reset();
    this.renderCurrent();
  }

  onProgress({ phase, loaded, total }) {
    if (this.state !== 'loading') this.started();
    if (phase !== this.phase) {
      this.phase = phase;
      this.meter.reset();
    }
    this.progressBox.hidden = false;
    this.progressBox.dataset.phase = phase;
    this.progressLabel.textContent = PHASES[phase] || 'Loading';
    this.cancelButton.hidden = phase !== 'download' && phase !== 'file';
    if (phase === 'verify' || phase === 'init') {
      this.progressRate.textContent = '';
      return;
    }
    if (total > 0) {
      this.progress.max = total;
      this.progress.value = Math.min(loaded, total);
      this.progressText.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} · ${formatPercent(loaded, total)}`;
    } else {
      this.progress.removeAttribute('value');
      this.progressText.textContent = formatBytes(loaded);
    }
    this.progressRate.textContent = this.meter.text(loaded, total);
  }

  async onReady(msg) {
    this.state = 'ready';
    this.lastReady = msg;
    const pending = this.pending;
    this.pending = null;
    if (pending && this.isCurrent(pending.choice.id)) {
      try {
        await saveActiveModel(this.d.db, pending.choice);
        this.chooseStatus.textContent = `Now using ${pending.choice.name}.`;
      } catch (err) {
        this.chooseStatus.textContent = `${pending.choice.name} is loaded, but could not be remembered for next time (${errorText(err)}).`;
      }
    }
    this.renderCurrent();
    if (this.d.root.isConnected && !this.d.root.hidden) await this.refreshStorage();
  }

  onLoadError(msg) {
    const pending = this.pending;
    this.pending = null;
    if (msg.cancelled && pending?.previous) {
      this.chooseStatus.textContent = `Cancelled. Going back to ${pending.previous.name}.`;
      this.d.use(pending.previous);
      this.started();
      return;
    }
    this.state = 'error';
    this.lastError = msg.message;
    this.fallback = pending?.previous || null;
    if (pending) this.chooseStatus.textContent = `${pending.choice.name} could not be loaded.`;
    this.renderCurrent();
    if (!this.d.root.hidden) this.refreshStorage();
  }

  renderCurrent() {
    const model = this.d.current();
    this.currentName.textContent = model ? model.name : 'No model chosen yet';
    const ready = this.state === 'ready' && this.lastReady;
    this.progressBox.hidden = this.state !== 'loading' || !this.phase;
    if (this.state === 'loading') {
      this.currentState.textContent = 'Loading…';
    } else if (this.state === 'error') {
      this.currentState.textContent = `Not loaded: ${this.lastError}`;
    } else if (ready) {
      const from = { cache: 'loaded from this device', download: 'downloaded', file: 'read from a file' }[this.lastReady.source] || 'loaded';
      this.currentState.textContent = `Ready, ${from}.`;
    }
    this.currentState.dataset.state = this.state;
    this.fallbackButton.hidden = !(this.state === 'error' && this.fallback);
    if (this.fallback) this.fallbackButton.textContent = `Go back to ${this.fallback.name}`;
    const rows = [];
    if (ready) {
      const info = this.lastReady.info && typeof this.lastReady.info === 'object' ? this.lastReady.info : {};
      const backend = backendText(this.lastReady);
      rows.push(['Backend', backend.name]);
      if (backend.reason) rows.push(['Why', backend.reason]);
      if (info.template) rows.push(['Chat format', templateText(info.template)]);
      if (typeof info.instruct === 'boolean') rows.push(['Prompt layout', layoutText(info.instruct)]);
      if (info.architecture) rows.push(['Architecture', String(info.architecture)]);
      if (info.name) rows.push(['Name in the file', String(info.name)]);
      if (info.context_length) rows.push(['Context', `${info.context_length} tokens`]);
      if (info.file_bytes) rows.push(['Size', formatBytes(info.file_bytes)]);
      const memory = memoryText(info, globalThis.navigator?.deviceMemory);
      if (memory) rows.push(['Memory', memory]);
    }
    this.details.replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = el('dt', '', k);
      const dd = el('dd', '', v);
      dd.dataset.field = k;
      return [dt, dd];
    }));
  }
}
