// The Rust card functions on the page's own thread (the engine worker has its own copy of
// the module): import, export and checking of cards and lorebooks. Loaded once, on demand.
let loading = null;

export function cardTools() {
  loading ??= import('../pkg/kindred_web.js').then(async (mod) => {
    await mod.default();
    return mod;
  });
  return loading;
}

export function errorText(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}
