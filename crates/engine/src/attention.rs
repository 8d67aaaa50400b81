//! Causal attention over the CPU's KV cache.
//!
//! The heads that share a kv head (GQA: 4 in Gemma 3 270M, 6 in Qwen2.5
//! 1.5B) are one task when there are enough tasks for the threads (a
//! prompt's chunk): each key and value row is then read from memory once for
//! the whole group rather than once a head, which is most of prefill's
//! attention time. Decode has one token, so each head stays its own task and
//! both threads get work. Within a task keys go four at a time (`KEYS`).
//! Either way every head's numbers come from the same operations in the
//! same order as one key of one head at a time, so neither the grouping nor
//! the blocking changes a result (the tests compare bits).

use crate::par;
use crate::quant::dot_f32;

/// The shape of one attention call.
pub struct AttnShape {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    /// Keys at distance `window` or more are masked (sliding-window layers).
    pub window: Option<usize>,
    pub scale: f32,
    /// Gemma 2: scores become `cap * tanh(score / cap)` before the softmax.
    pub softcap: Option<f32>,
}

impl AttnShape {
    /// Query heads a kv head serves.
    fn group(&self) -> usize {
        (self.n_head / self.n_kv_head.max(1)).max(1)
    }
}

/// Causal attention of `t` query rows at positions `pos0..pos0+t` over the
/// cached keys/values `0..pos0+t` (GQA: query head h reads kv head
/// h / (n_head / n_kv_head)). `out` has the layout of `q`.
pub fn attention(q: &[f32], k: &[f32], v: &[f32], pos0: usize, t: usize, s: &AttnShape, out: &mut [f32]) {
    debug_assert_eq!(out.len(), t * s.n_head * s.head_dim);
    let heads_per_task = if t * s.n_kv_head >= 2 * par::threads() { s.group() } else { 1 };
    attention_tasks(q, k, v, pos0, s, heads_per_task, out);
}

/// `attention` with `heads_per_task` consecutive heads of one token (all of
/// one kv head: a divisor of the group) in each task.
fn attention_tasks(q: &[f32], k: &[f32], v: &[f32], pos0: usize, s: &AttnShape, heads_per_task: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    let avx = std::arch::is_x86_feature_detected!("avx");
    par::for_chunks(out, heads_per_task * s.head_dim, |first, o| {
        #[cfg(target_arch = "x86_64")]
        if avx {
            // SAFETY: the CPU has AVX.
            return unsafe { task_avx(q, k, v, pos0, s, first, o) };
        }
        task(q, k, v, pos0, s, first, o, dot_keys)
    });
}

/// `task` with AVX: 8 lanes in one register where SSE takes two, the same
/// operations lane for lane (no FMA: a multiply and an add stay two
/// roundings), so the same numbers in half the instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn task_avx(q: &[f32], k: &[f32], v: &[f32], pos0: usize, s: &AttnShape, first: usize, o: &mut [f32]) {
    // SAFETY (the closure): called only here, where the CPU has AVX.
    task(q, k, v, pos0, s, first, o, |q, keys| unsafe { dot_keys_avx(q, keys) })
}

