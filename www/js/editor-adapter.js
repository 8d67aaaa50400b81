// The character's trained adapter in the editor: a LoRA adapter (GGUF) of the model in use,
// trained elsewhere on the data Settings exports, put on the model for this character's
// replies at a strength. The engine checks a picked file before it is kept; the file is kept
// in the "models" store like a model (Models lists it under storage), the character record
// names it: {id, name, scale, bytes, matrices}.
import { el, button, field, filePicker } from './editor-dom.js';
import { beginModel, putChunk, completeModel, CHUNK_SIZE, ADAPTER_KIND } from './model-store.js';
import { sha256Hex } from './model-fetch.js';
import { formatBytes } from './format.js';
import { errorText } from './wasm.js';

const MAX_ADAPTER = 2 * 1024 * 1024 * 1024;

export class AdapterEditor {
  // deps: {db, engine(), ready(), onChange()}
  constructor(deps) {
    this.d = deps;
    this.adapter = null;
    this.root = el('div', 'ed-adapter');
    this.root.append(el('p', 'ed-hint',
      'A LoRA adapter of the model in use (a GGUF file, as llama.cpp\'s convert_lora_to_gguf.py writes it), trained '
      + 'on this character\'s chats (Settings, Training data). Its replies are then written with it.'));
    this.current = el('p', 'ed-adapter-current');
    this.current.setAttribute('role', 'status');
    this.remove = button('Remove adapter', 'ghost small danger');
    this.remove.addEventListener('click', () => this.set(null));
    const pickLabel = filePicker('Choose adapter file', '.gguf', (file) => this.picked(file));
    this.scale = field('Strength', { type: 'number', hint: '1 as trained; 0 leaves it out; up to 2.' });
    Object.assign(this.scale.control, { min: '0', max: '2', step: '0.05' });
    this.scale.control.addEventListener('input', () => {
      const v = Number(this.scale.control.value);
      if (this.adapter && Number.isFinite(v) && v >= 0 && v <= 2) {
        this.adapter = { ...this.adapter, scale: v };
        this.d.onChange();
      }
    });
    const row = el('div', 'ed-adapter-actions');
    row.append(pickLabel, this.remove);
    this.root.append(this.current, row, this.scale.wrap);
    this.render();
  }

  load(adapter) {
    this.adapter = adapter && typeof adapter.id === 'string' ? { ...adapter } : null;
    this.render();
  }

  get value() {
    return this.adapter ? { ...this.adapter } : null;
  }

  set(adapter) {
    this.adapter = adapter;
    this.render();
    this.d.onChange();
  }

  render(message = '') {
    const a = this.adapter;
    this.current.textContent = message || (a
      ? `${a.name}: adapts ${a.matrices} matrices, ${formatBytes(a.bytes)}.`
      : 'No adapter: the model alone writes this character\'s replies.');
    this.root.dataset.adapter = a ? a.id : '';
    this.remove.hidden = !a;
    this.scale.wrap.hidden = !a;
    if (a) this.scale.control.value = String(a.scale);
  }

  // A picked file: checked by the engine against the loaded model, then kept on the device.
  async picked(file) {
    if (!file) return;
    const engine = this.d.engine();
    if (!engine || !this.d.ready()) return this.render('Load a model first: an adapter is checked against the model it is for.');
    if (file.size > MAX_ADAPTER) return this.render(`${file.name} is larger than an adapter can be.`);
    this.render(`Checking ${file.name}…`);
    try {
      const { matrices } = await engine.checkAdapter(file);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const sha256 = await sha256Hex(bytes);
      const meta = { id: `adapter-${sha256.slice(0, 16)}`, name: file.name, url: `adapter:${file.name}`, kind: ADAPTER_KIND, sha256 };
      await beginModel(this.d.db, meta);
      let index = 0;
      for (let at = 0; at < bytes.length; at += CHUNK_SIZE, index++) {
        await putChunk(this.d.db, meta.id, index, bytes.slice(at, at + CHUNK_SIZE).buffer);
      }
      await completeModel(this.d.db, meta, bytes.length, index);
      this.set({ id: meta.id, name: file.name, scale: 1, bytes: bytes.length, matrices });
    } catch (err) {
      this.render(`${file.name} was not added: ${errorText(err)}`);
    }
  }
}
