// Reads a GGUF file the user picked into memory a chunk at a time, handing each chunk to a
// callback (which stores it), in the same shape as a download, so a picked file is kept on
// the device like a downloaded one.
import { CHUNK_SIZE } from './model-store.js';
import { MAX_MODEL_BYTES, ModelError } from './model-fetch.js';
import { isGguf } from './model-choice.js';

export async function readModelFile(file, onProgress, onChunk, signal) {
  const total = Number(file?.size) || 0;
  const name = String(file?.name || 'The file');
  if (total > MAX_MODEL_BYTES) throw new ModelError(`“${name}” is too large for this page (${total} bytes).`);
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  if (!isGguf(head)) throw new ModelError(`“${name}” is not a GGUF model file.`);
  const whole = new Uint8Array(total);
  let index = 0;
  for (let offset = 0; offset < total; offset += CHUNK_SIZE) {
    if (signal?.aborted) throw new ModelError('Reading the file was cancelled.');
    const data = await file.slice(offset, Math.min(total, offset + CHUNK_SIZE)).arrayBuffer();
    whole.set(new Uint8Array(data), offset);
    await onChunk(index, data);
    index += 1;
    onProgress(Math.min(total, offset + data.byteLength), total);
  }
  return { bytes: whole, chunks: index };
}
