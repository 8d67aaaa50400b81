#!/usr/bin/env node
// The browser bench: headless Chromium (as in the browser tests) opens the app once so the
// default model is stored in IndexedDB, then the bench page (www/bench/) at each thread count,
// printing one JSON line of figures per run. Figures only, never pass/fail.
//   node scripts/bench-browser.mjs [--threads 1,2] [--model /models/FILE.gguf] [--prompts 128,1024] [--decode 128]
//                                  [--backend cpu|gpu] [--simd base]
// --backend gpu measures the page's WebGPU backend (once; threads do not apply). Headless
// Chromium here has only SwiftShader, a software adapter, so its GPU figures say nothing of a
// real GPU: keep prompts short there (--prompts 8 --decode 4). Each line's `build` names the engine
// build that ran: on 2+ threads "threads-relaxed" where the browser has relaxed SIMD (Chromium
// does), else "threads"; --simd base runs the plain simd128 build ("threads") for comparison.
import { startServer, launchBrowser } from '../tests/browser/harness.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const threads = arg('threads', '1,2').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1);
const model = arg('model', null);
const prompts = arg('prompts', '128,1024');
const decode = arg('decode', '128');
const backend = arg('backend', 'cpu') === 'gpu' ? 'gpu' : 'cpu';
const simd = arg('simd', null) === 'base' ? 'base' : null;

const server = await startServer();
const browser = await launchBrowser();
try {
  const { page } = browser;
  const query = model ? `?model=${encodeURIComponent(model)}` : '';
  await page.goto(`${server.origin}/${query}`);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.modelState), null, { timeout: 600_000 });
  for (const n of backend === 'gpu' ? [1] : threads) {
    const params = new URLSearchParams({ auto: '1', threads: String(n), prompts, decode, backend });
    if (model) params.set('model', model);
    if (simd) params.set('simd', simd);
    await page.goto(`${server.origin}/bench/?${params}`);
    await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state), null, { timeout: 1_800_000 });
    if (await page.evaluate(() => document.body.dataset.state) === 'failed') {
      console.error(await page.locator('#status').textContent());
      process.exitCode = 1;
      continue;
    }
    const report = JSON.parse(await page.locator('#result').textContent());
    console.log(JSON.stringify(backend === 'gpu' ? report : { requested_threads: n, ...report }));
  }
} finally {
  await browser.close();
  await server.stop();
}
