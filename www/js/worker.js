// The engine's home: a module Web Worker, because every Engine method is synchronous and
// would freeze the page on the UI thread.
//
// Messages from the page:
//   {type:"load", url, modelId?, sha256?, bytes?}   fetch (or read from IndexedDB) and load a model
//        name?, kind?, file?                        file: a picked GGUF File, read instead of fetched
//                                                   (its url is "local:<name>"); kept like a download
//        backend?, backendSource?, loseGpuAfter?    backend: "auto" | "gpu" | "cpu" (backend-choice.js);
//                                                   backendSource: "settings" | "address"; loseGpuAfter:
//                                                   test hook, destroys the GPU device before step N of
//                                                   each reply (prompt chunks count; 0: before the first)
//        threads?                                   CPU pool size asked for (?threads=N; engine-build.js)
//        simd?                                      "base": plain simd128, not relaxed SIMD (?simd=base)
//        stepMs?                                    each reply token takes at least this long (?step_ms=N)
//   {type:"cancel"}                                 abandon the download or file read in progress
//   {type:"generate", id, request, options, chat?}  assemble the prompt from `request` (card, persona,
//                                                   history, lorebooks, settings, mode: see prompt.rs in
//                                                   crates/web; adapter: {id, name, scale}, a LoRA adapter
//                                                   stored in "models" to put on the model first, none: the
//                                                   model alone) and stream a reply; options as Engine.start
//                                                   takes them; chat: the chat's id, to restore its prompt
//                                                   from a stored prefix and keep the read one (none: neither)
//   {type:"complete", id, messages, options}        an OpenAI-style chat completion (kindred.js): messages
//                                                   [{role, content}] in the model's chat format, streamed as
//                                                   "token" messages and ended by "done" (or an "error" with
//                                                   scope "complete"); options as for generate, and
//                                                   response_format ({type: "json_object" | "json_schema", ...})
//   {type:"stop"}                                   end the current reply after the token in hand
//   {type:"warm", id, request, options, chat?}      read the prompt this chat's next reply starts with (the
//                                                   request as for a reply to the history as it stands) into
//                                                   the cache while the person types; a reply sent meanwhile
//                                                   keeps what was read. A newer warm replaces it; request
//                                                   null only ends the one in progress; chat: as for generate.
//                                                   CPU backend only (skipped on WebGPU)
//   {type:"count", id, request}                     count a prompt request's tokens, nothing generated
//                                                   (the character editor's definition count)
//   {type:"hold", lock}                             hold the Web Lock `lock` while this worker lives (answered
//                                                   "held"): its release tells the page the worker is gone
//   {type:"check-file", id, file}                   whether the engine runs a picked GGUF File, from its
//                                                   header, before the page lets this model go
//   {type:"check-adapter", id, file}                whether a picked GGUF File is a LoRA adapter of the
//                                                   loaded model (answered "adapter-checked")
//   {type:"check", id, request, options, limit?,    the quality harness's probe conversation for request.card
//        model?}                                    (crates/web/src/eval.rs): at most `limit` probes; a "stop"
//                                                   ends it after the reply in hand
//   {type:"studio", id, request, options, traits,   the trait studio for request.card (crates/web/src/studio.rs):
//        questions, candidates}                     traits [{name, description?}], questions per trait, replies
//                                                   per question; a "stop" ends it after the answer in hand
// Messages to the page:
//   {type:"progress", phase, loaded, total}         phase: "download" | "cache" | "verify" | "init"
//   {type:"notice", message}                        something worth knowing that is not an error
//   {type:"ready", info, source, stored}            source: "download" | "cache"; stored: kept on device
//        backend, backendReason                     "webgpu" | "cpu", and why (adapter, fallback, limits)
//        cpu: {threads, build, reason}              the CPU engine build: "threads-relaxed" (pkg-mt-relaxed),
//                                                   "threads" (pkg-mt) or "single" (pkg)
//   {type:"backend", backend, backendReason, info}  the backend changed (a GPU lost mid-reply: now "cpu")
//   {type:"prompt", id, cut, lore, tokens, budget}  what went into the prompt: history indices cut to fit,
//                                                   lorebook entries that fired, token counts,
//        memory                                     the memories in it [{kind, id, text}],
//        prompt_text, prompt_tokens                 and the whole prompt as the model reads it
//   {type:"summary", id, text, from_id, to_id,      a rolling summary of history that left the context
//        message_ids}                               (request.memory.summarise), written by a chat's warm-up
//                                                   (id: the warm's), or before the reply when still due
//   {type:"token", id, piece, text}                 text: the reply so far, stop strings held back
//   {type:"done", id, stop_reason, text, stats,     text: the reply (for a continuation, the new text
//        lore_state}                                only, its leading space kept); stop_reason: the engine's ("eos", "max_tokens", "stop",
//                                                   "context_full", ...) or "user" for a stop message; lore_state:
//                                                   the lorebook activations to send back with the chat's next request
//   {type:"check-progress", id, done, total,        a probe answered and scored (record: null at the start);
//        record, summary}                           summary: pass rates so far (eval::Summary)
//   {type:"check-done", id, run, summary, stopped,  the whole run (kindred_characters::eval::CharacterRun)
//        seconds}
//   {type:"studio-progress", id, done, total, step} a step begun: step {kind: "questions" | "candidate" |
//                                                   "ranking", trait_name, question?, variant?}
//   {type:"studio-done", id, result, stopped,       result: kindred_characters' StudioResult {items, issues}
//        seconds}
//   {type:"warm", id, state, left, n_prompt,         state: "reading" (left: tokens still to read), "ready"
//        n_reused, n_shifted?, restored?, ms?,      (ms: time it took), "stopped" (replaced, a reply came, or
//        message?}                                  request null) or "skipped" (message: why); restored: the
//                                                   tokens taken from a stored prefix, or {refused: why};
//                                                   n_shifted: of n_reused, kept past turns left out to fit
//   {type:"error", scope, id?, message, refused?}   scope: "load" | "generate" | "complete" | "check" | "studio"; refused:
//                                                   a load refused because the engine cannot run the file
//   {type:"count", id, tokens, exact, message?}     a "count" answered: the assembled prompt's token
//                                                   counts (null with a message when it failed)
//   {type:"held"}                                   the "hold" lock is held
//   {type:"file-checked", id, ok, message?}         a "check-file" answered: message, the engine's reason
//   {type:"adapter", name, scale}                   the LoRA adapter now on the model (name null: none)
//   {type:"adapter-checked", id, ok, matrices?,     a "check-adapter" answered: the matrices it adapts, or
//        message?}                                  why the engine will not take it
//                                                   cancelled: true when a "cancel" ended the load
import { openDb, isQuotaError } from './db.js';
import { readModel, getModelRecord, storedPart, beginModel, putChunk, completeModel, deleteModel, CHUNK_SIZE } from './model-store.js';
import { formatBytes } from './format.js';
import { downloadModel, sha256Hex, ModelError } from './model-fetch.js';
import { readModelFile } from './model-file.js';
import { headerCheck, checkFileHeader } from './model-header.js';
import { LOCAL_PREFIX } from './model-choice.js';
import { cleanSummary } from './memory.js';
import { engineBuild } from './engine-build.js';
import { selectBackend, fallbackReason, fallbackNotice } from './gpu-backend.js';
import { findPrefix, savePrefix, hasPrefix, deletePrefix, prefixKey, MIN_PREFIX_TOKENS } from './prefix-store.js';

