// Which build of the engine this worker runs, chosen once at load:
//   ../pkg-mt/  shared memory and a pool of Web Workers, when the page is cross-origin isolated
//               (COOP/COEP headers, as `kindred serve` sends) and the browser can share memory;
//   ../pkg/     one thread, everywhere else (or when the threaded build fails to start).
// `threads` asks for a pool size (the ?threads=N address hook); by default one thread a core, at
// most MAX_THREADS: mat-vecs stop scaling there and every pool thread holds its own stack.

const MAX_THREADS = 8;

let chosen = null;

export function threadTarget(requested, cores = globalThis.navigator?.hardwareConcurrency) {
  const wanted = Number.isInteger(requested) && requested >= 1 ? requested : (Number.isInteger(cores) && cores >= 1 ? cores : 1);
  return Math.max(1, Math.min(wanted, MAX_THREADS));
}

async function single(reason) {
  const mod = await import('../pkg/kindred_web.js');
  await mod.default();
  return { mod, threads: 1, build: 'single', reason };
}

async function threaded(count) {
  const mod = await import('../pkg-mt/kindred_web.js');
  await mod.default();
  await mod.initThreadPool(count);
  return { mod, threads: mod.engineThreads(), build: 'threads', reason: `${count} threads over shared memory` };
}

async function choose(requested) {
  const count = threadTarget(requested);
  if (!self.crossOriginIsolated || typeof SharedArrayBuffer !== 'function') {
    return single('one thread: the page is not cross-origin isolated, so memory cannot be shared between threads');
  }
  if (count === 1) return single(requested === 1 ? 'one thread, as asked' : 'one thread: this device reports one core');
  try {
    return await threaded(count);
  } catch (err) {
    return single(`one thread: the threaded engine did not start (${err?.message || err})`);
  }
}

// The module and what was chosen; later calls get the same answer (a pool starts once per worker).
export function engineBuild(requested = null) {
  chosen ??= choose(requested);
  return chosen;
}
