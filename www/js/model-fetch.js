// Streams a model file from the network into memory, handing each completed chunk to a
// callback (which stores it) as soon as it is full, so storage keeps pace with the download.
import { CHUNK_SIZE } from './model-store.js';
import { formatBytes } from './format.js';

// wasm32 addresses 4 GiB; the engine needs room beside the weights.
export const MAX_MODEL_BYTES = 3 * 1024 * 1024 * 1024;

const MAX_PENDING = 3;

export class ModelError extends Error {}

// A download cut short (a lost connection, a closed tab) keeps its full chunks; the next try
// asks for the rest with a Range request. `part`: {parts: [ArrayBuffer of CHUNK_SIZE],
// validator} from model-store.js's storedPart, or null. The server's answer decides: a 206 for
// the same file (same length, same ETag or Last-Modified where it tells them) continues after
// the stored chunks; anything else starts over. `onStart({resumedAt, validator})` is awaited
// before the first chunk is handed on, so the caller can replace the stored part when it
// starts over. signal: an AbortSignal that cancels the download.
export async function downloadModel(url, { expectedBytes = 0, onProgress, onChunk, onStart = async () => {}, signal, part = null }) {
  let response = part?.parts.length ? await request(url, signal, part.parts.length * CHUNK_SIZE) : null;
  const resumed = response ? continues(response, part, expectedBytes) : null;
  if (response && !resumed) {
    await response.body?.cancel().catch(() => {});
    response = null;
  }
  response ||= await request(url, signal, 0);
  if (!response.ok || !response.body) {
    throw new ModelError(`The model could not be downloaded (HTTP ${response.status}).`);
  }
  const header = Number(response.headers.get('content-length'));
  const total = resumed ? resumed.total
    : expectedBytes > 0 ? expectedBytes : (Number.isFinite(header) && header > 0 ? header : 0);
  if (total > MAX_MODEL_BYTES) {
    throw new ModelError(`The model is too large for this page (${total} bytes).`);
  }
  // With a known size the bytes land straight in their final buffer; otherwise chunks are
  // collected and joined at the end.
  const whole = total > 0 ? new Uint8Array(total) : null;
  const parts = [];
  let current = new Uint8Array(CHUNK_SIZE);
  let filled = 0;
  let loaded = 0;
  let index = 0;
  if (resumed) {
    for (const data of part.parts) {
      whole.set(new Uint8Array(data), loaded);
      loaded += data.byteLength;
    }
    index = part.parts.length;
  }
  await onStart({ resumedAt: loaded, validator: validatorOf(response) });

  // Up to MAX_PENDING chunk writes run while the next bytes arrive; onChunk never rejects.
  const pending = new Set();
  const flush = async () => {
    if (filled === 0) return;
    const data = current.slice(0, filled).buffer;
    if (!whole) parts.push(new Uint8Array(data));
    const write = onChunk(index, data);
    pending.add(write);
    write.finally(() => pending.delete(write));
    index += 1;
    filled = 0;
    if (pending.size >= MAX_PENDING) await Promise.race(pending);
  };

  const reader = response.body.getReader();
  for (;;) {
    let value;
    let done;
    try {
      ({ value, done } = await reader.read());
    } catch (err) {
      if (signal?.aborted) throw err;
      await Promise.all(pending);
      throw interrupted(loaded, total);
    }
    if (done) break;
    if (loaded + value.length > (total || MAX_MODEL_BYTES)) {
      await reader.cancel();
      throw new ModelError(total
        ? `The model file is larger than expected (over ${total} bytes).`
        : 'The model file is too large for this page.');
    }
    if (whole) whole.set(value, loaded);
    loaded += value.length;
    let taken = 0;
    while (taken < value.length) {
      const n = Math.min(CHUNK_SIZE - filled, value.length - taken);
      current.set(value.subarray(taken, taken + n), filled);
      filled += n;
      taken += n;
      if (filled === CHUNK_SIZE) await flush();
    }
    onProgress(loaded, total);
  }
  if (total && loaded !== total) {
    // The last, partial chunk is not stored: the next try asks for the rest after the full ones.
    await Promise.all(pending);
    throw interrupted(loaded, total);
  }
  await flush();
  await Promise.all(pending);
  onProgress(loaded, total || loaded);
  return { bytes: whole || join(parts, loaded), chunks: index, resumedAt: resumed ? part.parts.length * CHUNK_SIZE : 0 };
}

async function request(url, signal, from) {
  try {
    return await fetch(url, { cache: 'no-store', signal, headers: from ? { Range: `bytes=${from}-` } : {} });
  } catch (err) {
    if (signal?.aborted) throw err;
    const failed = new ModelError(`The model could not be downloaded: ${err.message}`);
    failed.keepsPart = true; // offline for now: what was saved stays for the next try
    throw failed;
  }
}

// {total} when a range response continues the stored part of the same file, else null.
function continues(response, part, expectedBytes) {
  if (response.status !== 206) return null;
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') || '');
  if (!range) return null;
  const [start, end, total] = range.slice(1).map(Number);
  if (start !== part.parts.length * CHUNK_SIZE || end !== total - 1 || start >= total) return null;
  if (expectedBytes > 0 && total !== expectedBytes) return null;
  const now = validatorOf(response);
  if (now && part.validator && now !== part.validator) return null;
  return { total };
}

// What tells one version of a file from the next, where the server says (a strong ETag, else
// Last-Modified); null when it does not.
function validatorOf(response) {
  const etag = response.headers.get('etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return response.headers.get('last-modified') || null;
}

function interrupted(loaded, total) {
  const err = new ModelError(`The download was interrupted (${formatBytes(loaded)} of ${total ? formatBytes(total) : 'the file'}). ` +
    'Try again continues from what was saved.');
  err.keepsPart = true;
  return err;
}

function join(parts, length) {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
