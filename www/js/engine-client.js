// The page's side of the worker protocol (documented at the top of worker.js).

export class EngineClient {
  // shared: true, talk to the engine the site's pages share (shared-host.js, a SharedWorker);
  // false, to a worker of this page's own; 'auto', the shared one unless it would run fewer
  // threads than this page's own (it says at once whether it is cross-origin isolated).
  // Either way, a shared engine that runs another model hands this page its own worker.
  constructor(handlers, { shared = false } = {}) {
    this.handlers = handlers;
    this.nextId = 1;
    this.fileChecks = new Map(); // id -> {resolve, reject} of checkFile and checkAdapter
    this.loadMsg = null;
    this.watchId = 0;
    if (shared && typeof SharedWorker === 'function') {
      const host = new SharedWorker(new URL('./shared-host.js', import.meta.url), { type: 'module', name: 'kindred-engine' });
      host.onerror = (event) => this.failed(event);
      this.listen(host.port);
      this.shared = true;
      // Until the host says what it runs, what the page sends waits ('auto' may go elsewhere).
      this.pending = shared === 'auto' ? [] : null;
      this.tellLife();
    } else {
      this.ownWorker();
    }
    this.watch();
  }

  // A worker that fails to start (or throws outside a handler) must not leave the page waiting.
  failed(event) {
    event.preventDefault?.();
    this.dispatch({ type: 'error', scope: 'load', message: `The engine stopped unexpectedly: ${event.message || 'worker error'}` });
  }

  listen(port) {
    this.worker = port;
    port.onmessage = (event) => this.dispatch(event.data);
    port.onmessageerror = () => this.handlers.error?.({ scope: 'generate', message: 'A message from the engine could not be read.' });
  }

