// The bench page: runs the engine's figures in a Web Worker (as the app does) and shows them as JSON.
// scripts/bench-browser.mjs drives it headless and prints the same JSON.
const $ = (id) => document.getElementById(id);

function options(href) {
  const params = new URL(href).searchParams;
  const int = (name) => (params.has(name) && /^\d+$/.test(params.get(name)) ? Number(params.get(name)) : null);
  const prompts = (params.get('prompts') || '128,1024').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= 4096);
  const backend = params.get('backend') === 'gpu' ? 'gpu' : 'cpu';
  const simd = params.get('simd') === 'base' ? 'base' : null;
  return { threads: int('threads'), prompts, decode: int('decode') ?? 128, model: params.get('model'), backend, simd, page: href };
}

function run() {
  $('run').disabled = true;
  document.body.dataset.state = 'running';
  $('status').textContent = 'Running… (a minute or more)';
  $('result').textContent = '';
  const worker = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module', name: 'bench' });
  worker.onmessage = ({ data }) => {
    if (data.type === 'progress') {
      $('status').textContent = data.text;
      return;
    }
    worker.terminate();
    $('run').disabled = false;
    if (data.type === 'result') {
      $('status').textContent = 'Done.';
      $('result').textContent = JSON.stringify(data.report, null, 2);
      document.body.dataset.state = 'done';
    } else {
      $('status').textContent = `The benchmark failed: ${data.message}`;
      document.body.dataset.state = 'failed';
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    $('status').textContent = `The benchmark failed: ${event.message || 'worker error'}`;
    document.body.dataset.state = 'failed';
  };
  worker.postMessage(options(location.href));
}

$('run').addEventListener('click', run);
if (new URL(location.href).searchParams.has('auto')) run();