/// The heads of one token whose output starts at element `first` of the
/// layer's output, into `o`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn task(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    pos0: usize,
    s: &AttnShape,
    first: usize,
    o: &mut [f32],
    dot_keys: impl Fn(&[f32], [&[f32]; KEYS]) -> [f32; KEYS],
) {
    let hd = s.head_dim;
    let q_row = s.n_head * hd;
    let kv_row = s.n_kv_head * hd;
    let group = s.group();
    let (tok, h0) = (first / q_row, (first % q_row) / hd);
    let heads = o.len() / hd;
    let p = pos0 + tok;
    let lo = match s.window {
        Some(w) => (p + 1).saturating_sub(w),
        None => 0,
    };
    let n_keys = p + 1 - lo;
    let kvh = h0 / group;
    let kv = |j: usize| j * kv_row + kvh * hd..j * kv_row + (kvh + 1) * hd;
    let qh = |i: usize| &q[tok * q_row + (h0 + i) * hd..tok * q_row + (h0 + i + 1) * hd];
    // scores[i * n_keys + (j - lo)]: head i of the task against key j.
    let mut scores = vec![0f32; heads * n_keys];
    let mut j = lo;
    while j + KEYS <= p + 1 {
        let keys: [&[f32]; KEYS] = std::array::from_fn(|r| &k[kv(j + r)]);
        for i in 0..heads {
            let d = dot_keys(qh(i), keys);
            for r in 0..KEYS {
                scores[i * n_keys + (j + r - lo)] = d[r] * s.scale;
            }
        }
        j += KEYS;
    }
    for j in j..=p {
        let kj = &k[kv(j)];
        for i in 0..heads {
            scores[i * n_keys + (j - lo)] = dot_f32(qh(i), kj) * s.scale;
        }
    }
    if let Some(cap) = s.softcap {
        scores.iter_mut().for_each(|x| *x = soft_cap(*x, cap));
    }
    for row in scores.chunks_exact_mut(n_keys) {
        softmax(row);
    }
    o.fill(0.0);
    let mut j = lo;
    while j + KEYS <= p + 1 {
        let vals: [&[f32]; KEYS] = std::array::from_fn(|r| &v[kv(j + r)]);
        for (i, oi) in o.chunks_exact_mut(hd).enumerate() {
            let w: [f32; KEYS] = std::array::from_fn(|r| scores[i * n_keys + (j + r - lo)]);
            add_weighted_keys(oi, w, vals);
        }
        j += KEYS;
    }
    for j in j..=p {
        let vj = &v[kv(j)];
        for (i, oi) in o.chunks_exact_mut(hd).enumerate() {
            let w = scores[i * n_keys + (j - lo)];
            for (a, b) in oi.iter_mut().zip(vj) {
                *a += w * b;
            }
        }
    }
}

/// `cap * tanh(x / cap)`: near x for small x, never past `cap`.
pub fn soft_cap(x: f32, cap: f32) -> f32 {
    cap * (x / cap).tanh()
}

/// Keys a pass of the score and value loops takes together: one load of a
/// query chunk serves four dots, one load and store of the output row four
/// weighted adds, and the four dots' accumulator chains overlap.
const KEYS: usize = 4;

/// `dot_f32(q, key)` for each key, each with exactly `dot_f32`'s operations
/// in its order (eight lane sums, summed in order, then the tail). Written
/// with explicit vectors: left to itself the compiler packs the four keys'
/// lane i into one vector and shuffles every load.
#[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
fn dot_keys(q: &[f32], keys: [&[f32]; KEYS]) -> [f32; KEYS] {
    let n = q.len() / 8 * 8;
    assert!(keys.iter().all(|k| k.len() >= q.len()));
    let mut acc = [[lanes::zero(); 2]; KEYS];
    let mut c = 0;
    while c < n {
        // SAFETY: c + 8 <= n <= q.len() <= every key's length.
        unsafe {
            let x = [lanes::load(q.as_ptr().add(c)), lanes::load(q.as_ptr().add(c + 4))];
            for (a, key) in acc.iter_mut().zip(&keys) {
                let k = key.as_ptr().add(c);
                a[0] = lanes::add(a[0], lanes::mul(x[0], lanes::load(k)));
                a[1] = lanes::add(a[1], lanes::mul(x[1], lanes::load(k.add(4))));
            }
        }
        c += 8;
    }
    std::array::from_fn(|r| {
        let (lo, hi) = (lanes::to_array(acc[r][0]), lanes::to_array(acc[r][1]));
        let mut s: f32 = lo.iter().chain(&hi).sum();
        for (x, y) in q[n..].iter().zip(&keys[r][n..]) {
            s += x * y;
        }
        s
    })
}

/// `dot_keys` on AVX registers: lanes 0-3 and 4-7 of one are the two SSE
/// vectors of `dot_keys`, so the sums are the same.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
unsafe fn dot_keys_avx(q: &[f32], keys: [&[f32]; KEYS]) -> [f32; KEYS] {
    use core::arch::x86_64::*;
    let n = q.len() / 8 * 8;
    assert!(keys.iter().all(|k| k.len() >= q.len()));
    let mut acc = [_mm256_setzero_ps(); KEYS];
    for c in (0..n).step_by(8) {
        // SAFETY: c + 8 <= n <= q.len() <= every key's length.
        let x = _mm256_loadu_ps(q.as_ptr().add(c));
        for (a, key) in acc.iter_mut().zip(&keys) {
            *a = _mm256_add_ps(*a, _mm256_mul_ps(x, _mm256_loadu_ps(key.as_ptr().add(c))));
        }
    }
    std::array::from_fn(|r| {
        let lanes: [f32; 8] = core::mem::transmute(acc[r]);
        let mut s: f32 = lanes.iter().sum();
        for (x, y) in q[n..].iter().zip(&keys[r][n..]) {
            s += x * y;
        }
        s
    })
}

