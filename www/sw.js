// The offline copy of the site. After one visit the page, its modules, the engine's wasm,
// the starter characters and the manifests open without a network; the model itself is not
// kept here but in IndexedDB (by the engine worker), so this cache stays a few megabytes.
//
// Network first, cache as the fallback: the site has no build step that could tell a
// cache-first worker which files changed, and a page whose JS came from one build and whose
// wasm came from another would break. So online visits always get the newest build, and the
// cache is refreshed with every answer. VERSION names the cache's layout: raising it (or
// shipping any change to this file) installs a new worker, which fills a fresh cache and
// deletes the old ones.
//
// Never stored: other hosts' files (a model may be fetched from one), model weights
// (.gguf), anything requested with cache: 'no-store' (the worker's model download), ranges.
//
// The engine comes in three builds of ~6 MB each (js/engine-build.js); the page's own thread
// loads a small build without it (pkg-ui/). The first crawl keeps pkg-ui/ and the
// single-thread engine (pkg/, the fallback of every page); of the two threaded ones a browser
// uses at most one, which the page names once its engine has started (a 'keep-build'
// message, js/offline.js), and only that one is fetched and kept.
const VERSION = 3;
const PREFIX = 'kindred-site-';
const CACHE = `${PREFIX}v${VERSION}`;

// Where the crawl starts; everything they refer to on this site is followed from here.
const ROOTS = [
  './', 'index.html', 'manifest.webmanifest', 'models/manifest.json', 'characters/index.json',
  'img/fallback-avatar.svg', 'embed/kindred-widget.js', 'embed/kindred-chat.js', 'embed/demo.html',
];
const MAX_FILES = 400;
const THREADED_BUILDS = ['pkg-mt-relaxed/', 'pkg-mt/'];
// A slow network must not hold the page hostage when a copy is at hand.
const NETWORK_WAIT_MS = 4000;

const scope = new URL(self.registration.scope);

function cacheable(url) {
  return url.origin === scope.origin && url.href.startsWith(scope.href) && !url.pathname.endsWith('.gguf');
}

// The addresses a file refers to: imports, worker and wasm URLs and other quoted file names
// in modules; src/href in HTML; url() in CSS; icons and the starter index in JSON.
function references(text, type, url) {
  const found = [];
  const add = (raw) => {
    if (!raw || /^(data|blob|javascript|mailto):/i.test(raw)) return;
    try { found.push(new URL(raw, url)); } catch { /* not an address */ }
  };
  if (type.includes('html')) {
    for (const m of text.matchAll(/\s(?:src|href)="([^"#]+)"/g)) add(m[1]);
  } else if (type.includes('css')) {
    for (const m of text.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)) add(m[1]);
  } else if (type.includes('javascript')) {
    for (const m of text.matchAll(/['"]((?:\.{1,2}\/)?[\w./-]+\.(?:m?js|wasm|css|json|svg|png|html|webmanifest))['"]/g)) add(m[1]);
  } else if (type.includes('json')) {
    let data = null;
    try { data = JSON.parse(text); } catch { return found; }
    for (const icon of Array.isArray(data?.icons) ? data.icons : []) add(icon?.src);
    for (const c of Array.isArray(data?.characters) ? data.characters : []) {
      if (typeof c?.file === 'string') add(c.file);
      if (typeof c?.avatar === 'string') add(c.avatar);
    }
  }
  return found;
}

// The threaded build a URL belongs to ('pkg-mt/' ...), or null.
function threadedBuild(url) {
  return THREADED_BUILDS.find((dir) => url.href.startsWith(new URL(dir, scope).href)) ?? null;
}

// Fetches the roots and everything they refer to into `cache`, leaving out the threaded
// engine builds but `build`. A file that fails is skipped: the page still works online, and
// the next visit's answers fill the gap. With `reuse`, a file already kept is not fetched again
// (its references are still followed).
async function crawl(cache, roots, { build = null, reuse = false } = {}) {
  const seen = new Set();
  const queue = roots.map((r) => new URL(r, scope));
  while (queue.length && seen.size < MAX_FILES) {
    const url = queue.shift();
    url.hash = '';
    if (seen.has(url.href) || !cacheable(url)) continue;
    const owner = threadedBuild(url);
    if (owner && owner !== build) continue;
    seen.add(url.href);
    const kept = reuse ? await cache.match(url) : undefined;
    if (kept) {
      const type = kept.headers.get('content-type') || '';
      if (/html|css|javascript|json/.test(type)) queue.push(...references(await kept.text(), type, url));
      continue;
    }
    let response;
    try {
      response = await fetch(url, { cache: 'no-cache' });
    } catch {
      continue;
    }
    if (!response.ok) continue;
    const type = response.headers.get('content-type') || '';
    const text = /html|css|javascript|json/.test(type) ? await response.clone().text() : null;
    try {
      await cache.put(url, response);
    } catch {
      return; // out of storage: the page works online all the same
    }
    if (text !== null) queue.push(...references(text, type, url));
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    await crawl(await caches.open(CACHE), ROOTS);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// The page names the threaded build its engine runs; it is kept from then on.
self.addEventListener('message', (event) => {
  const dir = event.data?.type === 'keep-build' ? event.data.dir : null;
  if (!THREADED_BUILDS.includes(dir)) return;
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await crawl(cache, [`${dir}kindred_web.js`], { build: dir, reuse: true });
  })());
});

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(request)) ||
    (request.mode === 'navigate' ? await cache.match(new URL('./', scope)) : undefined) ||
    cache.match(request, { ignoreSearch: true });
}

async function networkFirst(event) {
  const { request } = event;
  const network = fetch(request).then((response) => {
    if (response.ok && response.type === 'basic') {
      const copy = response.clone();
      const saved = caches.open(CACHE).then((cache) => cache.put(request, copy)).catch(() => {});
      // Once a cached copy has answered, the event may be over; the write goes on anyway.
      try { event.waitUntil(saved); } catch { /* event finished */ }
    }
    return response;
  });
  network.catch(() => {}); // a failure is handled below, whichever answer is used
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(resolve, NETWORK_WAIT_MS); });
  try {
    const first = await Promise.race([network, slow]);
    if (first) return first;
    return (await fromCache(request)) || await network;
  } catch (err) {
    const cached = await fromCache(request);
    if (cached) return cached;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || request.cache === 'no-store' || request.headers.has('range')) return;
  if (!cacheable(new URL(request.url))) return;
  event.respondWith(networkFirst(event));
});
