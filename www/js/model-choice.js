// What a model choice is, wherever it comes from: a preset in models/manifest.json, an
// address the user typed, or a GGUF file from the user's disk. Pure functions, so the rules
// about which addresses the page may fetch are tested without a browser.
//
// A choice: {id, name, url, bytes, sha256, kind, approxBytes?, architecture?, quant?, licence?, page?}
//   kind: "preset" | "url" | "file". bytes is exact or 0 (unknown: the download's own length
//   is trusted); sha256 null means the file is not verified. A file's url is "local:<name>":
//   it names the stored copy and is never fetched.

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const MAX_NAME = 200;

export const LOCAL_PREFIX = 'local:';

export function isGguf(bytes) {
  return bytes instanceof Uint8Array && bytes.length >= 4 && GGUF_MAGIC.every((b, i) => bytes[i] === b);
}

// The page may fetch a model from its own origin or over https; nothing else (no http
// elsewhere, no data:, blob: or javascript:).
export function modelAddress(text, pageHref) {
  const raw = typeof text === 'string' ? text.trim() : '';
  if (!raw) throw new Error('Type the address of a GGUF file.');
  let url;
  try {
    url = new URL(raw, pageHref);
  } catch {
    throw new Error('That is not a valid address.');
  }
  const page = new URL(pageHref);
  const web = url.protocol === 'https:' || url.protocol === 'http:';
  if (!web || (url.origin !== page.origin && url.protocol !== 'https:')) {
    throw new Error('The address must start with https:// or be on this site.');
  }
  if (url.username || url.password) throw new Error('The address must not contain a user name or password.');
  url.hash = '';
  return url;
}

function fileName(url) {
  const last = decodeURIComponent(url.pathname.split('/').pop() || '') || url.hostname;
  return last.slice(0, MAX_NAME);
}

export function choiceFromAddress(text, pageHref) {
  const url = modelAddress(text, pageHref);
  return { id: `url:${url.href}`, name: fileName(url), url: url.href, bytes: 0, sha256: null, kind: 'url' };
}

export function choiceFromFile(file) {
  const name = String(file?.name || 'model.gguf').slice(0, MAX_NAME);
  const bytes = Number(file?.size) || 0;
  return {
    id: `file:${name}:${bytes}`, name, url: `${LOCAL_PREFIX}${name}`, bytes, sha256: null, kind: 'file',
  };
}

const positive = (n) => (Number.isSafeInteger(n) && n > 0 ? n : 0);
const str = (v, max = MAX_NAME) => (typeof v === 'string' ? v.slice(0, max) : '');

// The manifest's entries as choices: a "url" source is fetched from its https address, any
// other from the file beside the manifest on this site. Entries that break the rules are
// left out rather than trusted.
export function presetsFromManifest(manifest, manifestHref) {
  const models = Array.isArray(manifest?.models) ? manifest.models : [];
  const out = [];
  for (const entry of models) {
    if (!entry || typeof entry.id !== 'string' || !entry.id) continue;
    let url;
    try {
      url = entry.source?.kind === 'url'
        ? modelAddress(entry.source.url, manifestHref)
        : new URL(str(entry.file), manifestHref);
    } catch {
      continue;
    }
    if (entry.source?.kind !== 'url' && (!entry.file || url.origin !== new URL(manifestHref).origin)) continue;
    const sha256 = typeof entry.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(entry.sha256) ? entry.sha256 : null;
    let page = '';
    try { page = entry.source?.page ? modelAddress(entry.source.page, manifestHref).href : ''; } catch { /* left out */ }
    out.push({
      id: entry.id,
      name: str(entry.name) || entry.id,
      url: url.href,
      bytes: positive(entry.bytes),
      approxBytes: positive(entry.bytes) || positive(entry.approx_bytes),
      sha256,
      kind: 'preset',
      architecture: str(entry.architecture, 40),
      quant: str(entry.quant, 40),
      licence: str(entry.licence),
      page,
      bundled: entry.bundled === true,
      isDefault: entry.id === manifest.default,
      defaultReason: entry.id === manifest.default ? str(manifest.default_reason, 600) : '',
    });
  }
  return out;
}

// A choice read back from storage (or a backup): only the fields the engine needs, checked
// again, since what is stored is only as trustworthy as what wrote it.
export function checkChoice(raw, pageHref) {
  if (!raw || typeof raw !== 'object' || typeof raw.id !== 'string' || !raw.id) return null;
  const base = {
    id: raw.id.slice(0, 2000),
    name: str(raw.name) || raw.id.slice(0, MAX_NAME),
    bytes: positive(raw.bytes),
    sha256: typeof raw.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(raw.sha256) ? raw.sha256 : null,
    kind: ['preset', 'url', 'file'].includes(raw.kind) ? raw.kind : 'url',
  };
  if (base.kind === 'file') {
    return typeof raw.url === 'string' && raw.url.startsWith(LOCAL_PREFIX) ? { ...base, url: raw.url.slice(0, 2000) } : null;
  }
  try {
    return { ...base, url: modelAddress(raw.url, pageHref).href };
  } catch {
    return null;
  }
}

// How the worker's backend report reads: the CPU path today, or whatever a newer worker says
// (backend and backendReason on its message, adapter details in info).
export function backendText(msg) {
  const info = msg?.info && typeof msg.info === 'object' ? msg.info : {};
  const backend = String(msg?.backend ?? info.backend ?? '').trim();
  const threads = Number(msg?.threads ?? info.threads) || 1;
  const threadText = `${threads} thread${threads === 1 ? '' : 's'}`;
  let name;
  if (!backend || backend.toLowerCase() === 'cpu') name = `CPU (WebAssembly SIMD, ${threadText})`;
  else if (/^(gpu|webgpu)$/i.test(backend)) {
    const adapter = str(msg?.adapter?.name ?? msg?.adapter ?? info.adapter ?? '', 120);
    name = adapter ? `WebGPU (${adapter})` : 'WebGPU';
  } else name = backend.slice(0, 120);
  // On the CPU, also which engine build runs and why (threads need a cross-origin isolated page).
  const cpuReason = !backend || backend.toLowerCase() === 'cpu' ? str(msg?.cpu?.reason ?? '', 200) : '';
  const reason = [str(msg?.backendReason ?? '', 300), cpuReason].filter(Boolean).join('; ');
  return { name, reason };
}

// The engine's name for the chat format it found in the file, as a person reads it.
const TEMPLATES = {
  jinja: 'the file’s own chat template',
  gemma: 'Gemma turns',
  chatml: 'ChatML',
  llama3: 'Llama 3',
  transcript: 'plain transcript (the file names no chat format)',
};

// The prompt layout the chats use with this model (PromptStyle::Auto in Rust decides; this
// only names it).
export function layoutText(instruct) {
  return instruct
    ? 'role-play: the character as the system turn (an instruct model)'
    : 'transcript: Name: text lines (a base model without a chat template)';
}

export function templateText(name) {
  const key = String(name ?? '');
  return TEMPLATES[key] || key.slice(0, 60);
}
