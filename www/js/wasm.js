// The Rust side of the page's own thread: cards and lorebooks (import, export, checks),
// profiles, rooms, memory, safety and the IndexedDB store. Its build (pkg-ui/) leaves the
// engine out, which only the worker loads (engine-build.js). Loaded once, on demand.
let loading = null;

export function rustTools() {
  loading ??= import('../pkg-ui/kindred_web.js').then(async (mod) => {
    await mod.default();
    return mod;
  });
  return loading;
}

export function errorText(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}
