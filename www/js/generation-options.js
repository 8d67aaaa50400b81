// Sampling options and context fitting, checked in the worker because the messages it gets
// are only as trustworthy as the page that sent them.

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

// Drops the oldest turns (two at a time, so user/assistant alternation survives) until the
// rendered prompt leaves room for the reply. The system text and the latest turn stay.
export function fitToContext(engine, messages, contextLength, maxTokens, layout = undefined) {
  const list = Array.isArray(messages)
    ? messages.filter((m) => m && typeof m.content === 'string' &&
      (m.role === 'system' || m.role === 'user' || m.role === 'assistant'))
      .map((m) => (typeof m.name === 'string' ? { role: m.role, content: m.content, name: m.name }
        : { role: m.role, content: m.content }))
    : [];
  if (!Number.isFinite(contextLength) || contextLength <= 0) return list;
  const budget = contextLength - maxTokens;
  const first = list.length > 0 && list[0].role === 'system' ? 1 : 0;
  while (list.length - first > 2 && engine.count_tokens(engine.render_chat(list, layout)) > budget) {
    list.splice(first, 2);
  }
  return list;
}
