// Kindred's engine for other pages on this site, with an OpenAI-style chat API:
//
//   import { createEngine } from '/kindred.js';
//   const engine = await createEngine({ onProgress: (p) => console.log(p.phase, p.loaded, p.total) });
//   const reply = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi!' }] });
//   for await (const chunk of await engine.chat.completions.create({ messages, stream: true })) { ... }
//
// The model loads in the app's own worker (js/worker.js), so a model the visitor already keeps
// in IndexedDB for the app or the widget on this site is not downloaded again. Requests are
// answered one at a time, in order. Types and the whole contract: kindred.d.ts beside this
// file. Every failure is a KindredError with a `code` (see CODES), never a hang.
import { EngineClient } from './js/engine-client.js';
import { presetsFromManifest } from './js/model-choice.js';
import { readSettings, resolveModel } from './js/settings.js';
import { Characters } from './js/api-characters.js';

const SITE = new URL('./', import.meta.url);
const ROLES = ['system', 'user', 'assistant'];

export const CODES = Object.freeze([
  'model_not_found', 'unsupported_model', 'context_length_exceeded', 'invalid_request', 'aborted',
  'character_not_found', 'engine_error',
]);

export class KindredError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'KindredError';
    this.code = code;
  }
}

const invalid = (message) => new KindredError('invalid_request', message);

// The engine's own messages, sorted by what a caller can do about them.
function engineError(message) {
  if (/context holds/.test(message)) return new KindredError('context_length_exceeded', message);
  if (/^(invalid option|messages:)|response schema/.test(message)) return new KindredError('invalid_request', message);
  return new KindredError('engine_error', message);
}

function loadError(msg) {
  if (msg.refused) return new KindredError('unsupported_model', msg.message);
  if (/\(HTTP 404\)/.test(msg.message)) return new KindredError('model_not_found', msg.message);
  return new KindredError('engine_error', msg.message);
}

// `model`: none (the site's default), a manifest id, or the address of a GGUF file on this site.
async function findModel(model) {
  try {
    if (model === undefined || model === null) return await resolveModel({ modelUrl: null }, SITE.href);
  } catch (err) {
    throw new KindredError('model_not_found', err.message);
  }
  if (typeof model !== 'string' || !model.trim()) throw invalid('`model` must be a manifest id or a .gguf address.');
  if (model.includes('/') || /\.gguf$/i.test(model)) {
    const url = new URL(model, location.href);
    if (url.origin !== SITE.origin) throw invalid('The model must be on this site.');
    return resolveModel({ modelUrl: url.href }, SITE.href);
  }
  const manifestUrl = new URL('models/manifest.json', SITE);
  let manifest;
  try {
    const response = await fetch(manifestUrl, { cache: 'no-cache' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    manifest = await response.json();
  } catch (err) {
    throw new KindredError('model_not_found', `The model list could not be read (${err.message}).`);
  }
  const preset = presetsFromManifest(manifest, manifestUrl.href).find((p) => p.id === model);
  if (!preset) throw new KindredError('model_not_found', `No model "${model}" in this site's list (models/manifest.json).`);
  return preset;
}

// OpenAI's content is a string or a list of parts; the text parts are what a chat model reads.
function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.every((p) => p && p.type === 'text' && typeof p.text === 'string')) {
    return content.map((p) => p.text).join('');
  }
  return null;
}

function checkMessages(messages) {
  if (!Array.isArray(messages) || !messages.length) throw invalid('`messages` must be a non-empty list.');
  return messages.map((m, i) => {
    if (!m || !ROLES.includes(m.role)) throw invalid(`messages[${i}].role must be one of ${ROLES.join(', ')}.`);
    const content = contentText(m.content);
    if (content === null) throw invalid(`messages[${i}].content must be text.`);
    return { role: m.role, content };
  });
}

// The request's settings as the worker takes them; the engine holds each to its range.
function options(req) {
  const out = {};
  for (const key of ['temperature', 'top_p', 'seed']) if (req[key] !== undefined && req[key] !== null) out[key] = req[key];
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max !== undefined && max !== null) out.max_tokens = max;
  if (req.stop !== undefined && req.stop !== null) out.stop = Array.isArray(req.stop) ? req.stop : [req.stop];
  if (req.response_format !== undefined && req.response_format !== null) out.response_format = req.response_format;
  return out;
}

const finishReason = (stop) => (stop === 'max_tokens' || stop === 'context_full' ? 'length' : 'stop');

let serial = 0;

// What every chunk and completion of one reply carries.
const replyBase = (model) => ({ id: `chatcmpl-${Date.now().toString(36)}${(serial++).toString(36)}`, created: Math.floor(Date.now() / 1000), model });

const usage = (stats) => ({
  prompt_tokens: stats?.n_prompt ?? 0, completion_tokens: stats?.n_generated ?? 0,
  total_tokens: (stats?.n_prompt ?? 0) + (stats?.n_generated ?? 0),
});

