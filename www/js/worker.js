// The engine's home: a module Web Worker, because every Engine method is synchronous and
// would freeze the page on the UI thread.
//
// Messages from the page:
//   {type:"load", url, modelId?, sha256?, bytes?}   fetch (or read from IndexedDB) and load a model
//   {type:"generate", id, request, options}         assemble the prompt from `request` (card, persona,
//                                                   history, lorebooks, settings, mode: see prompt.rs in
//                                                   crates/web) and stream a reply; options as Engine.start
//                                                   takes them
//   {type:"stop"}                                   end the current reply after the token in hand
// Messages to the page:
//   {type:"progress", phase, loaded, total}         phase: "download" | "cache" | "verify" | "init"
//   {type:"notice", message}                        something worth knowing that is not an error
//   {type:"ready", info, source, stored}            source: "download" | "cache"; stored: kept on device
//   {type:"prompt", id, cut, lore, tokens, budget}  what went into the prompt: history indices cut to fit,
//                                                   lorebook entries that fired, token counts
//   {type:"token", id, piece, text}                 text: the reply so far, stop strings held back
//   {type:"done", id, stop_reason, text, stats}     text: the reply (for a continuation, the new text
//                                                   only, its leading space kept); stop_reason: the engine's ("eos", "max_tokens", "stop",
//                                                   "context_full", ...) or "user" for a stop message
//   {type:"error", scope, id?, message}             scope: "load" | "generate"
import { openDb, isQuotaError } from './db.js';
import { readModel, beginModel, putChunk, completeModel, deleteModel } from './model-store.js';
import { downloadModel, sha256Hex, ModelError } from './model-fetch.js';
import { visibleText, finalText } from './stop-text.js';
import { sanitizeOptions, fitToContext } from './generation-options.js';

const MAX_CONTEXT = 8192;

// Continuing a reply: the prompt is rendered with this marker at the end of the character's
// last turn and cut there, so it ends inside that turn whatever the chat template.
const CONTINUE_MARK = '\u{F8FF}kindred-continue\u{F8FF}';

let engine = null;
let wasmModule = null;
let info = null;
let loading = false;
let busy = false;
let stopRequested = false;

const post = (msg) => self.postMessage(msg);

// A MessageChannel round trip gives the event loop a turn without setTimeout's clamping,
// so a "stop" sitting in the queue is seen before the next token is computed.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToEvents = () => new Promise((resolve) => {
  waiting.push(resolve);
  channel.port2.postMessage(null);
});

function progressPoster(phase) {
  let last = 0;
  return (loaded, total) => {
    const now = performance.now();
    if (now - last < 100 && loaded !== total) return;
    last = now;
    post({ type: 'progress', phase, loaded, total });
  };
}

async function openStorage() {
  try {
    return await openDb();
  } catch (err) {
    post({ type: 'notice', message: `Storage is unavailable (${err.message}); the model will be kept in memory only.` });
    return null;
  }
}

const QUOTA_NOTICE = 'Not enough storage space to keep the model on this device. ' +
  'It works for this visit and will be downloaded again next time.';

async function fetchAndStore(db, meta) {
  let storing = Boolean(db);
  const giveUpStoring = async (err) => {
    if (!storing) return;
    storing = false;
    post({ type: 'notice', message: isQuotaError(err) ? QUOTA_NOTICE
      : `The model could not be saved on this device (${err.message}); it will be downloaded again next time.` });
    try { await deleteModel(db, meta.id); } catch { /* the copy is unflagged anyway */ }
  };
  if (storing && meta.bytes && navigator.storage?.estimate) {
    const { quota = Infinity, usage = 0 } = await navigator.storage.estimate();
    if (quota - usage < meta.bytes) {
      await giveUpStoring(new DOMException('estimate', 'QuotaExceededError'));
    }
  }
  if (storing) {
    try { await beginModel(db, meta); } catch (err) { await giveUpStoring(err); }
  }
  const onChunk = async (index, data) => {
    if (!storing) return;
    try { await putChunk(db, meta.id, index, data); } catch (err) { await giveUpStoring(err); }
  };
  let bytes;
  let chunks;
  try {
    ({ bytes, chunks } = await downloadModel(meta.url, meta.bytes, progressPoster('download'), onChunk));
  } catch (err) {
    // Unflagged chunks would be ignored anyway; removing them gives the space back now.
    if (storing) await deleteModel(db, meta.id).catch(() => {});
    throw err;
  }
  if (meta.sha256) {
    post({ type: 'progress', phase: 'verify', loaded: 0, total: bytes.length });
    const digest = await sha256Hex(bytes);
    if (digest !== meta.sha256.toLowerCase()) {
      if (storing) await deleteModel(db, meta.id).catch(() => {});
      throw new ModelError('The downloaded model is corrupt: its checksum does not match the manifest.');
    }
  }
  if (storing) {
    try { await completeModel(db, meta, bytes.length, chunks); } catch (err) { await giveUpStoring(err); }
  }
  return { bytes, stored: storing };
}

