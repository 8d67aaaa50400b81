// Asks the engine, as a model file's first chunks arrive, whether it runs the file: an
// architecture or weight type it does not run is refused after the first chunk (which holds
// the header: metadata and tensor table), with the error the whole file would get, instead of
// after a download of gigabytes. The engine's wasm (`modPromise`) reads the header; nothing
// about models is decided here.

// feed(data) resolves once the chunk is looked at, to true once the header is all in and
// accepted; it rejects with the engine's reason when the file cannot run. `total`: the file's
// length in bytes, 0 when unknown.
export function headerCheck(modPromise, total) {
  let parts = [];
  let decided = false;
  return async function feed(data) {
    if (decided) return true;
    parts.push(new Uint8Array(data));
    // An engine that failed to start is reported where the load awaits it.
    const mod = await modPromise.catch(() => null);
    // Chunks arrive while the engine starts: an earlier one's call may have decided meanwhile.
    if (decided) return true;
    if (typeof mod?.checkModelHeader !== 'function') {
      decided = true;
      return true;
    }
    const head = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      head.set(p, at);
      at += p.length;
    }
    // Throws the engine's reason; null while the header is not all in yet.
    const shape = mod.checkModelHeader(head, total || 0);
    if (shape !== null && shape !== undefined) {
      decided = true;
      parts = [];
    }
    return decided;
  };
}

const SLICE = 8 << 20;

// A file picked from disk, checked on the page's own thread before the model in use is let
// go: one the engine cannot run is refused with its reason and the chat keeps its model. The
// engine refuses a header that has not ended within its limit, which ends the loop there.
export async function checkFileHeader(modPromise, file) {
  const feed = headerCheck(modPromise, file.size);
  for (let at = 0; at < file.size; at += SLICE) {
    if (await feed(await file.slice(at, at + SLICE).arrayBuffer())) return;
  }
}