#[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
#[inline]
fn dot_keys(q: &[f32], keys: [&[f32]; KEYS]) -> [f32; KEYS] {
    keys.map(|k| dot_f32(q, k))
}

/// Four f32 lanes: SSE (every x86_64) or wasm's simd128. Multiply and add
/// stay two roundings, as in `dot_f32`, so the sums are the same.
#[cfg(target_arch = "x86_64")]
mod lanes {
    use core::arch::x86_64::*;
    pub type V = __m128;
    #[inline(always)]
    pub fn zero() -> V {
        unsafe { _mm_setzero_ps() }
    }
    /// # Safety
    /// `p..p + 4` is readable.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        _mm_loadu_ps(p)
    }
    #[inline(always)]
    pub fn mul(a: V, b: V) -> V {
        unsafe { _mm_mul_ps(a, b) }
    }
    #[inline(always)]
    pub fn add(a: V, b: V) -> V {
        unsafe { _mm_add_ps(a, b) }
    }
    #[inline(always)]
    pub fn to_array(v: V) -> [f32; 4] {
        unsafe { core::mem::transmute(v) }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;
    pub type V = v128;
    #[inline(always)]
    pub fn zero() -> V {
        f32x4_splat(0.0)
    }
    /// # Safety
    /// `p..p + 4` is readable.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        v128_load(p as *const v128)
    }
    #[inline(always)]
    pub fn mul(a: V, b: V) -> V {
        f32x4_mul(a, b)
    }
    #[inline(always)]
    pub fn add(a: V, b: V) -> V {
        f32x4_add(a, b)
    }
    #[inline(always)]
    pub fn to_array(v: V) -> [f32; 4] {
        [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
    }
}

/// `o += w[r] * vals[r]` for r in order, element by element: the additions
/// one key at a time would make, without storing `o` between keys.
#[inline]
fn add_weighted_keys(o: &mut [f32], w: [f32; KEYS], vals: [&[f32]; KEYS]) {
    let [v0, v1, v2, v3] = vals;
    let (v0, v1, v2, v3) = (&v0[..o.len()], &v1[..o.len()], &v2[..o.len()], &v3[..o.len()]);
    for d in 0..o.len() {
        o[d] = o[d] + w[0] * v0[d] + w[1] * v1[d] + w[2] * v2[d] + w[3] * v3[d];
    }
}

