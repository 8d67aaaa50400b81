//! A stored prefix: the keys and values of a prompt's first tokens, put back
//! into the cache instead of reading those tokens again (a chat reopened
//! after a reload, a new chat with a character met before).
//!
//! Bytes, little-endian: `KVSN`, version, the model's fingerprint, layers,
//! token count, each layer's key and value widths and recurrent state size,
//! the token ids, each layer's keys then values as f16 (the cache rounds to
//! f16 as it stores, so nothing is lost), each layer's recurrent state as f32, and an FNV-1a 64 checksum of
//! everything before it. A snapshot of another model, another shape or with
//! any byte changed is refused, never used.

use crate::error::{Error, Result};
use crate::kv_cache::KvCache;

const MAGIC: &[u8; 4] = b"KVSN";
/// 2: widths per layer (LFM2's convolution layers are wider than its
/// attention layers); 3: recurrent states (Qwen3.5). An older snapshot is
/// refused and read again.
const VERSION: u32 = 3;
const HEADER: usize = 4 + 4 + 8 + 4 + 4;
/// Bytes of the file's head and tail that the fingerprint reads.
const FINGERPRINT_SPAN: usize = 64 * 1024;

pub fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// Names a model file for its snapshots: its length, its head (the header
/// and metadata: architecture, shapes, tokenizer) and its tail (the last
/// tensor's data). Two quantisations or fine-tunes of one model differ in
/// length or tail.
pub fn fingerprint(file: &[u8]) -> u64 {
    let head = &file[..file.len().min(FINGERPRINT_SPAN)];
    let tail = &file[file.len().saturating_sub(FINGERPRINT_SPAN)..];
    fnv1a(tail, fnv1a(head, fnv1a(&(file.len() as u64).to_le_bytes(), FNV_SEED)))
}

/// The first `n` positions of `cache`, which holds `tokens`, as bytes (of
/// a recurrent model, the longest prefix within `n` it holds the state of).
pub fn save(cache: &KvCache, tokens: &[u32], n: usize, model: u64) -> Vec<u8> {
    let n = cache.reachable(n.min(tokens.len()).min(cache.len()));
    let states = cache.states_at(n).expect("a reachable position has its states");
    let widths = cache.widths();
    let floats: usize = widths.iter().map(|(k, v)| k + v).sum::<usize>() * n;
    let mut out = Vec::with_capacity(HEADER + widths.len() * 12 + n * 4 + floats * 2 + 8);
    out.extend_from_slice(MAGIC);
    for v in [VERSION.to_le_bytes().as_slice(), &model.to_le_bytes(), &(widths.len() as u32).to_le_bytes(), &(n as u32).to_le_bytes()] {
        out.extend_from_slice(v);
    }
    for (&(k, v), s) in widths.iter().zip(&states) {
        for x in [k, v, s.len()] {
            out.extend_from_slice(&(x as u32).to_le_bytes());
        }
    }
    for t in &tokens[..n] {
        out.extend_from_slice(&t.to_le_bytes());
    }
    for (layer, &(kw, vw)) in widths.iter().enumerate() {
        for x in cache.k[layer][..n * kw].iter().chain(&cache.v[layer][..n * vw]) {
            out.extend_from_slice(&half::f16::from_f32(*x).to_le_bytes());
        }
    }
    for x in states.iter().flatten() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    let sum = fnv1a(&out, FNV_SEED);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Checks `bytes` against the model and the cache's shape (`widths` and
/// `states` per layer) and returns the token ids with a cache holding their
/// keys, values and states.
pub fn load(bytes: &[u8], model: u64, widths: &[(usize, usize)], states: &[usize]) -> Result<(Vec<u32>, KvCache)> {
    let bad = |why: &str| Error::Snapshot(why.to_string());
    if bytes.len() < HEADER + 8 || &bytes[..4] != MAGIC {
        return Err(bad("not a stored prefix"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if fnv1a(body, FNV_SEED).to_le_bytes() != sum {
        return Err(bad("its checksum does not match"));
    }
    let u32_at = |at: usize| body.get(at..at + 4).map_or(u32::MAX, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if u32_at(4) != VERSION {
        return Err(bad("another version"));
    }
    if u64::from_le_bytes(body[8..16].try_into().unwrap_or([0; 8])) != model {
        return Err(bad("made with another model"));
    }
    let layers = widths.len();
    let state_of = |i: usize| states.get(i).copied().unwrap_or(0);
    let same_shape = u32_at(16) as usize == layers
        && widths.iter().enumerate().all(|(i, &(k, v))| {
            [k, v, state_of(i)].iter().enumerate().all(|(j, &x)| u32_at(HEADER + 12 * i + 4 * j) as usize == x)
        });
    if !same_shape {
        return Err(bad("another cache shape"));
    }
    let n = u32_at(20) as usize;
    let at = HEADER + 12 * layers;
    let row_bytes: usize = widths.iter().map(|(k, v)| (k + v) * 2).sum();
    let state_len = (0..layers).map(state_of).sum::<usize>() * 4;
    let ids = n.checked_mul(4).and_then(|b| b.checked_add(at));
    if row_bytes.checked_mul(n).zip(ids).and_then(|(a, b)| a.checked_add(b)).and_then(|x| x.checked_add(state_len)) != Some(body.len()) {
        return Err(bad("its length does not match"));
    }
    let tokens: Vec<u32> = body[at..at + n * 4].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let (rows, state_bytes) = body[at + n * 4..].split_at(row_bytes * n);
    let mut halves = rows.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32());
    let mut cache = KvCache::with_states(widths.to_vec(), states);
    for (layer, &(kw, vw)) in widths.iter().enumerate() {
        let k: Vec<f32> = halves.by_ref().take(n * kw).collect();
        let v: Vec<f32> = halves.by_ref().take(n * vw).collect();
        cache.push(layer, &k, &v);
    }
    let mut floats = state_bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    let loaded: Vec<Vec<f32>> = (0..layers).map(|i| floats.by_ref().take(state_of(i)).collect()).collect();
    if loaded.iter().flatten().any(|x| !x.is_finite()) {
        return Err(bad("a state that is not a number"));
    }
    cache.set_states(loaded);
    cache.advance(n);
    Ok((tokens, cache))
}