  ownWorker() {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'engine' });
    worker.onerror = (event) => this.failed(event);
    this.listen(worker);
    this.shared = false;
    this.pending = null;
  }

  send(msg) {
    if (this.pending) this.pending.push(msg);
    else this.worker.postMessage(msg);
  }

  // Leaves the shared engine for a worker of this page's own, sending it `resend`.
  leaveShared(resend) {
    this.worker.postMessage({ type: 'bye' });
    this.worker.close();
    this.letGo?.();
    this.ownWorker();
    this.watch();
    for (const msg of resend) if (msg.type !== 'hold' && msg.type !== 'page') this.worker.postMessage(msg);
  }

  // The shared engine learns this page is gone when the lock it holds for its life is let go.
  tellLife() {
    if (!globalThis.navigator?.locks || !globalThis.crypto?.randomUUID) return;
    const lock = `kindred-page-${crypto.randomUUID()}`;
    const port = this.worker;
    // Told once held: asked earlier, the host's request could be granted first, and this
    // page taken for gone.
    navigator.locks.request(lock, () => {
      port.postMessage({ type: 'page', lock });
      return new Promise((resolve) => { this.letGo = resolve; });
    });
  }

  // A worker that ends without a word (killed for memory, crashed, closed) fires no event: the
  // Web Lock it holds for its life is released then, and waiting for that lock is the alarm.
  watch() {
    if (!globalThis.navigator?.locks || !globalThis.crypto?.randomUUID) return;
    const lock = `kindred-engine-${crypto.randomUUID()}`;
    const id = ++this.watchId;
    this.held = () => {
      this.held = null;
      navigator.locks.request(lock, () => {
        // A worker this page has left (a shared one) may end as it likes.
        if (this.ended || id !== this.watchId) return;
        this.ended = true;
        this.dispatch({ type: 'error', scope: 'load', lost: true,
          message: 'The engine stopped unexpectedly (its worker ended, perhaps for lack of memory).' });
      });
    };
    this.send({ type: 'hold', lock });
  }

  dispatch(msg) {
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'host') {
      // Only 'auto' waits for this: a page that may share memory, where the host may not, runs
      // more threads on its own.
      const waiting = this.pending;
      this.pending = null;
      if (waiting && !msg.isolated && globalThis.crossOriginIsolated) return this.leaveShared(waiting);
      for (const m of waiting ?? []) this.worker.postMessage(m);
      return;
    }
    if (msg.type === 'error' && msg.other && this.shared) {
      // The shared engine runs another model: this page's own runs this one.
      this.leaveShared(this.loadMsg ? [this.loadMsg] : []);
      return;
    }
    if (msg.type === 'held') {
      this.held?.();
      return;
    }
    if (msg.type === 'file-checked' || msg.type === 'adapter-checked') {
      const waiting = this.fileChecks.get(msg.id);
      this.fileChecks.delete(msg.id);
      if (msg.ok) waiting?.resolve(msg);
      else waiting?.reject(new Error(msg.message));
      return;
    }
    this.handlers[msg.type]?.(msg);
    // Views beside the chat (the Models page) follow the load too.
    this.handlers.any?.(msg);
  }

  // backend: {backend: 'auto' | 'gpu' | 'cpu', backendSource, loseGpuAfter, threads, simd, stepMs} (see worker.js).
  load(model, backend = {}) {
    this.loadMsg = {
      type: 'load', url: model.url, modelId: model.id, sha256: model.sha256, bytes: model.bytes,
      name: model.name, kind: model.kind, file: model.file,
      backend: backend.backend, backendSource: backend.backendSource, loseGpuAfter: backend.loseGpuAfter,
      threads: backend.threads, simd: backend.simd, stepMs: backend.stepMs,
    };
    this.send(this.loadMsg);
  }

  // Abandons the download (or file read) in progress; the worker answers with a cancelled error.
  cancel() {
    this.send({ type: 'cancel' });
  }

  // request: the prompt request the worker assembles (see prompt.rs); options: sampling;
  // chat: the stored chat's id, whose prompt prefix the worker may restore and keep.
  generate(request, options, chat = null) {
    const id = this.nextId++;
    this.send({ type: 'generate', id, request, options, chat });
    return id;
  }

  // An OpenAI-style completion of `messages` ([{role, content}]) in the model's chat format
  // (kindred.js); tokens and the end come as for generate.
  complete(messages, options) {
    const id = this.nextId++;
    this.send({ type: 'complete', id, messages, options });
    return id;
  }

  // Reads the prompt a reply to `request` would start with while the person types (see
  // worker.js "warm"); request null ends a warm-up. Progress comes as "warm" messages.
  warm(request, options, chat = null) {
    const id = this.nextId++;
    this.send({ type: 'warm', id, request, options, chat });
    return id;
  }

  // Token counts of a prompt request, answered by a "count" message with the returned id.
  count(request) {
    const id = this.nextId++;
    this.send({ type: 'count', id, request });
    return id;
  }

  // The quality check of request.card (see worker.js "check"): progress and the scored run
  // come as "check-progress" and "check-done" messages with the returned id.
  check(request, options, model, limit = 0) {
    const id = this.nextId++;
    this.send({ type: 'check', id, request, options, model, limit });
    return id;
  }

  // The trait studio on request.card (see worker.js "studio"): progress and the result come as
  // "studio-progress" and "studio-done" messages with the returned id.
  studio(request, options, { traits, questions, candidates }) {
    const id = this.nextId++;
    this.send({ type: 'studio', id, request, options, traits, questions, candidates });
    return id;
  }

  stop() {
    this.send({ type: 'stop' });
  }

  // Whether the engine runs a file picked from disk, told from its header by the worker
  // (worker.js "check-file"): resolves, or rejects with the engine's reason.
  checkFile(file) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.fileChecks.set(id, { resolve, reject });
      this.send({ type: 'check-file', id, file });
    });
  }

  // Whether a picked file is a LoRA adapter of the loaded model (worker.js "check-adapter"):
  // resolves with {matrices}, or rejects with the engine's reason.
  checkAdapter(file) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.fileChecks.set(id, { resolve, reject });
      this.send({ type: 'check-adapter', id, file });
    });
  }

  terminate() {
    this.ended = true;
    if (this.shared) {
      this.worker.postMessage({ type: 'bye' });
      this.worker.close();
      this.letGo?.();
    } else {
      this.worker.terminate();
    }
    // A check the worker can no longer answer lets the file through to its own load.
    for (const { resolve } of this.fileChecks.values()) resolve();
    this.fileChecks.clear();
  }
}
