// Registers the service worker (../sw.js) that keeps the site's own files for offline
// visits, and says so when the connection goes. A browser without service workers, or one
// that refuses (private modes, file: pages), simply runs online as before.
const OFFLINE_NOTE = 'You are offline. Kindred keeps working from this device.';

export async function registerOffline(notify = () => {}) {
  window.addEventListener('offline', () => notify(OFFLINE_NOTE));
  if (navigator.onLine === false) notify(OFFLINE_NOTE);
  if (!('serviceWorker' in navigator)) return null;
  try {
    // updateViaCache 'none': a new build's sw.js is seen on the next visit, whatever the
    // host's caching headers say about it.
    return await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), {
      scope: new URL('../', import.meta.url).pathname,
      updateViaCache: 'none',
    });
  } catch (err) {
    console.warn(`Offline use is unavailable: ${err.message ?? err}`);
    return null;
  }
}

// The threaded engine build the page's worker runs ("threads-relaxed" or "threads", from its
// ready message), named to the service worker, which keeps only that one of the two (~6 MB
// each) for offline visits. A worker that takes over later (a new version of the site) hears
// it again.
const THREADED_DIRS = { 'threads-relaxed': 'pkg-mt-relaxed/', threads: 'pkg-mt/' };
let keptBuild = null;

export async function keepEngineBuild(build) {
  const dir = THREADED_DIRS[build];
  if (!dir || !('serviceWorker' in navigator)) return;
  const tell = (worker) => worker?.postMessage({ type: 'keep-build', dir: keptBuild });
  try {
    if (keptBuild === null) {
      navigator.serviceWorker.addEventListener('controllerchange', () => tell(navigator.serviceWorker.controller));
    }
    keptBuild = dir;
    tell((await navigator.serviceWorker.ready).active);
  } catch {
    // Service workers refused here (an opaque origin): nothing is kept offline anyway.
  }
}
