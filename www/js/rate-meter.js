// Download speed over the last few seconds and the time left at that speed, so a slow start
// does not skew the estimate for long.
import { formatBytes, formatDuration } from './format.js';

export class RateMeter {
  constructor(windowMs = 3000, now = () => performance.now()) {
    this.windowMs = windowMs;
    this.now = now;
    this.samples = [];
  }

  reset() {
    this.samples = [];
  }

  // "12.3 MB/s · 20 s left", or '' until there is enough to go on.
  text(loaded, total) {
    const t = this.now();
    this.samples.push({ t, loaded });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const seconds = (t - first.t) / 1000;
    if (seconds < 0.2 || loaded <= first.loaded) return '';
    const speed = (loaded - first.loaded) / seconds;
    const parts = [`${formatBytes(speed)}/s`];
    if (total > loaded) parts.push(`${formatDuration((total - loaded) / speed)} left`);
    return parts.join(' · ');
  }
}