// A reply's chunks, OpenAI-shaped, pushed into a ChunkStream: `token(text)` with the text so
// far (the engine never takes back what it showed, so each new part is the tail), `end(msg,
// extra)` with the worker's "done" and fields for the last chunk.
function chunker(model, stream, includeUsage) {
  const base = replyBase(model);
  const chunk = (delta, finish = null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });
  let shown = '';
  stream.push(chunk({ role: 'assistant', content: '' }));
  return {
    token(text) {
      const delta = text.slice(shown.length);
      shown = text;
      if (delta) stream.push(chunk({ content: delta }));
    },
    end(msg, extra = {}) {
      const rest = (msg.text || '').slice(shown.length);
      if (rest && (msg.text || '').startsWith(shown)) stream.push(chunk({ content: rest }));
      stream.push({ ...chunk({}, finishReason(msg.stop_reason)), ...extra });
      if (includeUsage) stream.push({ ...base, object: 'chat.completion.chunk', choices: [], usage: usage(msg.stats) });
      stream.end();
    },
  };
}

class Engine {
  constructor() {
    this.client = null;
    this.model = null;
    this.ready = null;
    this.queue = [];
    this.current = null;
    this.closed = null;
    this.chat = { completions: { create: (req, opts) => this.create(req, opts) } };
    this.characters = new Characters(this, SITE.href, (code, message) => new KindredError(code, message));
  }

  // shared: true, false or 'auto' (see createEngine and EngineClient).
  async load(model, backend, onProgress, shared) {
    this.model = await findModel(model);
    await new Promise((resolve, reject) => {
      const ours = (msg) => this.current && msg.id === this.current.id;
      this.client = new EngineClient({
        progress: (msg) => onProgress?.({ phase: msg.phase, loaded: msg.loaded, total: msg.total }),
        ready: (msg) => { this.ready = msg; resolve(); },
        token: (msg) => ours(msg) && this.current.token(msg),
        prompt: (msg) => ours(msg) && this.current.prompt?.(msg),
        summary: (msg) => ours(msg) && this.current.summary?.(msg),
        done: (msg) => ours(msg) && this.finished(msg),
        error: (msg) => {
          if (msg.scope === 'complete' || msg.scope === 'generate') return this.failed(msg);
          // A load that fails, or a worker that ends: nothing more can be answered.
          const err = this.ready ? new KindredError('engine_error', msg.message) : loadError(msg);
          this.close(err);
          reject(err);
        },
      }, { shared });
      // The page's ?step_ms= hook, as the app's and the widget's (js/settings.js): each reply
      // token takes at least that long, so a test can watch a reply being written.
      this.client.load(this.model, { backend, stepMs: readSettings().stepMs });
    });
  }

  info() {
    const r = this.ready;
    return {
      model: this.model.id, name: this.model.name, backend: r.backend === 'webgpu' ? 'gpu' : 'cpu',
      threads: r.cpu?.threads ?? 1, context: r.info.context_length, architecture: r.info.architecture,
      // The engine this site's pages share: how many use it, and how many models it has loaded.
      shared: r.shared ?? null,
    };
  }

  unload() {
    this.close(new KindredError('aborted', 'The engine was unloaded.'));
  }

  close(err) {
    this.closed ??= err;
    this.client?.terminate();
    this.client = null;
    const jobs = [this.current, ...this.queue].filter(Boolean);
    this.current = null;
    this.queue = [];
    for (const job of jobs) job.fail(err);
  }