const MAX_CONTEXT = 8192;

let engine = null;
let wasmModule = null;
let info = null;
let cpu = null; // the CPU build in use: {threads, build, reason} (engine-build.js)
let loading = false;
let busy = false;
let stopRequested = false;
let loadAbort = null;
let backend = { backend: 'cpu', backendReason: '' };
let loseGpuAfter = -1;
let stepMs = 0;
let warming = null; // the warm-up in progress: {id, stop, finished}
let storeDb = null; // the database the model came from, where prompt prefixes are kept too
let modelId = ''; // the loaded model's record in the database
let modelKey = ''; // names the loaded file exactly in stored prefixes' keys
let adapter = null; // the LoRA adapter on the model: {id, scale}

// Where messages to the page go: this worker's own page, or, in the engine several pages share
// (shared-host.js, which imports this module), that host's router.
let send = (msg) => self.postMessage(msg);
const post = (msg) => send(msg);

export function attach(route) {
  send = route;
}

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

// The engine's reason a file's header is refused, as the load's error.
function refusedFile(err) {
  const refused = new ModelError(`This file is not a model the page can run: ${errorText(err)}`);
  refused.refused = true;
  return refused;
}

// check: headerCheck's feed (model-header.js), which rejects a file the engine cannot run;
// the download then stops and that reason is the error.
async function fetchAndStore(db, meta, file = null, check = null) {
  let refusal = null;
  let storing = Boolean(db);
  const giveUpStoring = async (err) => {
    if (!storing) return;
    storing = false;
    post({ type: 'notice', message: isQuotaError(err) ? QUOTA_NOTICE
      : `The model could not be saved on this device (${err.message}); it will be downloaded again next time.` });
    try { await deleteModel(db, meta.id); } catch { /* the copy is unflagged anyway */ }
  };
  // A download of this file that a lost connection or a closed tab cut short continues.
  let part = null;
  if (storing && !file) {
    try { part = await storedPart(db, meta.id, meta); } catch { part = null; }
  }
  const kept = (part?.parts.length || 0) * CHUNK_SIZE;
  if (storing && meta.bytes && navigator.storage?.estimate) {
    const { quota = Infinity, usage = 0 } = await navigator.storage.estimate();
    if (quota - usage < meta.bytes - kept) {
      await giveUpStoring(new DOMException('estimate', 'QuotaExceededError'));
      part = null;
    }
  }
  if (part?.parts.length && check) {
    try {
      for (const data of part.parts) if (await check(data)) break;
    } catch (err) {
      await deleteModel(db, meta.id).catch(() => {});
      throw refusedFile(err);
    }
  }
  const onStart = async ({ resumedAt, validator }) => {
    if (resumedAt > 0) {
      post({ type: 'notice', message: `Continuing the download: ${formatBytes(resumedAt)} were already saved on this device.` });
      return;
    }
    if (!storing) return;
    try { await beginModel(db, { ...meta, validator }); } catch (err) { await giveUpStoring(err); }
  };
  if (file) await onStart({ resumedAt: 0, validator: null });
  const onChunk = async (index, data) => {
    if (check && !refusal) {
      try {
        await check(data);
      } catch (err) {
        refusal = refusedFile(err);
        loadAbort?.abort();
      }
    }
    if (refusal) return;
    if (!storing) return;
    try { await putChunk(db, meta.id, index, data); } catch (err) { await giveUpStoring(err); }
  };
  let bytes;
  let chunks;
  try {
    ({ bytes, chunks } = file
      ? await readModelFile(file, progressPoster('file'), onChunk, loadAbort?.signal)
      : await downloadModel(meta.url, {
        expectedBytes: meta.bytes, onProgress: progressPoster('download'), onChunk, onStart, signal: loadAbort?.signal, part,
      }));
  } catch (err) {
    // A cut connection keeps its chunks for the next try; anything else gives the space back.
    if (storing && !(err?.keepsPart && !refusal)) await deleteModel(db, meta.id).catch(() => {});
    throw refusal || err;
  }
  if (refusal) {
    if (storing) await deleteModel(db, meta.id).catch(() => {});
    throw refusal;
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
    name: typeof msg.name === 'string' ? msg.name.slice(0, 200) : '',
    kind: typeof msg.kind === 'string' ? msg.kind.slice(0, 20) : '',
  };
  const file = msg.file instanceof Blob ? msg.file : null;
  loadAbort = new AbortController();
  const abort = loadAbort;
  let db = null;
  let source = 'cache';
  let stored = true;
  try {
    const wasm = engineBuild(msg.threads, msg.simd).then((build) => {
      cpu = { threads: build.threads, build: build.build, reason: build.reason };
      return build.mod;
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
      source = file ? 'file' : 'download';
      checkModelUrl(meta.url, Boolean(file), meta.name);
      ({ bytes, stored } = await fetchAndStore(db, meta, file, headerCheck(wasm, meta.bytes || file?.size || 0)));
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
      adapter = null;
      engine = mod.Engine.load(bytes);
      // The KV cache grows with the chat; a cap keeps a long chat within wasm's memory.
      if (typeof engine.set_context === 'function') engine.set_context(MAX_CONTEXT);
      info = plain(engine.info());
    } catch (err) {
      engine = null;
      if (db) await deleteModel(db, meta.id).catch(() => {});
      throw refusedFile(err);
    }
    backend = await selectBackend(engine, msg.backend, msg.backendSource);
    info = plain(engine.info());
    loseGpuAfter = Number.isInteger(msg.loseGpuAfter) && msg.loseGpuAfter >= 0 ? msg.loseGpuAfter : -1;
    stepMs = Number.isInteger(msg.stepMs) && msg.stepMs > 0 ? msg.stepMs : 0;
    storeDb = db;
    modelId = meta.id;
    modelKey = `${meta.id}:${meta.sha256 || meta.bytes || meta.url}`;
    post({ type: 'ready', info, source, stored, cpu, ...backend });
  } catch (err) {
    if (abort.signal.aborted && !err?.refused) post({ type: 'error', scope: 'load', cancelled: true, message: 'The download was cancelled.' });
    else post({ type: 'error', scope: 'load', message: errorText(err), refused: Boolean(err?.refused) });
  } finally {
    loading = false;
    loadAbort = null;
  }
}

// A file picked from disk, told from its header before the page lets this worker's model go
// (its tokenizer alone can take a second to build: off the page's thread). Answered by a
// "file-checked" message with the id: ok, or the engine's reason. A worker without a model
// starts no engine for it (that would fix the thread pool before the load): the load's own
// header check refuses such a file, and there is no model in use to keep.
async function checkAdapter(msg) {
  try {
    if (!engine) throw new Error('the model is not loaded yet');
    if (!(msg.file instanceof Blob)) throw new Error('no file');
    const matrices = engine.check_adapter(new Uint8Array(await msg.file.arrayBuffer()));
    post({ type: 'adapter-checked', id: msg.id, ok: true, matrices });
  } catch (err) {
    post({ type: 'adapter-checked', id: msg.id, ok: false, message: errorText(err) });
  }
}

async function checkFile(msg) {
  try {
    if (wasmModule && msg.file instanceof Blob) await checkFileHeader(Promise.resolve(wasmModule), msg.file);
    post({ type: 'file-checked', id: msg.id, ok: true });
  } catch (err) {
    post({ type: 'file-checked', id: msg.id, ok: false, message: errorText(err) });
  }
}

// The worker fetches only from its own origin or over https, whatever the page asked for.
function checkModelUrl(url, hasFile, name) {
  if (url.startsWith(LOCAL_PREFIX)) {
    if (hasFile) return;
    throw new ModelError(`“${name || url.slice(LOCAL_PREFIX.length)}” came from a file on this device and is no longer stored here: pick the file again under Models.`);
  }
  let target;
  try {
    target = new URL(url, self.location.href);
  } catch {
    throw new ModelError('The model address is not a valid URL.');
  }
  if (target.origin !== self.location.origin && target.protocol !== 'https:') {
    throw new ModelError('The model address must use https or be on this site.');
  }
}

// One reply at a time: `write(received)` writes the reply asked for by message `id` (the
// read-ahead ended first) and returns its "done" message; a failure is an error of `scope`.
function replyJob(id, scope, write) {
  return engineTask(scope, id, async (received) => ({ type: 'done', id, ...await write(received) }));
}

function generate(msg) {
  return replyJob(msg.id, 'generate', async (received) => {
    const chat = typeof msg.chat === 'string' && msg.chat ? msg.chat : null;
    const out = await reply(msg.id, msg.request, msg.options, true, received, chat);
    if (chat && out.stats) await keepPrefix(chat, out.stats.n_reused);
    return { stop_reason: out.reason, text: out.text, stats: out.stats, lore_state: out.loreState };
  });
}

// A reply's options from what the page sent, checked by the engine's one table of settings
// (crates/engine/src/reply_settings.rs): the page is only as trustworthy as what it read.
function checkOptions(raw) {
  return wasmModule.check_options(raw);
}

// One reply to a prompt request: prepared in Rust, streamed as "token" messages when
// `stream`, finished by the Rust turn discipline. Returns {raw, text, reason, stats}; a stop
// during the summary before it returns an empty reply with reason "user". stats.first_ms: from
// `since` (the request's arrival) to the first reply token, the wait a person sees.
async function reply(id, request, rawOptions, stream, since = performance.now(), chat = null) {
  const options = checkOptions(rawOptions);
  await useAdapter(request?.adapter);
  let prepared = prepare(request, options.max_tokens);
  // A chat that reads ahead has its summaries written by the warm-up (prepareAhead); one
  // still due (a Send cut that short, or no read-ahead) is written first.
  if (prepared.summarise) {
    const summarised = await summarise(id, request, prepared.summarise, options.seed, () => stopRequested);
    if (!summarised) return { raw: '', text: '', reason: 'user', stats: null };
    prepared = prepare(summarised, options.max_tokens);
  }
  options.stop = checkOptions({ stop: [...prepared.stop, ...options.stop] }).stop;
  if (stream) {
    post({
      type: 'prompt', id, cut: prepared.cut, lore: prepared.lore, tokens: prepared.tokens,
      budget: prepared.budget, over_budget: prepared.over_budget, memory: prepared.memory || [],
      format: prepared.format, prompt_text: prepared.prompt_text, prompt_tokens: prepared.prompt_tokens,
    });
  }
  const continues = prepared.continuing;
  if (chat) await restorePrefix();
  const t0 = performance.now();
  const start = plain(engine.start_prepared(options));
  const out = await decode(id, stream);
  return {
    raw: out.text,
    text: finishReply(out.text, out.reason, prepared.speakers, continues),
    reason: out.reason,
    loreState: prepared.lore_state,
    stats: replyStats(start, out, t0, since),
  };
}

// Steps a started reply to its end, streamed as "token" messages when `stream`. The engine
// first reads the prompt a chunk at a time (prefill_left set), so a stop is heard during a
// long prompt too. Returns {text, reason, generated, t1 (the prompt read), t2, firstAt}.
async function decode(id, stream) {
  let t1 = performance.now();
  let text = '';
  let generated = 0;
  let reason = null;
  let steps = 0;
  let firstAt = null;
  for (;;) {
    if (steps++ === loseGpuAfter) engine.lose_gpu();
    await yieldToEvents();
    if (stopRequested) { reason = 'user'; break; }
    const step = await engineStep();
    if (step.prefill_left !== undefined && step.prefill_left !== null) {
      if (step.prefill_left === 0) t1 = performance.now();
      continue;
    }
    generated += 1;
    firstAt ??= performance.now();
    if (stepMs) await new Promise((r) => setTimeout(r, stepMs));
    if (step.piece) {
      text += step.piece;
      // The engine's pieces never hold a stop string or a start of one that may yet complete
      // (TextStream, crates/engine/src/stream.rs): the text so far is safe to show.
      if (stream) post({ type: 'token', id, piece: step.piece, text });
    }
    if (step.done) { reason = step.stop_reason; break; }
  }
  return { text, reason, generated, t1, t2: performance.now(), firstAt };
}

// A reply's figures: `start` the engine's {n_prompt, n_reused, n_shifted}, `out` decode's,
// t0 when the prompt began to be read, `since` when the request came.
function replyStats(start, out, t0, since) {
  const decodeS = (out.t2 - out.t1) / 1000;
  return {
    n_prompt: Number(start.n_prompt), n_reused: Number(start.n_reused), n_shifted: Number(start.n_shifted),
    n_generated: out.generated, prefill_ms: Math.round(out.t1 - t0), decode_ms: Math.round(out.t2 - out.t1),
    first_ms: out.firstAt === null ? null : Math.round(out.firstAt - since),
    tokens_per_s: decodeS > 0 ? out.generated / decodeS : 0,
  };
}

// An OpenAI-style chat completion (kindred.js): the messages in the model's own chat format,
// with no character, memory or turn discipline around them; options as for a reply, with
// `response_format` keeping it to JSON (crates/engine/src/json_output).
function complete(msg) {
  return replyJob(msg.id, 'complete', async (received) => {
    const options = checkOptions(msg.options);
    // A developer's completion is the model's own, whatever character chatted last.
    await useAdapter(null);
    const t0 = performance.now();
    const start = plain(engine.start(engine.render_chat(msg.messages, null), options));
    const out = await decode(msg.id, true);
    return { stop_reason: out.reason, text: out.text, stats: replyStats(start, out, t0, received) };
  });
}

// A reply's prompt from its request (crates/web/src/prepare.rs): assembled, rendered, fitted
// to the model's context and tokenized in Rust, and kept by the engine for start_prepared and
// warm_prepared. Returns what went in (cut, lore, tokens, memory, summarise, stop, speakers,
// continuing, ...).
function prepare(request, maxTokens) {
  return JSON.parse(engine.prepare(JSON.stringify(request && typeof request === 'object' ? request : {}), maxTokens));
}

// A warm-up: the prompt of a reply to the history as it stands, read into the cache a chunk
// at a time. The person's message then adds only its own turn (and the closing lines after
// it, which the engine reads again), so the first token comes as fast as a later turn's.
function warm(msg) {
  const job = { id: msg.id, stop: false, finished: null };
  const previous = warming;
  if (previous) previous.stop = true;
  warming = job;
  job.finished = (async () => {
    await previous?.finished;
    if (job.stop || !msg.request) return post({ type: 'warm', id: job.id, state: 'stopped' });
    if (!engine || busy) return post({ type: 'warm', id: job.id, state: 'skipped', message: engine ? 'busy' : 'no model' });
    let prepared;
    try {
      await useAdapter(msg.request.adapter);
      prepared = await prepareAhead(job, msg.request, checkOptions(msg.options));
    } catch (err) {
      return post({ type: 'warm', id: job.id, state: 'skipped', message: errorText(err) });
    }
    if (job.stop || !prepared) return post({ type: 'warm', id: job.id, state: 'stopped' });
    // On WebGPU a prompt is read in a few queued passes, quickly on a real GPU; a read-ahead
    // there is not measured yet, and on a software adapter it would hold the device for long.
    if (backend.backend !== 'cpu') return post({ type: 'warm', id: job.id, state: 'skipped', message: 'the CPU reads ahead' });
    await readPrefix(job, typeof msg.chat === 'string' && msg.chat ? msg.chat : null);
  })().finally(() => {
    if (warming === job) warming = null;
  });
}

// The warm-up's prompt, prepared. History that has left the context is folded into the
// chat's rolling summary first, here, while the person reads and types, so that Send does
// not wait for it (the reply writes it only when Send cut this short). Null when the
// warm-up was stopped meanwhile.
async function prepareAhead(job, request, options) {
  const prepared = prepare(request, options.max_tokens);
  const due = prepared.summarise;
  if (!due) return prepared;
  const work = engine.count_tokens(String(due.prompt)) + Number(due.max_tokens || 0);
  post({ type: 'warm', id: job.id, state: 'reading', left: work, n_prompt: work, n_reused: 0 });
  const summarised = await summarise(job.id, request, due, options.seed, () => job.stop);
  return summarised && prepare(summarised, options.max_tokens);
}

// Reads the prepared prompt into the cache a chunk at a time.
async function readPrefix(job, chat) {
  const t0 = performance.now();
  let n_prompt = 0;
  let n_reused = 0;
  let n_shifted = 0;
  try {
    const restored = chat ? await restorePrefix() : undefined;
    if (job.stop) return post({ type: 'warm', id: job.id, state: 'stopped' });
    ({ n_prompt, n_reused, n_shifted } = plain(engine.warm_prepared()));
    let left = n_prompt - n_reused;
    for (;;) {
      post({ type: 'warm', id: job.id, state: 'reading', left, n_prompt, n_reused, restored });
      await yieldToEvents();
      if (job.stop) return post({ type: 'warm', id: job.id, state: 'stopped', left, n_prompt, n_reused });
      const step = await engineStep();
      if (step.done) break;
      left = step.prefill_left ?? 0;
    }
    post({ type: 'warm', id: job.id, state: 'ready', left: 0, n_prompt, n_reused, n_shifted, restored, ms: Math.round(performance.now() - t0) });
  } catch (err) {
    // Nothing is lost: the reply reads whatever the warm-up could not.
    post({ type: 'warm', id: job.id, state: 'skipped', message: errorText(err), n_prompt, n_reused });
  }
}

// Puts the LoRA adapter a request names on the model (the character trained elsewhere), or
// takes one off: the cache is read again either way (on the GPU the model is built again).
// One that cannot be used (not on this device, not an adapter of this model) is told as a
// notice, and the reply is written by the model alone.
async function useAdapter(want) {
  const spec = want && typeof want.id === 'string' ? { id: want.id, name: String(want.name || want.id), scale: Number(want.scale ?? 1) } : null;
  if ((spec?.id ?? null) === (adapter?.id ?? null) && (spec?.scale ?? 1) === (adapter?.scale ?? 1)) return;
  if (adapter) {
    gpuGivenUp(await engine.set_adapter(undefined, 1));
    adapter = null;
    post({ type: 'adapter', name: null });
  }
  if (!spec) return;
  try {
    const record = storeDb ? await getModelRecord(storeDb, spec.id) : null;
    const bytes = record && await readModel(storeDb, spec.id, { url: record.url, bytes: record.bytes, sha256: record.sha256 }, () => {});
    if (!bytes) throw new Error('it is not on this device');
    gpuGivenUp(await engine.set_adapter(bytes, spec.scale));
    adapter = { id: spec.id, scale: spec.scale };
    post({ type: 'adapter', name: spec.name, scale: spec.scale });
  } catch (err) {
    post({ type: 'notice', message: `The adapter ${spec.name} was not used: ${errorText(err)}` });
  }
}

// Names the model as it computes in stored prefixes' keys: the file and any adapter on it.
function computeKey() {
  return adapter ? `${modelKey}|lora:${adapter.id}@${adapter.scale}` : modelKey;
}

// Puts the longest stored prefix of the prepared prompt in the cache when it covers more than
// the cache already does. Returns the tokens restored (0: none found), or {refused} for an entry the
// engine would not take (damaged, another model): it is deleted and the prompt read instead.
async function restorePrefix() {
  if (!storeDb || backend.backend !== 'cpu') return 0;
  let entry = null;
  try {
    const ids = engine.prepared_tokens();
    const cached = engine.cached_tokens();
    let have = 0;
    while (have < cached.length && have < ids.length && cached[have] === ids[have]) have += 1;
    entry = await findPrefix(storeDb, modelId, computeKey(), ids, have + MIN_PREFIX_TOKENS / 2);
    return entry ? engine.restore_prefix(entry.data) : 0;
  } catch (err) {
    if (!entry) return 0; // storage unavailable: the prompt is read as ever
    await deletePrefix(storeDb, entry.key).catch(() => {});
    return { refused: errorText(err) };
  }
}

// Keeps the first `n` cached tokens (the part of the last prompt that was found read: the
// chat's stable prefix) unless they are short or kept already. Failures cost only the saving.
async function keepPrefix(chat, n) {
  if (!storeDb || backend.backend !== 'cpu' || !(n >= MIN_PREFIX_TOKENS)) return;
  try {
    const tokens = engine.cached_tokens().subarray(0, n);
    const key = await prefixKey(computeKey(), tokens);
    if (await hasPrefix(storeDb, key)) return;
    await savePrefix(storeDb, { key, model: modelId, chatId: chat, tokens: n, data: engine.save_prefix(n) });
  } catch { /* a full disk or a closed database: the prompt is read next time */ }
}

// Ends any warm-up and waits for it to let go of the engine; what it read stays cached.
async function endWarm() {
  while (warming) {
    const job = warming;
    job.stop = true;
    await job.finished;
  }
}

// The quality harness's probe conversation for one character (crates/web/src/eval.rs): each
// probe answered as a chat reply would be, scored in Rust, sent to the page as it comes.
async function check(msg) {
  const id = msg.id;
  await engineTask('check', id, async (t0) => {
    const request = msg.request && typeof msg.request === 'object' ? msg.request : {};
    const limit = Number.isInteger(msg.limit) && msg.limit > 0 ? msg.limit : 0;
    const user = typeof request.persona?.name === 'string' ? request.persona.name : '';
    const style = typeof request.settings?.style === 'string' ? request.settings.style : 'auto';
    const model = String(msg.model || info?.name || 'model').slice(0, 200);
    const run = new wasmModule.EvalRun(JSON.stringify(request.card ?? {}), user, limit, model, style, Boolean(info?.instruct));
    try {
      const progress = (record) => post({
        type: 'check-progress', id, done: run.answered(), total: run.total(), record, summary: JSON.parse(run.summary()),
      });
      progress(null);
      let stopped = false;
      while (!run.done()) {
        const history = JSON.parse(run.history());
        const out = await reply(id, { ...request, history, mode: 'reply', memory: undefined, room: undefined }, msg.options, false);
        if (out.reason === 'user') { stopped = true; break; }
        const ms = (out.stats?.prefill_ms ?? 0) + (out.stats?.decode_ms ?? 0);
        progress(JSON.parse(run.record(out.raw, String(out.reason), out.stats?.n_generated ?? 0, ms)));
      }
      return {
        type: 'check-done', id, run: JSON.parse(run.result()), summary: JSON.parse(run.summary()), stopped,
        seconds: (performance.now() - t0) / 1000,
      };
    } finally {
      run.free();
    }
  });
}

// Work that holds the engine (a reply, a check, a trait studio run): refused without a model or
// while other work holds it; any warm-up ended first; a failure is posted in `scope`. `body`
// gets the time the request came (a reply's first-token wait counts from it) and returns its
// last message, posted once the engine is free: whoever hears it may ask for the next piece of
// work at once (the shared host does, for the next page's reply).
async function engineTask(scope, id, body) {
  if (!engine) return post({ type: 'error', scope, id, message: 'The model is not loaded yet.' });
  if (busy) return post({ type: 'error', scope, id, message: 'The engine is busy with a reply.' });
  busy = true;
  stopRequested = false;
  const received = performance.now();
  let last;
  try {
    await endWarm();
    last = await body(received);
  } catch (err) {
    last = { type: 'error', scope, id, message: errorText(err) };
  } finally {
    busy = false;
  }
  post(last);
}

// The trait studio for one character (crates/web/src/studio.rs): the run in Rust says what to
// ask next; a candidate is a chat reply to its question (assembled as the chat would, each with
// its own seed), an instruction is the model's own answer kept to the step's JSON Schema.
async function studio(msg) {
  const id = msg.id;
  await engineTask('studio', id, async (t0) => {
    const request = msg.request && typeof msg.request === 'object' ? msg.request : {};
    const options = msg.options && typeof msg.options === 'object' ? msg.options : {};
    const run = new wasmModule.StudioRun(JSON.stringify(request.card ?? {}), JSON.stringify(Array.isArray(msg.traits) ? msg.traits : []),
      Number(msg.questions) || 0, Number(msg.candidates) || 0);
    try {
      let stopped = false;
      for (;;) {
        const step = JSON.parse(run.next());
        if (!step) break;
        const [done, total] = run.progress();
        post({
          type: 'studio-progress', id, done, total,
          step: { kind: step.kind, trait_name: step.trait_name, question: step.question ?? null, variant: step.variant ?? null },
        });
        const out = step.kind === 'candidate'
          ? await reply(id, { ...request, history: step.history, mode: 'reply', memory: undefined, room: undefined },
            { ...options, seed: Number.isInteger(options.seed) ? options.seed + step.variant : undefined }, false)
          : await instruct(id, step, options);
        if (out.reason === 'user') { stopped = true; break; }
        run.answer(out.text);
      }
      return { type: 'studio-done', id, result: JSON.parse(run.result()), stopped, seconds: (performance.now() - t0) / 1000 };
    } finally {
      run.free();
    }
  });
}

// An instruction to the model as itself (no character, no adapter): the step's prompt as one
// user message in the model's chat format, its answer kept to the step's JSON Schema.
async function instruct(id, step, rawOptions) {
  await useAdapter(null);
  const options = checkOptions({
    ...rawOptions, max_tokens: step.max_tokens, stop: [],
    response_format: { type: 'json_schema', json_schema: { name: step.kind, schema: step.schema } },
  });
  engine.start(engine.render_chat([{ role: 'user', content: step.prompt }], null), options);
  const out = await decode(id, false);
  return { text: out.text, reason: out.reason };
}

// One step on whichever backend runs the model. A GPU that fails mid-reply has already handed
// the reply to the CPU (the engine reads the tokens so far again there): say so and go on.
async function engineStep() {
  const step = plain(await engine.step());
  gpuGivenUp(step.fallback);
  return step;
}

// The engine gave the GPU up (`fault`: why; nothing when it did not) and runs on the CPU.
function gpuGivenUp(fault) {
  if (!fault) return;
  backend = { backend: 'cpu', backendReason: fallbackReason(fault) };
  info = plain(engine.info());
  post({ type: 'backend', ...backend, info });
  post({ type: 'notice', message: fallbackNotice(fault) });
}

// History left the context and no summary covers it yet: the engine folds it into the rolling
// summary first (the job comes from crates/web/src/memory.rs), so this reply already has it.
// Returns the request with the new summary in it, or null when a stop came meanwhile.
async function summarise(id, request, job, seed, stopped) {
  const options = checkOptions({ max_tokens: job.max_tokens, temperature: 0.3, seed });
  // The summary's prompt is another conversation: the chat's cached turns are set aside
  // for it and taken back after, so the reply keeps them (shifted past the new summary).
  engine.set_aside();
  let text = '';
  try {
    engine.start(engine.render_chat([{ role: 'user', content: String(job.prompt) }]), options);
    for (;;) {
      await yieldToEvents();
      if (stopped()) return null;
      const step = await engineStep();
      if (step.prefill_left !== undefined && step.prefill_left !== null) continue;
      if (step.piece) text += step.piece;
      if (step.done) break;
    }
  } finally {
    engine.take_back();
  }
  // A base model often writes the instruction back instead of a summary: the job's
  // extractive fallback (the span's first sentences) is kept then, never the echo.
  text = cleanSummary(wasmModule.summary_answer(cleanSummary(text), String(job.fallback ?? '')));
  const memory = { ...request.memory, summarise: false };
  if (text) {
    post({ type: 'summary', id, text, from_id: job.from_id, to_id: job.to_id, message_ids: job.message_ids });
    memory.summary = { text, to_id: job.to_id };
  }
  return { ...request, memory };
}

// The character editor's token count: the request assembled as for a reply, counted with the
// model's tokenizer. Should the engine be mid-step, Rust estimates instead, and `exact` says so.
function count(msg) {
  const id = msg.id;
  if (!engine) return post({ type: 'count', id, tokens: null, message: 'The model is not loaded yet.' });
  try {
    let exact = true;
    const counter = (text) => {
      try {
        return engine.count_tokens(text);
      } catch {
        exact = false;
        return undefined;
      }
    };
    const reply = JSON.parse(wasmModule.assemble_prompt(JSON.stringify(msg.request ?? {}), counter));
    post({ type: 'count', id, tokens: reply.tokens, exact });
  } catch (err) {
    post({ type: 'count', id, tokens: null, message: errorText(err) });
  }
}

// Turn discipline (crates/characters/src/reply.rs): the reply ends where another speaker's
// turn begins, a reply cut at the limit drops its half-sentence, control tokens never show.
function finishReply(text, reason, speakers, continues) {
  return wasmModule.finish_reply(text, String(reason ?? 'eos'), JSON.stringify(speakers ?? {}), Boolean(continues));
}

// serde-wasm-bindgen turns Rust maps into JS Maps; the page only deals in plain objects.
function plain(value) {
  return value instanceof Map ? Object.fromEntries(value) : value;
}

function errorText(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}

// A SharedWorker has no messages of its own (its pages' ports have): its host calls handle().
if (!('onconnect' in self)) self.onmessage = (event) => handle(event.data);

export function handle(msg) {
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'load') load(msg);
  else if (msg.type === 'generate') generate(msg);
  else if (msg.type === 'complete') complete(msg);
  else if (msg.type === 'check') check(msg);
  else if (msg.type === 'studio') studio(msg);
  else if (msg.type === 'stop') stopRequested = true;
  else if (msg.type === 'warm') warm(msg);
  else if (msg.type === 'cancel') loadAbort?.abort();
  else if (msg.type === 'count') count(msg);
  else if (msg.type === 'check-file') checkFile(msg);
  else if (msg.type === 'check-adapter') checkAdapter(msg);
  else if (msg.type === 'hold') hold(msg.lock);
}

// Held for this worker's whole life: the browser lets it go when the worker ends however it
// ends (killed for memory, a crash, closed), which is how the page learns it is gone.
function hold(name) {
  if (typeof name !== 'string' || !navigator.locks) return;
  navigator.locks.request(name, () => {
    post({ type: 'held' });
    return new Promise(() => {});
  });
}
