// The bench's worker: the model from IndexedDB where the app stored it (timing that read), else
// fetched from this site; then the engine's own measurements (crates/web/src/bench.rs, or
// bench_gpu.rs with ?backend=gpu).
import { engineBuild } from '../js/engine-build.js';
import { openDb } from '../js/db.js';
import { readModel } from '../js/model-store.js';
import { readSettings, resolveModel } from '../js/settings.js';

const post = (msg) => self.postMessage(msg);

async function modelBytes(opts) {
  const settings = readSettings(opts.page);
  // The manifest lives at the site's root, beside the app's page.
  const meta = await resolveModel(settings, new URL('../', opts.page).href);
  const t = performance.now();
  try {
    const db = await openDb();
    const bytes = await readModel(db, meta.id, meta, () => {});
    db.close();
    if (bytes) return { bytes, source: 'indexeddb', seconds: (performance.now() - t) / 1000, name: meta.name };
  } catch { /* no storage: fetch below */ }
  const response = await fetch(meta.url);
  if (!response.ok) throw new Error(`${meta.url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { bytes, source: 'network', seconds: (performance.now() - t) / 1000, name: meta.name };
}

self.onmessage = async ({ data: opts }) => {
  try {
    post({ type: 'progress', text: 'Reading the model…' });
    const model = await modelBytes(opts);
    post({ type: 'progress', text: 'Starting the engine…' });
    const build = await engineBuild(opts.threads, opts.simd);
    const settings = JSON.stringify({ prompt_tokens: opts.prompts, decode_tokens: opts.decode, second_turn_tokens: 24 });
    const now = () => performance.now();
    let figures;
    if (opts.backend === 'gpu') {
      if (!navigator.gpu) throw new Error('This browser offers no WebGPU.');
      post({ type: 'progress', text: 'Measuring on WebGPU…' });
      figures = JSON.parse(await build.mod.benchGpu(model.bytes, settings, now));
    } else {
      post({ type: 'progress', text: `Measuring on ${build.threads} thread(s)…` });
      figures = JSON.parse(build.mod.benchCpu(model.bytes, settings, now));
    }
    post({
      type: 'result',
      report: {
        model: model.name,
        model_bytes: model.bytes.length,
        model_source: model.source,
        read_seconds: Math.round(model.seconds * 1000) / 1000,
        build: build.build,
        build_reason: build.reason,
        user_agent: navigator.userAgent,
        hardware_concurrency: navigator.hardwareConcurrency,
        ...figures,
      },
    });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