async function load(msg) {
  if (loading || engine) return;
  loading = true;
  const meta = {
    id: String(msg.modelId || msg.url),
    url: String(msg.url),
    bytes: Number.isSafeInteger(msg.bytes) && msg.bytes > 0 ? msg.bytes : 0,
    sha256: typeof msg.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(msg.sha256) ? msg.sha256 : null,
  };
  let db = null;
  let source = 'cache';
  let stored = true;
  try {
    const wasm = import('../pkg/kindred_web.js').then(async (mod) => {
      await mod.default();
      return mod;
    });
    wasm.catch(() => {}); // reported when awaited below
    db = await openStorage();
    let bytes = null;
    if (db) {
      try {
        bytes = await readModel(db, meta.id, meta, progressPoster('cache'));
      } catch (err) {
        post({ type: 'notice', message: `The saved model could not be read (${err.message}); downloading it again.` });
      }
    }
    if (!bytes) {
      source = 'download';
      ({ bytes, stored } = await fetchAndStore(db, meta));
    }
    post({ type: 'progress', phase: 'init', loaded: bytes.length, total: bytes.length });
    let mod;
    try {
      mod = await wasm;
    } catch (err) {
      throw new ModelError(`The engine could not start: ${err.message}`);
    }
    try {
      wasmModule = mod;
      engine = mod.Engine.load(bytes);
      // The KV cache grows with the chat; a cap keeps a long chat within wasm's memory.
      if (typeof engine.set_context === 'function') engine.set_context(MAX_CONTEXT);
      info = plain(engine.info());
    } catch (err) {
      engine = null;
      if (db) await deleteModel(db, meta.id).catch(() => {});
      throw new ModelError(`This file is not a model the page can run: ${errorText(err)}`);
    }
    post({ type: 'ready', info, source, stored });
  } catch (err) {
    post({ type: 'error', scope: 'load', message: errorText(err) });
  } finally {
    loading = false;
  }
}

async function generate(msg) {
  const id = msg.id;
  if (!engine) return post({ type: 'error', scope: 'generate', id, message: 'The model is not loaded yet.' });
  if (busy) return post({ type: 'error', scope: 'generate', id, message: 'A reply is already being written.' });
  busy = true;
  stopRequested = false;
  try {
    const options = sanitizeOptions(msg.options);
    const context = Math.min(Number(info.context_length) || MAX_CONTEXT,
      Number(msg.request?.settings?.context_tokens) || MAX_CONTEXT);
    const assembled = assemble(msg.request, context, options.max_tokens);
    options.stop = sanitizeOptions({ stop: [...assembled.stop, ...options.stop] }).stop;
    post({
      type: 'prompt', id, cut: assembled.cut, lore: assembled.lore, tokens: assembled.tokens,
      budget: assembled.budget, over_budget: assembled.over_budget,
    });
    const messages = fitToContext(engine, assembled.messages, context, options.max_tokens);
    const continues = assembled.continues && messages[messages.length - 1]?.role === 'assistant';
    const prompt = continues ? renderContinuation(messages) : engine.render_chat(messages);
    const t0 = performance.now();
    const { n_prompt, n_reused } = plain(engine.start(prompt, options));
    // next() first reads the prompt a chunk at a time (prefill_left set), so
    // a stop is heard during a long prompt too; t1 marks the prompt read.
    let t1 = performance.now();
    let text = '';
    let generated = 0;
    let reason = null;
    for (;;) {
      await yieldToEvents();
      if (stopRequested) { reason = 'user'; break; }
      const step = plain(engine.next());
      if (step.prefill_left !== undefined && step.prefill_left !== null) {
        if (step.prefill_left === 0) t1 = performance.now();
        continue;
      }
      generated += 1;
      if (step.piece) {
        text += step.piece;
        post({ type: 'token', id, piece: step.piece, text: visibleText(text, options.stop) });
      }
      if (step.done) { reason = step.stop_reason; break; }
    }
    const t2 = performance.now();
    const decodeS = (t2 - t1) / 1000;
    post({
      type: 'done', id, stop_reason: reason, text: finalText(text, options.stop, { keepStart: continues }),
      stats: {
        n_prompt: Number(n_prompt), n_reused: Number(n_reused), n_generated: generated,
        prefill_ms: Math.round(t1 - t0), decode_ms: Math.round(t2 - t1),
        tokens_per_s: decodeS > 0 ? generated / decodeS : 0,
      },
    });
  } catch (err) {
    post({ type: 'error', scope: 'generate', id, message: errorText(err) });
  } finally {
    busy = false;
  }
}

// The Rust prompt assembly (crates/web/src/prompt.rs), counting tokens with the model's
// own tokenizer. The reply's room and the context come from here, not from the page.
function assemble(request, context, maxTokens) {
  const req = request && typeof request === 'object' ? request : {};
  const settings = req.settings && typeof req.settings === 'object' ? req.settings : {};
  const full = { ...req, settings: { ...settings, context_tokens: context, reply_reserve: maxTokens } };
  const count = (text) => engine.count_tokens(text);
  return JSON.parse(wasmModule.assemble_prompt(JSON.stringify(full), count));
}

function renderContinuation(messages) {
  const marked = messages.map((m, i) => (i === messages.length - 1 ? { ...m, content: m.content + CONTINUE_MARK } : m));
  const rendered = engine.render_chat(marked);
  const at = rendered.lastIndexOf(CONTINUE_MARK);
  return at >= 0 ? rendered.slice(0, at) : engine.render_chat(messages);
}

// serde-wasm-bindgen turns Rust maps into JS Maps; the page only deals in plain objects.
function plain(value) {
  return value instanceof Map ? Object.fromEntries(value) : value;
}

function errorText(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}

self.onmessage = (event) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'load') load(msg);
  else if (msg.type === 'generate') generate(msg);
  else if (msg.type === 'stop') stopRequested = true;
};
