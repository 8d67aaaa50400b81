// One engine worker for every <kindred-chat> on a page: the model is hundreds of megabytes,
// so two widgets must not load it twice. The worker is the app's own (js/worker.js), so the
// model it keeps in IndexedDB is shared with the app on the same site. Replies are written
// one at a time; a widget that asks while another is replying waits its turn.
import { EngineClient } from '../js/engine-client.js';
import { readSettings, resolveModel } from '../js/settings.js';
import { openDb } from '../js/db.js';
import { loadActiveModel } from '../js/active-model.js';

const SITE = new URL('../', import.meta.url).href;

class SharedEngine {
  constructor() {
    this.client = null;
    this.model = null;
    this.state = { phase: 'idle' };
    this.watchers = new Set();
    this.queue = [];
    this.current = null;
    this.warming = null;
  }

  // fn(state) hears every change of the loading state: {phase: 'loading', progress?} |
  // {phase: 'ready', info} | {phase: 'failed', message}, and notices ({notice}).
  watch(fn) {
    this.watchers.add(fn);
    fn(this.state);
    return () => this.watchers.delete(fn);
  }

  set(state) {
    this.state = state;
    for (const fn of this.watchers) fn(state);
  }

  // modelUrl: a same-origin address from the page, or null for the site's default model.
  // The first widget's choice holds for the page.
  async start(modelUrl = null) {
    if (this.client || this.state.phase === 'loading') return;
    this.set({ phase: 'loading' });
    try {
      this.model ??= (modelUrl ? null : await chosenModel()) || await resolveModel(modelSettings(modelUrl), SITE);
    } catch (err) {
      this.set({ phase: 'failed', message: err.message });
      return;
    }
    this.client = new EngineClient({
      progress: (msg) => this.set({ phase: 'loading', progress: msg }),
      notice: (msg) => { for (const fn of this.watchers) fn({ ...this.state, notice: msg.message }); },
      ready: (msg) => { this.set({ phase: 'ready', info: msg.info }); this.next(); },
      token: (msg) => this.route(msg, 'token'),
      done: (msg) => this.route(msg, 'done'),
      prompt: (msg) => this.route(msg, 'prompt'),
      summary: (msg) => this.route(msg, 'summary'),
      error: (msg) => this.onError(msg),
    // Widgets on several tabs share one engine where that costs no threads (engine-client.js).
    }, { shared: 'auto' });
    // The page's ?step_ms= hook, as the app's (js/settings.js): a fast model's reply seen streaming.
    this.client.load(this.model, { stepMs: readSettings().stepMs });
  }

  retry() {
    this.client?.terminate();
    this.client = null;
    this.fail('The engine was restarted.');
    return this.start();
  }

  // Queues a reply; handlers: {token(msg), done(msg), error(message), and optionally
  // prompt(msg) (what went into the prompt) and summary(msg) (a rolling summary written
  // first)}. Returns a job to stop.
  generate(request, options, handlers) {
    const job = { request, options, handlers, id: null };
    this.queue.push(job);
    this.next();
    return job;
  }

  // Reads a widget's prompt ahead of its visitor's message (worker.js "warm") when no reply
  // is in flight or waiting; the latest widget to ask wins. handlers.summary hears a rolling
  // summary the warm-up writes meanwhile.
  warm(request, options, handlers = {}) {
    if (this.current || this.queue.length || this.state.phase !== 'ready') return;
    this.warming = { id: this.client.warm(request, options), handlers };
  }

  stop(job) {
    if (job === this.current) {
      this.client?.stop();
    } else if (this.queue.includes(job)) {
      this.queue = this.queue.filter((j) => j !== job);
      job.handlers.done({ stop_reason: 'user', text: '' });
    }
  }

  next() {
    if (this.current || this.state.phase !== 'ready' || !this.queue.length) return;
    // A reply replaces the warm-up (the worker ends it); a summary that was still being
    // written then is written again before the reply.
    this.warming = null;
    this.current = this.queue.shift();
    this.current.id = this.client.generate(this.current.request, this.current.options);
  }

  route(msg, kind) {
    if (kind === 'summary' && this.warming && msg.id === this.warming.id) {
      this.warming.handlers.summary?.(msg);
      return;
    }
    const job = this.current;
    if (!job || msg.id !== job.id) return;
    if (kind === 'prompt' || kind === 'summary') {
      job.handlers[kind]?.(msg);
      return;
    }
    if (kind === 'done') {
      this.current = null;
      job.handlers.done(msg);
      this.next();
    } else {
      job.handlers.token(msg);
    }
  }

  onError(msg) {
    if (msg.scope === 'generate') {
      const job = this.current;
      if (!job || (msg.id !== undefined && msg.id !== job.id)) return;
      this.current = null;
      job.handlers.error(msg.message);
      this.next();
      return;
    }
    this.client?.terminate();
    this.client = null;
    this.fail(msg.message);
    this.set({ phase: 'failed', message: msg.message });
  }

  // Every reply in flight or waiting ends with the reason.
  fail(message) {
    const jobs = [this.current, ...this.queue].filter(Boolean);
    this.current = null;
    this.queue = [];
    for (const job of jobs) job.handlers.error(message);
  }
}

// The model picked in the app (under Models) on this site, so the widget runs what the
// visitor already has; none, or storage unavailable: the site's default.
async function chosenModel() {
  try {
    const db = await openDb();
    try { return await loadActiveModel(db, SITE); } finally { db.close(); }
  } catch {
    return null;
  }
}

// The same rule as the app's ?model= hook: only an address on this site.
function modelSettings(modelUrl) {
  if (!modelUrl) return { modelUrl: null };
  try {
    const url = new URL(modelUrl, document.baseURI);
    if (url.origin !== location.origin) return { invalid: 'The model must be on this site.' };
    return { modelUrl: url.href };
  } catch {
    return { invalid: 'The model address is not a valid URL.' };
  }
}

let shared = null;

export function sharedEngine() {
  shared ??= new SharedEngine();
  return shared;
}
