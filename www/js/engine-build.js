// Which build of the engine this worker runs, chosen once at load:
//   ../pkg-mt-relaxed/  shared memory, a pool of Web Workers and relaxed SIMD's integer dot products
//                       (Q4_K, Q5_0, Q6_K kernels), when the page is cross-origin isolated (COOP/COEP
//                       headers, as `kindred serve` sends), the browser can share memory and it
//                       validates relaxed SIMD;
//   ../pkg-mt/          the same with plain simd128, where relaxed SIMD is missing (or ?simd=base);
//   ../pkg/             one thread, everywhere else (or when neither threaded build starts).
// `threads` asks for a pool size (the ?threads=N address hook); by default one thread a core, at
// most MAX_THREADS: mat-vecs stop scaling there and every pool thread holds its own stack.
// The relaxed and simd128 kernels give bit-identical results, so the choice changes speed only.

const MAX_THREADS = 8;

// The smallest module using a relaxed SIMD op: one function (v128, v128) -> v128 whose body is
// `local.get 0; local.get 1; i16x8.relaxed_dot_i8x16_i7x16_s` (0xfd, then 0x112 as LEB128: 0x92 0x02),
// the op the kernels lean on. A browser without relaxed SIMD fails to validate it.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7b, 0x7b, 0x01, 0x7b, // types: (v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x0a, 0x0b, 0x01, 0x09, 0x00, // code: one body of 9 bytes, no locals
  0x20, 0x00, 0x20, 0x01, // local.get 0, local.get 1
  0xfd, 0x92, 0x02, // i16x8.relaxed_dot_i8x16_i7x16_s
  0x0b, // end
]);

let chosen = null;

export function threadTarget(requested, cores = globalThis.navigator?.hardwareConcurrency) {
  const wanted = Number.isInteger(requested) && requested >= 1 ? requested : (Number.isInteger(cores) && cores >= 1 ? cores : 1);
  return Math.max(1, Math.min(wanted, MAX_THREADS));
}

// Whether this engine validates relaxed SIMD (the `wasm` argument is for tests).
export function hasRelaxedSimd(wasm = globalThis.WebAssembly) {
  try {
    return Boolean(wasm?.validate(RELAXED_SIMD_PROBE));
  } catch {
    return false;
  }
}

async function single(reason) {
  const mod = await import('../pkg/kindred_web.js');
  await mod.default();
  return { mod, threads: 1, build: 'single', reason };
}

// The import paths stay literal so that a bundler or a crawler of the site can find the builds.
async function threaded(count, relaxed, why) {
  const mod = relaxed ? await import('../pkg-mt-relaxed/kindred_web.js') : await import('../pkg-mt/kindred_web.js');
  await mod.default();
  await mod.initThreadPool(count);
  return {
    mod,
    threads: mod.engineThreads(),
    build: relaxed ? 'threads-relaxed' : 'threads',
    reason: `${count} threads over shared memory; ${why}`,
  };
}

// simd: "base" (the ?simd=base hook) keeps to plain simd128 even where relaxed SIMD is there.
async function choose(requested, simd) {
  const count = threadTarget(requested);
  if (!self.crossOriginIsolated || typeof SharedArrayBuffer !== 'function') {
    return single('one thread: the page is not cross-origin isolated, so memory cannot be shared between threads');
  }
  if (count === 1) return single(requested === 1 ? 'one thread, as asked' : 'one thread: this device reports one core');
  let failed = '';
  if (simd !== 'base' && hasRelaxedSimd()) {
    try {
      return await threaded(count, true, 'relaxed SIMD, which this browser has');
    } catch (err) {
      failed = ` (the relaxed SIMD build did not start: ${err?.message || err})`;
    }
  }
  const why = failed ? `simd128${failed}`
    : simd === 'base' ? 'simd128, as asked' : 'simd128: this browser has no relaxed SIMD';
  try {
    return await threaded(count, false, why);
  } catch (err) {
    return single(`one thread: the threaded engine did not start (${err?.message || err})${failed}`);
  }
}

// The module and what was chosen; later calls get the same answer (a pool starts once per worker).
export function engineBuild(requested = null, simd = null) {
  chosen ??= choose(requested, simd);
  return chosen;
}
