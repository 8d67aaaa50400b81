// The engine the pages of this site share (a SharedWorker, started by kindred.js): one model in
// memory however many tabs use it. Each page talks to it through its own port in worker.js's
// protocol, and this routes between the ports and the one engine (worker.js, imported):
// - the model is loaded once: a page that asks for the loaded model gets "ready" at once, one
//   that asks while it loads gets the load's progress; a page that wants another model is told
//   so (`other`), and runs its own engine instead;
// - replies are written one at a time, in the order asked; each page asks for its next only
//   once its last is done (kindred.js queues its own), so no page waits behind another's
//   queue;
// - a page's "stop" stops its own reply only (one still waiting is dropped, answered "done");
// - it says at once whether it can run the threaded engine (`host`), so a page that can
//   run more threads on its own does (kindred.js's shared: 'auto');
// - the app keeps a worker of its own: reading ahead, token counts and the quality check are
//   one page's business (a "warm" sent here, as a widget's, is let go);
// - a page that goes away (closed or reloaded: the Web Lock it holds for its life is released)
//   has its reply stopped and its waiting one dropped; with no page left, this ends, and the
//   model's memory with it.
import { handle, attach } from './worker.js';

const pages = new Set();
let ready = null; // {key, msg}: the loaded model and its "ready" message
let loading = null; // {key, ports}: the load in flight and the pages waiting for it
let loads = 0;
const queue = []; // {port, msg}: replies asked for, not started
let current = null; // {port, localId}: the reply being written (port null: its page left)
let serial = 0;

const modelKey = (msg) => `${msg.modelId}|${msg.url}|${msg.sha256 ?? ''}|${msg.bytes ?? ''}`;
const shared = () => ({ pages: pages.size, loads });

attach((msg) => {
  if (msg.type === 'progress' || (msg.type === 'notice' && loading)) {
    for (const port of loading?.ports ?? []) port.postMessage(msg);
  } else if (msg.type === 'ready') {
    ready = { key: loading.key, msg };
    for (const port of loading.ports) port.postMessage({ ...msg, shared: shared() });
    loading = null;
  } else if (msg.type === 'error' && msg.scope === 'load') {
    const to = loading ? loading.ports : pages;
    loading = null;
    for (const port of to) port.postMessage(msg);
  } else if (msg.type === 'notice' || msg.type === 'backend') {
    for (const port of pages) port.postMessage(msg);
  } else if (current && msg.id === current.id) {
    current.port?.postMessage({ ...msg, id: current.localId });
    if (msg.type === 'done' || msg.type === 'error') {
      current = null;
      // The engine posts a reply's last message once it is free for the next.
      next();
    }
  }
});

function next() {
  if (current || !ready || !queue.length) return;
  const { port, msg } = queue.shift();
  current = { port, localId: msg.id, id: ++serial };
  handle({ ...msg, id: current.id });
}

function fromPage(port, msg) {
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'hold') {
    // The page's alarm: held while this host lives, so the page hears if it dies.
    navigator.locks?.request(msg.lock, () => {
      port.postMessage({ type: 'held' });
      return new Promise(() => {});
    });
  } else if (msg.type === 'page' && typeof msg.lock === 'string') {
    // Granted once the page lets its lock go: it is gone.
    navigator.locks?.request(msg.lock, () => leave(port));
  } else if (msg.type === 'load') {
    load(port, msg);
  } else if (msg.type === 'complete' || msg.type === 'generate') {
    queue.push({ port, msg });
    next();
  } else if (msg.type === 'stop') {
    stop(port);
  } else if (msg.type === 'bye') {
    leave(port);
  } else if (msg.type !== 'cancel' && msg.type !== 'warm') {
    // Reading ahead and a download's cancel are one page's business; the rest is not shared.
    port.postMessage({ type: 'error', scope: 'generate', id: msg.id, message: `The shared engine does not take "${msg.type}".` });
  }
}

function load(port, msg) {
  const key = modelKey(msg);
  if (ready?.key === key) {
    port.postMessage({ ...ready.msg, shared: shared() });
  } else if (loading?.key === key) {
    loading.ports.add(port);
  } else if (ready || loading) {
    port.postMessage({ type: 'error', scope: 'load', other: true, message: 'The engine this site\'s pages share runs another model.' });
  } else {
    loading = { key, ports: new Set([port]) };
    loads += 1;
    handle(msg);
  }
}

// The page's own reply stops; one of its replies still waiting is dropped.
function stop(port) {
  if (current?.port === port) {
    handle({ type: 'stop' });
    return;
  }
  for (let i = queue.length - 1; i >= 0; i--) {
    if (queue[i].port !== port) continue;
    const [{ msg }] = queue.splice(i, 1);
    port.postMessage({ type: 'done', id: msg.id, stop_reason: 'user', text: '', stats: null });
  }
}

function leave(port) {
  if (!pages.delete(port)) return;
  for (let i = queue.length - 1; i >= 0; i--) if (queue[i].port === port) queue.splice(i, 1);
  if (current?.port === port) {
    current.port = null;
    handle({ type: 'stop' });
  }
  loading?.ports.delete(port);
  port.close();
  if (!pages.size) self.close();
}

self.onconnect = (event) => {
  const port = event.ports[0];
  pages.add(port);
  port.onmessage = (e) => fromPage(port, e.data);
  // Whether this host may share memory between threads: a page that may, where this may not
  // (Chromium does not isolate SharedWorkers), runs faster on its own.
  port.postMessage({ type: 'host', isolated: self.crossOriginIsolated === true, loaded: Boolean(ready) });
};
