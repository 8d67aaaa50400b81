// Stored prompt prefixes: the engine's keys and values for a prompt's first tokens, kept in
// IndexedDB so a chat reopened after a reload (or a new chat with a character met before)
// does not read them again. A record names its model and chat; its key is the digest of the
// model file's name and checksum and the token ids, so a prompt finds an entry by hashing its
// own first tokens. The bytes carry the model's fingerprint and a checksum
// (crates/engine/src/kv_snapshot.rs): a corrupt or foreign entry is refused by the engine,
// deleted here, and the prompt read.

// At most this many bytes of prefixes; the least recently used go first.
export const PREFIX_BUDGET = 160_000_000;
// Shorter prefixes read fast enough: not worth a write.
export const MIN_PREFIX_TOKENS = 128;

export async function prefixKey(file, tokens) {
  const text = new TextEncoder().encode(`${file}\n`);
  const ids = new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
  const all = new Uint8Array(text.length + ids.length);
  all.set(text);
  all.set(ids, text.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The longest stored prefix of `tokens` (a Uint32Array) for the model stored as `model`
// (its record id; `file` names the exact file: id and checksum), longer than `beyond`
// tokens: {key, tokens, data} or null.
export async function findPrefix(db, model, file, tokens, beyond) {
  const entries = (await db.getAllBy('prefixes', 'model', model))
    .filter((e) => Number.isInteger(e?.tokens) && e.tokens > beyond && e.tokens <= tokens.length)
    .sort((a, b) => b.tokens - a.tokens);
  for (const entry of entries) {
    if (entry.key !== await prefixKey(file, tokens.subarray(0, entry.tokens))) continue;
    const stored = await db.get('prefix-data', entry.key);
    if (!(stored?.data instanceof ArrayBuffer)) {
      await deletePrefix(db, entry.key);
      continue;
    }
    await db.merge('prefixes', entry.key, { usedAt: Date.now() });
    return { key: entry.key, tokens: entry.tokens, data: new Uint8Array(stored.data) };
  }
  return null;
}

export async function hasPrefix(db, key) {
  return Boolean(await db.get('prefixes', key));
}

// Keeps `data` (the engine's save_prefix bytes for `tokens`), then trims to the budget.
export async function savePrefix(db, { key, model, chatId, tokens, data }) {
  const record = { key, model, chatId: String(chatId ?? ''), tokens, bytes: data.byteLength, usedAt: Date.now() };
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  await db.write([
    { op: 'put', store: 'prefix-data', value: { key, data: buffer } },
    { op: 'put', store: 'prefixes', value: record },
  ]);
  await trimPrefixes(db, PREFIX_BUDGET);
}

// An entry is two records, written and deleted together.
const deleteOps = (key) => [{ op: 'delete', store: 'prefix-data', key }, { op: 'delete', store: 'prefixes', key }];

export async function deletePrefix(db, key) {
  await db.write(deleteOps(key));
}

export async function trimPrefixes(db, budget) {
  const entries = (await db.getAll('prefixes')).sort((a, b) => (b.usedAt || 0) - (a.usedAt || 0));
  let total = 0;
  const drop = [];
  for (const e of entries) {
    total += Number(e.bytes) || 0;
    if (total > budget) drop.push(e.key);
  }
  if (drop.length) await db.write(drop.flatMap(deleteOps));
}

// {count, bytes} of what is stored, for the storage view.
export async function prefixUsage(db) {
  const entries = await db.getAll('prefixes');
  return { count: entries.length, bytes: entries.reduce((n, e) => n + (Number(e.bytes) || 0), 0) };
}

export async function clearPrefixes(db) {
  await db.clear(['prefixes', 'prefix-data']);
}
