// Settings read from the page's address, mainly as hooks for tests and for trying models:
//   ?model=PATH       load this same-origin URL as the model instead of the manifest's default
//   ?max_tokens=N     cap replies at N tokens (1..1024), over the saved setting
//   ?seed=N           fixed sampling seed (default: random per reply)
//   ?backend=B        run the model on "gpu" (WebGPU), "cpu" or "auto", over the saved setting
//   ?gpu_lose_after=N test hook: destroy the GPU device before step N of each reply (0..1024;
//                     prompt chunks count, 0 is before the first)
//   ?threads=N        CPU engine threads (1..64; 1 runs the single-threaded build; default: one a core)
//   ?simd=base        the threaded engine with plain simd128 even where relaxed SIMD is there (engine-build.js)
//   ?step_ms=N        each token of a reply takes at least N ms (1..1000): to watch a fast model's
//                     reply stream, or to stop one midway in a test

export function readSettings(href = location.href) {
  const url = new URL(href);
  const params = url.searchParams;
  const settings = { modelUrl: null, maxTokens: null, seed: null, backend: null, loseGpuAfter: null, threads: null };
  const model = params.get('model');
  if (model) {
    try {
      const target = new URL(model, url);
      // Only the page's own origin: a crafted link must not make the page fetch elsewhere.
      if (target.origin === url.origin) settings.modelUrl = target.href;
      else settings.invalid = 'The ?model= address must be on this site.';
    } catch {
      settings.invalid = 'The ?model= address is not a valid URL.';
    }
  }
  const maxTokens = Number(params.get('max_tokens'));
  if (params.has('max_tokens') && Number.isInteger(maxTokens) && maxTokens >= 1 && maxTokens <= 1024) {
    settings.maxTokens = maxTokens;
  }
  const seed = Number(params.get('seed'));
  if (params.has('seed') && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff) settings.seed = seed;
  const backend = params.get('backend');
  if (backend === 'auto' || backend === 'gpu' || backend === 'cpu') settings.backend = backend;
  const loseAfter = Number(params.get('gpu_lose_after'));
  if (params.has('gpu_lose_after') && Number.isInteger(loseAfter) && loseAfter >= 0 && loseAfter <= 1024) {
    settings.loseGpuAfter = loseAfter;
  }
  const threads = Number(params.get('threads'));
  if (params.has('threads') && Number.isInteger(threads) && threads >= 1 && threads <= 64) settings.threads = threads;
  if (params.get('simd') === 'base') settings.simd = 'base';
  const stepMs = Number(params.get('step_ms'));
  if (params.has('step_ms') && Number.isInteger(stepMs) && stepMs >= 1 && stepMs <= 1000) settings.stepMs = stepMs;
  // ?warm=0: no reading ahead while the person types (cold first-token figures, tests).
  if (params.get('warm') === '0') settings.warm = false;
  return settings;
}

// The model to load: the ?model= override, else the manifest's default entry.
export async function resolveModel(settings, base = location.href) {
  if (settings.invalid) throw new Error(settings.invalid);
  const manifestUrl = new URL('models/manifest.json', base);
  if (settings.modelUrl) {
    // A file the manifest lists keeps its id and checksum, so an address that names the
    // default model (a widget's model="…") reuses the copy the app stored, verified as ever.
    const listed = await manifestEntries(manifestUrl).catch(() => []);
    const known = listed.find((m) => m.url === settings.modelUrl);
    if (known) return known;
    const path = new URL(settings.modelUrl).pathname;
    return { id: `url:${path}`, url: settings.modelUrl, name: path.split('/').pop() || path, bytes: 0, sha256: null };
  }
  const manifest = await fetchManifest(manifestUrl);
  const models = Array.isArray(manifest?.models) ? manifest.models : [];
  const entry = models.find((m) => m && m.id === manifest.default) || models[0];
  if (!entry || typeof entry.file !== 'string') throw new Error('The model list names no model.');
  const record = modelRecord(entry, manifestUrl);
  if (new URL(record.url).origin !== manifestUrl.origin) throw new Error('The model list points to another site.');
  return record;
}

async function fetchManifest(manifestUrl) {
  const response = await fetch(manifestUrl, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`The model list could not be loaded (HTTP ${response.status}).`);
  return response.json();
}

// The manifest's files on this site, as model records.
async function manifestEntries(manifestUrl) {
  const manifest = await fetchManifest(manifestUrl);
  const models = Array.isArray(manifest?.models) ? manifest.models : [];
  return models
    .filter((m) => m && typeof m.file === 'string')
    .map((m) => modelRecord(m, manifestUrl))
    .filter((r) => new URL(r.url).origin === manifestUrl.origin);
}

function modelRecord(entry, manifestUrl) {
  return {
    id: String(entry.id),
    url: new URL(entry.file, manifestUrl).href,
    name: typeof entry.name === 'string' ? entry.name : String(entry.id),
    bytes: Number.isSafeInteger(entry.bytes) ? entry.bytes : 0,
    sha256: typeof entry.sha256 === 'string' ? entry.sha256 : null,
  };
}
