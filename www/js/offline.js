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
