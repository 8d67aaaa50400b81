// What the device keeps for models: the stored copies with their sizes, the site's storage
// use against its quota, and whether the browser keeps that storage when space runs low.

// [{id, name, url, bytes, sha256, kind, complete, savedAt}] from the "models" store, newest
// first; a complete row is a choice the engine can load (it reads the stored copy).
export async function listStoredModels(db) {
  const rows = await db.getAll('models');
  return rows
    .filter((r) => r && typeof r.id === 'string')
    .map((r) => ({
      id: r.id,
      name: typeof r.name === 'string' && r.name ? r.name : nameFromUrl(r.url) || r.id,
      url: typeof r.url === 'string' ? r.url : '',
      bytes: r.complete === true && Number.isSafeInteger(r.bytes) ? r.bytes : 0,
      sha256: typeof r.sha256 === 'string' ? r.sha256 : null,
      kind: typeof r.kind === 'string' ? r.kind : '',
      complete: r.complete === true,
      savedAt: Number(r.savedAt) || 0,
    }))
    .sort((a, b) => b.savedAt - a.savedAt);
}

function nameFromUrl(url) {
  if (typeof url !== 'string') return '';
  return url.split(/[/:]/).filter(Boolean).pop() || '';
}

export async function storageEstimate(storage = globalThis.navigator?.storage) {
  if (!storage?.estimate) return null;
  const { usage, quota } = await storage.estimate();
  return { usage: Number(usage) || 0, quota: Number(quota) || 0 };
}

// 'granted' | 'not-granted' | 'unsupported'
export async function persistState(storage = globalThis.navigator?.storage) {
  if (!storage?.persisted) return 'unsupported';
  return (await storage.persisted()) ? 'granted' : 'not-granted';
}

export async function requestPersist(storage = globalThis.navigator?.storage) {
  if (!storage?.persist) return 'unsupported';
  return (await storage.persist()) ? 'granted' : 'not-granted';
}
