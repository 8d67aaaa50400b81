// Sampling options, checked in the worker because the options it gets are only as
// trustworthy as the page that sent them.

export const DEFAULT_OPTIONS = Object.freeze({
  max_tokens: 120,
  temperature: 0.8,
  top_k: 40,
  top_p: 0.95,
  min_p: 0.05,
  repeat_penalty: 1.1,
});

const RANGES = {
  max_tokens: [1, 2048, true],
  temperature: [0, 5, false],
  top_k: [0, 1000, true],
  top_p: [0, 1, false],
  min_p: [0, 1, false],
  repeat_penalty: [0.5, 3, false],
  seed: [0, 0xffffffff, true],
};

export function sanitizeOptions(raw) {
  const src = raw && typeof raw === 'object' ? raw : {};
  const out = { ...DEFAULT_OPTIONS };
  for (const [key, [min, max, integer]] of Object.entries(RANGES)) {
    const v = Number(src[key]);
    if (src[key] === undefined || src[key] === null || !Number.isFinite(v)) continue;
    const clamped = Math.min(max, Math.max(min, v));
    out[key] = integer ? Math.round(clamped) : clamped;
  }
  const stop = Array.isArray(src.stop) ? src.stop : [];
  out.stop = stop.filter((s) => typeof s === 'string' && s.length > 0 && s.length <= 64).slice(0, 16);
  return out;
}
