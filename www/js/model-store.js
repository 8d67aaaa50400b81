// Model weights kept in IndexedDB as fixed-size chunks, so a 250 MB file never has to
// be one structured-clone record and a torn download leaves only unflagged chunks.

export const CHUNK_SIZE = 8 * 1024 * 1024;

// The kind of a stored file that is a LoRA adapter (a character's, editor-adapter.js), not a model.
export const ADAPTER_KIND = 'adapter';

// The cached record is only trusted when it describes the same file the page asked for.
function matches(record, want) {
  if (!record || record.complete !== true) return false;
  if (record.url !== want.url) return false;
  if (want.bytes && record.bytes !== want.bytes) return false;
  if (want.sha256 && record.sha256 !== want.sha256) return false;
  return Number.isInteger(record.bytes) && record.bytes > 0 &&
    record.chunks === Math.ceil(record.bytes / record.chunkSize);
}

export async function getModelRecord(db, modelId) {
  return db.get('models', modelId);
}

// Returns the whole file as one Uint8Array, or null when there is no complete, matching
// copy (a mismatched copy is deleted so the next download starts clean; a part is left for
// storedPart).
export async function readModel(db, modelId, want, onProgress) {
  const record = await getModelRecord(db, modelId);
  if (!record || record.complete !== true) return null;
  if (!matches(record, want)) {
    await deleteModel(db, modelId);
    return null;
  }
  const whole = new Uint8Array(record.bytes);
  let offset = 0;
  for (let index = 0; index < record.chunks; index++) {
    const chunk = await db.get('model-chunks', [modelId, index]);
    const data = chunk && chunk.data instanceof ArrayBuffer ? new Uint8Array(chunk.data) : null;
    if (!data || offset + data.length > whole.length) {
      await deleteModel(db, modelId);
      return null;
    }
    whole.set(data, offset);
    offset += data.length;
    onProgress(offset, record.bytes);
  }
  if (offset !== record.bytes) {
    await deleteModel(db, modelId);
    return null;
  }
  return whole;
}

// The full chunks, in order from the first, of a download of the same file that did not
// finish: {parts: [ArrayBuffer], validator}, or null when there is none to continue (a part of
// another file is deleted). The chunks after a gap are not used: the download resumes there.
export async function storedPart(db, modelId, want) {
  const record = await getModelRecord(db, modelId);
  if (!record || record.complete === true) return null;
  const same = record.url === want.url && record.chunkSize === CHUNK_SIZE &&
    (record.bytes || 0) === (want.bytes || 0) && (record.sha256 || null) === (want.sha256 || null);
  if (!same) {
    await deleteModel(db, modelId);
    return null;
  }
  const parts = [];
  const limit = want.bytes ? Math.ceil(want.bytes / CHUNK_SIZE) - 1 : Infinity;
  while (parts.length < limit) {
    const chunk = await db.get('model-chunks', [modelId, parts.length]);
    if (!(chunk?.data instanceof ArrayBuffer) || chunk.data.byteLength !== CHUNK_SIZE) break;
    parts.push(chunk.data);
  }
  return { parts, validator: typeof record.validator === 'string' ? record.validator : null };
}

export async function beginModel(db, meta) {
  await deleteModel(db, meta.id);
  await db.put('models', { ...meta, chunkSize: CHUNK_SIZE, chunks: 0, complete: false });
}

export async function putChunk(db, modelId, index, data) {
  await db.put('model-chunks', { modelId, index, data });
}

// Written last: from here on the copy is trusted.
export async function completeModel(db, meta, bytes, chunks) {
  await db.put('models', { ...meta, bytes, chunkSize: CHUNK_SIZE, chunks, complete: true, savedAt: Date.now() });
}

export async function deleteModel(db, modelId) {
  await db.deleteModel(modelId);
}
