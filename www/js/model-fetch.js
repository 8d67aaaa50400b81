// Streams a model file from the network into memory, handing each completed chunk to a
// callback (which stores it) as soon as it is full, so storage keeps pace with the download.
import { CHUNK_SIZE } from './model-store.js';

// wasm32 addresses 4 GiB; the engine needs room beside the weights.
export const MAX_MODEL_BYTES = 3 * 1024 * 1024 * 1024;

const MAX_PENDING = 3;

export class ModelError extends Error {}

// signal: an AbortSignal that cancels the download (the fetch and the stream both reject).
export async function downloadModel(url, expectedBytes, onProgress, onChunk, signal) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store', signal });
  } catch (err) {
    throw new ModelError(`The model could not be downloaded: ${err.message}`);
  }
  if (!response.ok || !response.body) {
    throw new ModelError(`The model could not be downloaded (HTTP ${response.status}).`);
  }
  const header = Number(response.headers.get('content-length'));
  const total = expectedBytes > 0 ? expectedBytes : (Number.isFinite(header) && header > 0 ? header : 0);
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
    const { value, done } = await reader.read();
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
  await flush();
  await Promise.all(pending);
  if (total && loaded !== total) {
    throw new ModelError(`The download ended early (${loaded} of ${total} bytes).`);
  }
  onProgress(loaded, total || loaded);
  return { bytes: whole || join(parts, loaded), chunks: index };
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
