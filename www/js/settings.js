// Settings read from the page's address, mainly as hooks for tests and for trying models:
//   ?model=PATH       load this same-origin URL as the model instead of the manifest's default
//   ?max_tokens=N     cap replies at N tokens (1..1024), over the saved setting
//   ?seed=N           fixed sampling seed (default: random per reply)

export function readSettings(href = location.href) {
  const url = new URL(href);
  const params = url.searchParams;
  const settings = { modelUrl: null, maxTokens: null, seed: null };
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
  return settings;
}

// The model to load: the ?model= override, else the manifest's default entry.
export async function resolveModel(settings, base = location.href) {
  if (settings.invalid) throw new Error(settings.invalid);
  if (settings.modelUrl) {
    const path = new URL(settings.modelUrl).pathname;
    return { id: `url:${path}`, url: settings.modelUrl, name: path.split('/').pop() || path, bytes: 0, sha256: null };
  }
  const manifestUrl = new URL('models/manifest.json', base);
  const response = await fetch(manifestUrl, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`The model list could not be loaded (HTTP ${response.status}).`);
  const manifest = await response.json();
  const models = Array.isArray(manifest?.models) ? manifest.models : [];
  const entry = models.find((m) => m && m.id === manifest.default) || models[0];
  if (!entry || typeof entry.file !== 'string') throw new Error('The model list names no model.');
  const url = new URL(entry.file, manifestUrl);
  if (url.origin !== manifestUrl.origin) throw new Error('The model list points to another site.');
  return {
    id: String(entry.id),
    url: url.href,
    name: typeof entry.name === 'string' ? entry.name : String(entry.id),
    bytes: Number.isSafeInteger(entry.bytes) ? entry.bytes : 0,
    sha256: typeof entry.sha256 === 'string' ? entry.sha256 : null,
  };
}
