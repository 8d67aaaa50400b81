// Which messages of a long chat to put in the page: items have different heights, known once
// measured and estimated until then; the range covers the visible part plus a margin, and
// the space of everything else is kept as padding so the scrollbar tells the truth.

export class ListWindow {
  constructor(estimate = 120) {
    this.estimate = estimate;
    this.heights = new Map();
    this.keys = [];
    this.tops = null;
  }

  setKeys(keys) {
    this.keys = keys;
    this.tops = null;
  }

  get length() {
    return this.keys.length;
  }

  // Returns whether the height changed.
  measure(key, height) {
    if (!(height > 0) || this.heights.get(key) === height) return false;
    this.heights.set(key, height);
    this.tops = null;
    return true;
  }

  // Every height is estimated again (the width changed, so text wraps anew).
  forgetAll() {
    this.heights.clear();
    this.tops = null;
  }

  forget(key) {
    if (this.heights.delete(key)) this.tops = null;
  }

  // The average of the measured heights stands in for the others.
  guess() {
    if (!this.heights.size) return this.estimate;
    let sum = 0;
    for (const h of this.heights.values()) sum += h;
    return sum / this.heights.size;
  }

  // tops[i]: where item i starts; tops[length]: the whole height.
  offsets() {
    if (this.tops) return this.tops;
    const guess = this.guess();
    const tops = new Float64Array(this.keys.length + 1);
    for (let i = 0; i < this.keys.length; i++) tops[i + 1] = tops[i] + (this.heights.get(this.keys[i]) ?? guess);
    this.tops = tops;
    return tops;
  }

  top(i) {
    const tops = this.offsets();
    return tops[Math.max(0, Math.min(i, this.keys.length))];
  }

  total() {
    return this.top(this.keys.length);
  }

  // The item at a vertical position (the last one for positions past the end).
  indexAt(y) {
    const tops = this.offsets();
    let lo = 0;
    let hi = this.keys.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (tops[mid] <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // [start, end) covering viewTop..viewBottom widened by `margin` pixels each way.
  range(viewTop, viewBottom, margin) {
    const n = this.keys.length;
    if (!n) return [0, 0];
    const start = this.indexAt(viewTop - margin);
    const end = Math.min(n, this.indexAt(viewBottom + margin) + 1);
    return [start, Math.max(end, start + 1)];
  }

  // The range ending with the last item, tall enough to fill `height` plus the margin.
  tail(height, margin) {
    const n = this.keys.length;
    const bottom = this.total();
    return [this.indexAt(Math.max(0, bottom - height - margin)), n];
  }
}
