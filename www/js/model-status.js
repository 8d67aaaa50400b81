// The model panel: download / cache-read progress with bytes, percent, speed and time left,
// then where the model came from and which backend runs it, or a clear error.
import { formatBytes, formatPercent, formatDuration } from './format.js';

const PHASE_LABELS = {
  download: 'Downloading the model',
  cache: 'Loading the model from this device',
  file: 'Reading the model file',
  verify: 'Checking the download',
  init: 'Starting the engine',
};

// Prompt tokens to read ahead that take long enough to be worth a line (~1 s on a phone).
const LONG_READ = 128;

export class ModelStatus {
  constructor(root) {
    this.root = root;
    this.label = root.querySelector('#model-label');
    this.progress = root.querySelector('#model-progress');
    this.text = root.querySelector('#model-progress-text');
    this.rate = root.querySelector('#model-rate');
    this.info = root.querySelector('#model-info');
    this.notice = root.querySelector('#model-notice');
    this.error = root.querySelector('#model-error');
    this.errorText = root.querySelector('#model-error-text');
    this.warm = root.querySelector('#model-warm');
    this.samples = [];
    this.phase = null;
  }

  setState(state) {
    this.root.dataset.state = state;
    document.body.dataset.modelState = state;
  }

  start(modelName) {
    this.modelName = modelName;
    this.phase = null;
    delete this.root.dataset.phase;
    this.setState('loading');
    this.error.hidden = true;
    this.label.textContent = 'Preparing the model';
    this.progress.removeAttribute('value');
    this.text.textContent = modelName;
    this.rate.textContent = '';
  }

  update({ phase, loaded, total }) {
    if (phase !== this.phase) {
      this.phase = phase;
      this.samples = [];
      this.label.textContent = PHASE_LABELS[phase] || 'Loading';
      this.root.dataset.phase = phase;
    }
    if (phase === 'verify' || phase === 'init') {
      // These have no byte count worth showing: keep the finished bar and bytes as they were.
      this.rate.textContent = '';
      return;
    }
    if (total > 0) {
      this.progress.max = total;
      this.progress.value = Math.min(loaded, total);
      this.text.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} · ${formatPercent(loaded, total)}`;
    } else {
      this.progress.removeAttribute('value');
      this.text.textContent = formatBytes(loaded);
    }
    this.rate.textContent = this.rateText(loaded, total);
  }

  // Speed over the last few seconds, so a slow start does not skew the estimate for long.
  rateText(loaded, total) {
    const now = performance.now();
    this.samples.push({ t: now, loaded });
    while (this.samples.length > 2 && now - this.samples[0].t > 3000) this.samples.shift();
    const first = this.samples[0];
    const seconds = (now - first.t) / 1000;
    if (seconds < 0.2 || loaded <= first.loaded) return '';
    const speed = (loaded - first.loaded) / seconds;
    const parts = [`${formatBytes(speed)}/s`];
    if (total > loaded) parts.push(`${formatDuration((total - loaded) / speed)} left`);
    return parts.join(' · ');
  }

  // cpu: the worker's CPU build ({build, ...}, engine-build.js).
  ready(info, source, stored, cpu = null) {
    this.setState('ready');
    this.root.dataset.source = source;
    this.root.dataset.cpuBuild = cpu?.build || '';
    const from = { cache: 'Loaded from this device', file: 'Read from a file' }[source] || 'Downloaded';
    const kept = source !== 'cache' && stored ? ', saved for next time' : '';
    const relaxed = cpu?.build === 'threads-relaxed' ? ', relaxed SIMD' : '';
    const backend = `${info.backend || 'cpu'}${info.threads > 1 ? ` × ${info.threads} threads${relaxed}` : ''}`;
    this.info.textContent = `${this.modelName} · ${from}${kept} · backend: ${backend}`;
  }

  // The LoRA adapter on the model (a character trained elsewhere), in small print; none: hidden.
  showAdapter(name, scale) {
    this.root.dataset.adapter = name || '';
    let line = this.root.querySelector('.model-adapter');
    if (!line) {
      line = document.createElement('p');
      line.className = 'model-adapter';
      this.info.after(line);
    }
    line.hidden = !name;
    line.textContent = name ? `LoRA adapter: ${name}, strength ${scale}` : '';
  }

  // Which backend runs the model, and why, in small print under the model line.
  showBackend(backend, reason) {
    if (!backend) return;
    this.root.dataset.backend = backend;
    let line = this.root.querySelector('.model-backend');
    if (!line) {
      line = document.createElement('p');
      line.className = 'model-backend';
      this.info.after(line);
    }
    line.textContent = `${backend === 'webgpu' ? 'WebGPU' : 'CPU'}${reason ? ` · ${reason}` : ''}`;
    // The CPU's thread count says nothing about a model on the GPU.
    this.info.textContent = this.info.textContent.replace(backend === 'webgpu' ? /backend: .*$/ : /backend: [a-z]+/,
      `backend: ${backend}`);
  }

  // The open chat's prompt being read ahead of the person's message (name), or done (null).
  // Only a long read shows: the few tokens after each reply would only flicker.
  // restored: the tokens a stored prefix gave, or {refused}; the last restore is kept on the
  // line for tests and benches (a read-ahead that found its prompt cached restores nothing).
  // read: a read-ahead just finished (counted on the body, for benches and tests).
  // read: a finished read-ahead's {read, shifted} (tokens it read; tokens it kept past turns
  // left out to fit the context), which tests read; null while reading or idle.
  warming(name, tokens = 0, restored = undefined, read = null) {
    document.body.dataset.warm = name ? 'reading' : 'idle';
    if (read) {
      document.body.dataset.warmReads = String((Number(document.body.dataset.warmReads) || 0) + 1);
      Object.assign(this.warm.dataset, { read: String(read.read), shifted: String(read.shifted) });
    }
    if (restored?.refused) this.warm.dataset.restored = 'refused';
    else if (Number(restored) > 0) this.warm.dataset.restored = String(restored);
    const shown = Boolean(name) && tokens >= LONG_READ;
    this.warm.hidden = !shown;
    this.warm.textContent = shown ? `Preparing ${name}…` : '';
  }

  showNotice(message) {
    this.notice.textContent = message;
    this.notice.hidden = false;
  }

  fail(message) {
    this.setState('error');
    this.errorText.textContent = message;
    this.error.hidden = false;
  }
}