  create(req, { signal } = {}) {
    let messages;
    try {
      if (!req || typeof req !== 'object') throw invalid('The request must be an object.');
      if (req.n !== undefined && req.n !== 1) throw invalid('Only one choice (n: 1) is written.');
      messages = checkMessages(req.messages);
    } catch (err) {
      return Promise.reject(err);
    }
    const opts = options(req);
    const start = (job) => { job.id = this.client.complete(messages, opts); };
    if (!req.stream) {
      return new Promise((resolve, reject) => {
        const base = replyBase(this.model.id);
        this.enqueue({
          start, token: () => {}, fail: reject,
          finish: (msg) => resolve({
            ...base, object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: msg.text }, finish_reason: finishReason(msg.stop_reason) }],
            usage: usage(msg.stats),
          }),
        }, signal);
      });
    }
    const job = { start };
    const stream = new ChunkStream(() => this.cancel(job, null));
    const chunks = chunker(this.model.id, stream, req.stream_options?.include_usage);
    Object.assign(job, { token: (msg) => chunks.token(msg.text), finish: (msg) => chunks.end(msg), fail: (err) => stream.fail(err) });
    this.enqueue(job, signal);
    return Promise.resolve(stream);
  }

  // The engine a chat's ChatController drives (api-characters.js): its replies go through
  // this queue (runChat), and it never reads ahead.
  chatEngine() {
    return {
      generate: (request, opts, chatId) => this.client.generate(request, opts, chatId),
      warm: () => null,
      stop: () => this.client?.stop(),
    };
  }

  // A chat action that starts a reply (`act(controller)` true when it did), run when the queue
  // reaches it. Resolves to the stored reply, or with `stream`, to its chunks (the last one
  // with `message`, the reply as stored: checked and trimmed as the app stores it).
  runChat(chat, act, stream, signal) {
    const c = chat.controller;
    const job = {
      start: () => {
        chat.notice = '';
        if (!act(c) || !c.reply) throw new KindredError('invalid_request', chat.notice || 'The reply could not start.');
        job.id = c.reply.genId;
        job.target = c.reply.target;
      },
      token: (msg) => c.onToken(msg),
      prompt: (msg) => c.onPrompt(msg),
      summary: (msg) => c.onSummary(msg),
    };
    const stored = (msg) => ({ message: chat.message(job.target), finish_reason: finishReason(msg.stop_reason), usage: usage(msg.stats) });
    if (!stream) {
      return new Promise((resolve, reject) => {
        job.finish = async (msg) => { await c.onDone(msg); resolve(stored(msg)); };
        job.fail = (err) => { if (job.id) c.onError({ scope: 'generate', id: job.id, message: err.message }); reject(err); };
        this.enqueue(job, signal);
      });
    }
    const out = new ChunkStream(() => this.cancel(job, null));
    const chunks = chunker(this.model.id, out, false);
    job.token = (msg) => { c.onToken(msg); chunks.token(msg.text); };
    job.finish = async (msg) => { await c.onDone(msg); chunks.end(msg, { message: stored(msg).message }); };
    job.fail = (err) => { if (job.id) c.onError({ scope: 'generate', id: job.id, message: err.message }); out.fail(err); };
    this.enqueue(job, signal);
    return Promise.resolve(out);
  }

  enqueue(job, signal) {
    if (this.closed) return job.fail(this.closed);
    if (signal?.aborted) return job.fail(new KindredError('aborted', 'The request was aborted.'));
    signal?.addEventListener('abort', () => this.cancel(job, new KindredError('aborted', 'The request was aborted.')), { once: true });
    this.queue.push(job);
    this.next();
  }

  next() {
    if (this.current || !this.queue.length || !this.client) return;
    const job = this.queue.shift();
    this.current = job;
    try {
      job.start(job);
    } catch (err) {
      this.current = null;
      job.fail(err);
      this.next();
    }
  }

  // A request given up (an abort, a stream left): a queued one is dropped, the one being
  // written is stopped (a chat's still stores what was written, as the app's Stop);
  // `err` (none for a stream the caller left) goes to its caller.
  cancel(job, err) {
    if (this.queue.includes(job)) this.queue = this.queue.filter((j) => j !== job);
    else if (this.current === job) this.client?.stop();
    else return;
    if (err) job.fail(err);
  }

  // The reply is done; the next request starts once its job has finished with it (a chat's
  // reply is stored first).
  finished(msg) {
    const job = this.current;
    Promise.resolve(job.finish(msg)).catch(() => {}).finally(() => {
      if (this.current === job) this.current = null;
      this.next();
    });
  }

  failed(msg) {
    const job = this.current;
    if (!job || (msg.id !== undefined && msg.id !== job.id)) return;
    this.current = null;
    job.fail(engineError(msg.message));
    this.next();
  }
}

// The chunks of one streamed completion, as an async iterable; leaving the loop early (break,
// return, throw) calls `leave`, which stops the reply.
class ChunkStream {
  constructor(leave) {
    this.items = [];
    this.waiting = null;
    this.ended = false;
    this.error = null;
    this.leave = leave;
  }

  push(item) {
    if (this.ended) return;
    this.items.push(item);
    this.wake();
  }

  end() {
    this.ended = true;
    this.wake();
  }

  fail(err) {
    this.error = err;
    this.ended = true;
    this.wake();
  }

  wake() {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  [Symbol.asyncIterator]() {
    return {
      next: async () => {
        for (;;) {
          if (this.items.length) return { value: this.items.shift(), done: false };
          if (this.error) throw this.error;
          if (this.ended) return { value: undefined, done: true };
          await new Promise((resolve) => { this.waiting = resolve; });
        }
      },
      return: async () => {
        if (!this.ended) this.leave();
        this.ended = true;
        this.items = [];
        this.wake();
        return { value: undefined, done: true };
      },
    };
  }
}

// Loads a model and resolves to an engine once it can answer. options: {model, backend:
// 'auto' | 'gpu' | 'cpu', onProgress({phase, loaded, total}), shared}. shared: true, the pages
// of this site share one engine (one copy of the model in memory) through a SharedWorker;
// false, this page runs its own; 'auto' (the default), shared unless the shared engine would
// run fewer threads than this page's own could (Chromium does not isolate SharedWorkers, so
// there it runs one). Without SharedWorker, always its own.
export async function createEngine({ model, backend = 'auto', onProgress, shared = 'auto' } = {}) {
  if (!['auto', 'gpu', 'cpu'].includes(backend)) throw invalid('`backend` must be "auto", "gpu" or "cpu".');
  if (![true, false, 'auto'].includes(shared)) throw invalid('`shared` must be true, false or "auto".');
  const engine = new Engine();
  await engine.load(model, backend, onProgress, shared);
  return engine;
}