pub fn softmax(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - m).exp();
        sum += *v;
    }
    if sum > 0.0 {
        for v in x.iter_mut() {
            *v /= sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) * 4.0 - 2.0
            })
            .collect()
    }

    /// Grouped tasks give each head exactly the numbers of one task a head,
    /// for GQA groups of 1, 2, 4 and 6, with and without a window, a first
    /// chunk and a later one.
    #[test]
    fn grouped_heads_match_one_task_a_head_exactly() {
        for (n_head, n_kv_head, hd) in [(4, 1, 32), (12, 2, 16), (4, 4, 8), (6, 3, 24)] {
            for window in [None, Some(5)] {
                for (pos0, t) in [(0, 7), (9, 3), (20, 1)] {
                    let s = AttnShape { n_head, n_kv_head, head_dim: hd, window, scale: 0.3, softcap: None };
                    let n = pos0 + t;
                    let q = values(t * n_head * hd, 1);
                    let k = values(n * n_kv_head * hd, 2);
                    let v = values(n * n_kv_head * hd, 3);
                    let group = n_head / n_kv_head;
                    let mut one = vec![0f32; t * n_head * hd];
                    attention_tasks(&q, &k, &v, pos0, &s, 1, &mut one);
                    for per in (2..=group).filter(|d| group % d == 0) {
                        let mut grouped = vec![1f32; t * n_head * hd];
                        attention_tasks(&q, &k, &v, pos0, &s, per, &mut grouped);
                        assert!(
                            one.iter().zip(&grouped).all(|(a, b)| a.to_bits() == b.to_bits()),
                            "{n_head}/{n_kv_head} heads, window {window:?}, pos0 {pos0}, t {t}, {per} a task"
                        );
                    }
                    let mut chosen = vec![1f32; t * n_head * hd];
                    attention(&q, &k, &v, pos0, t, &s, &mut chosen);
                    assert!(one.iter().zip(&chosen).all(|(a, b)| a.to_bits() == b.to_bits()));
                }
            }
        }
    }

    /// One key at a time, one head at a time: the loops the blocked ones
    /// replace, whose numbers they must keep bit for bit.
    fn key_by_key(q: &[f32], k: &[f32], v: &[f32], pos0: usize, t: usize, s: &AttnShape) -> Vec<f32> {
        let (hd, group) = (s.head_dim, s.n_head / s.n_kv_head);
        let mut out = vec![0f32; t * s.n_head * hd];
        for tok in 0..t {
            let p = pos0 + tok;
            let lo = s.window.map_or(0, |w| (p + 1).saturating_sub(w));
            for h in 0..s.n_head {
                let qh = &q[(tok * s.n_head + h) * hd..][..hd];
                let kv = |j: usize| (j * s.n_kv_head + h / group) * hd;
                let mut sc: Vec<f32> = (lo..=p).map(|j| dot_f32(qh, &k[kv(j)..][..hd]) * s.scale).collect();
                if let Some(cap) = s.softcap {
                    sc.iter_mut().for_each(|x| *x = cap * (*x / cap).tanh());
                }
                softmax(&mut sc);
                let o = &mut out[(tok * s.n_head + h) * hd..][..hd];
                for (j, w) in (lo..=p).zip(&sc) {
                    for (a, b) in o.iter_mut().zip(&v[kv(j)..][..hd]) {
                        *a += w * b;
                    }
                }
            }
        }
        out
    }

    /// Four keys a pass give the numbers of one key a pass exactly, for key
    /// counts on and off a multiple of four and head sizes with a tail.
    #[test]
    fn keys_in_fours_match_key_by_key_exactly() {
        for (n_head, n_kv_head, hd) in [(4, 1, 256), (12, 2, 128), (2, 2, 13), (6, 3, 20)] {
            for (window, softcap) in [(None, None), (Some(6), None), (Some(6), Some(0.5))] {
                for (pos0, t) in [(0, 13), (11, 2), (5, 1)] {
                    let s = AttnShape { n_head, n_kv_head, head_dim: hd, window, scale: 0.125, softcap };
                    let n = pos0 + t;
                    let q = values(t * n_head * hd, 7);
                    let k = values(n * n_kv_head * hd, 8);
                    let v = values(n * n_kv_head * hd, 9);
                    let want = key_by_key(&q, &k, &v, pos0, t, &s);
                    let mut got = vec![1f32; t * n_head * hd];
                    attention(&q, &k, &v, pos0, t, &s, &mut got);
                    let same = want.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{n_head}/{n_kv_head} heads of {hd}, window {window:?}, pos0 {pos0}, t {t}");
                }
            }
        }
    }

    /// One head against a direct softmax-weighted sum in f64.
    #[test]
    fn attends_to_the_visible_keys_only() {
        let (hd, pos0, t) = (8, 6, 3);
        let s = AttnShape { n_head: 2, n_kv_head: 1, head_dim: hd, window: Some(4), scale: 0.5, softcap: None };
        let q = values(t * 2 * hd, 4);
        let k = values((pos0 + t) * hd, 5);
        let v = values((pos0 + t) * hd, 6);
        let mut out = vec![0f32; t * 2 * hd];
        attention(&q, &k, &v, pos0, t, &s, &mut out);
        for tok in 0..t {
            for h in 0..2 {
                let p = pos0 + tok;
                let keys: Vec<usize> = (p + 1 - 4..=p).collect();
                let qh = &q[(tok * 2 + h) * hd..(tok * 2 + h + 1) * hd];
                let sc: Vec<f64> = keys
                    .iter()
                    .map(|&j| qh.iter().zip(&k[j * hd..(j + 1) * hd]).map(|(a, b)| (*a as f64) * (*b as f64)).sum::<f64>() * 0.5)
                    .collect();
                let m = sc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = sc.iter().map(|x| (x - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for d in 0..hd {
                    let want: f64 = keys.iter().zip(&e).map(|(&j, w)| w / z * v[j * hd + d] as f64).sum();
                    let got = out[(tok * 2 + h) * hd + d] as f64;
                    assert!((got - want).abs() < 1e-5, "token {tok} head {h} dim {d}: {got} vs {want}");
                }
            }
        }
    }
}
