//! AVX-512 building blocks for the x86_64 kernels that have an `avx512`
//! version. VNNI's `dpbusd` (u8 times i8, four products to an i32 lane,
//! one instruction where AVX2 needs two, and no i16 saturation), the mask
//! registers (one instruction where AVX2 spreads bits to bytes in four)
//! and two-source permutes. The 32-value types (`offset_groups`) regroup
//! each weight row's 4 blocks once so that every token's 8 group sums come
//! from two 512-bit products on activations regrouped the same way
//! (`QuantizedActs::lanes`), where the AVX2 layout gathers the groups with
//! 9 shuffles and adds a token: Q5_0 prefill per token 1.17-1.22x (Intel
//! Xeon with AMX, 1 thread, Gemma 3 270M and Qwen2.5 0.5B). The groups,
//! their exact sums and the order they are combined in stay as they are,
//! so results stay bit-identical to the scalar kernels. The K-quants work
//! on 256-bit vectors.

use core::arch::x86_64::*;
use crate::quant::act::QuantizedActs;

/// The f16 scales at the start of 4 consecutive blocks of `bb` bytes, all
/// in `b` (bb even, 4 * bb >= 64), each repeated for the block's two groups:
/// `[d0, d0, d1, d1, .., d3, d3]`. Two 64-byte windows cover the four, and
/// one word permute picks them out of both.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn block_scales(b: &[u8], bb: usize) -> __m256 {
    // The second window starts at block 2 or, for short blocks, 64 bytes before the end.
    let second = (2 * bb).min(4 * bb - 64);
    debug_assert!(bb.is_multiple_of(2) && b.len() >= 4 * bb && 4 * bb >= 64);
    let mut idx = [0i16; 32];
    for (j, i) in idx.iter_mut().take(8).enumerate() {
        let at = j / 2 * bb;
        *i = if at + 2 <= 64 { at / 2 } else { 32 + (at - second) / 2 } as i16;
        debug_assert!(at + 2 <= 64 || (at >= second && at - second + 2 <= 64));
    }
    let p = b.as_ptr();
    let h = _mm512_permutex2var_epi16(
        _mm512_loadu_si512(p as *const __m512i),
        _mm512_loadu_si512(idx.as_ptr() as *const __m512i),
        _mm512_loadu_si512(p.add(second) as *const __m512i),
    );
    _mm256_cvtph_ps(_mm512_castsi512_si128(h))
}

/// The 16 bytes at `s` as 32 values: low nibbles, then high nibbles.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn nibbles(s: &[u8]) -> __m256i {
    debug_assert!(s.len() >= 16);
    let q = _mm256_broadcastsi128_si256(_mm_loadu_si128(s.as_ptr() as *const __m128i));
    _mm256_and_si256(_mm256_srlv_epi64(q, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0f))
}

/// `v` with `add` added to byte j where bit j of `bits` is set.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn add_where(v: __m256i, bits: u32, add: i8) -> __m256i {
    _mm256_mask_add_epi8(v, bits, v, _mm256_set1_epi8(add))
}

/// As `x86::scaled_dots`, the scale multiply and the add in one VNNI
/// `dpwssd`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn scaled_dots<const N: usize>(w: &[__m256i; 8], sc: &[__m256i; 8], ap: &super::x86::Acts<N>, t: usize, at: usize) -> __m256i {
    let mut s = _mm256_setzero_si256();
    for v in 0..8 {
        s = _mm256_dpwssd_epi32(s, _mm256_maddubs_epi16(w[v], ap.qs(t, at + 32 * v)), sc[v]);
    }
    s
}

/// Four 32-value blocks' weights (`w[b]`: group 2b in its low 16 bytes,
/// 2b + 1 in its high) in the activations' `lanes` order, two registers of
/// 512 bits: the first holds the 8 groups' fours 0 and 1, the second 2 and
/// 3. Taken once a row for every token of the tile.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn weight_lanes(w: &[__m256i; 4]) -> [__m512i; 2] {
    let a = _mm512_inserti64x4(_mm512_castsi256_si512(w[0]), w[1], 1);
    let b = _mm512_inserti64x4(_mm512_castsi256_si512(w[2]), w[3], 1);
    // Four k of group g is dword 4g + k of [a | b]; lane p of a result holds
    // group p % 8's four `first + p / 8`.
    const fn pick(first: i32) -> [i32; 16] {
        let mut idx = [0i32; 16];
        let mut p = 0;
        while p < 16 {
            idx[p] = 4 * (p as i32 % 8) + first + p as i32 / 8;
            p += 1;
        }
        idx
    }
    const PICK: [[i32; 16]; 2] = [pick(0), pick(2)];
    let idx = |i: usize| _mm512_loadu_si512(PICK[i].as_ptr() as *const __m512i);
    [_mm512_permutex2var_epi32(a, idx(0), b), _mm512_permutex2var_epi32(a, idx(1), b)]
}

/// The exact sums of the 8 groups of one token's 128 values, in group
/// order: `w` from `weight_lanes` (unsigned bytes) against the 128 bytes of
/// regrouped activations at `x`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn group_dots(w: &[__m512i; 2], x: *const i8) -> __m256i {
    let s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], _mm512_loadu_si512(x as *const __m512i));
    let s = _mm512_dpbusd_epi32(s, w[1], _mm512_loadu_si512(x.add(64) as *const __m512i));
    _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1))
}

/// The loop of the 32-value types whose blocks start with an f16 scale and
/// whose 32 values `weights` reads as unsigned bytes carrying an offset of
/// `1 << SHIFT` (Q4_0: 3, Q5_0: 4, Q8_0 with its sign bit flipped: 7):
/// each token's running `Combine` sums over the row's first `nb / 4 * 4`
/// blocks of `bb` bytes. The offset comes off as its multiple of the
/// activations' group sums. `None` where an activation row lacks its
/// regrouped values (the caller's AVX2 kernel then runs).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn offset_groups<const N: usize, const SHIFT: i32>(
    row: &[u8],
    a: &[&QuantizedActs; N],
    (nb, bb): (usize, usize),
    weights: impl Fn(&[u8]) -> __m256i,
) -> Option<[__m128; N]> {
    use super::x86::{accumulate, terms, Acts};
    if a.iter().any(|x| x.lanes.len() < nb / 4 * 128) {
        return None;
    }
    let ap = Acts::new(a);
    let mut t = [_mm_setzero_ps(); N];
    for (k, b) in row.chunks_exact(4 * bb).take(nb / 4).enumerate() {
        let w = weight_lanes(&[weights(b), weights(&b[bb..]), weights(&b[2 * bb..]), weights(&b[3 * bb..])]);
        let sc = block_scales(b, bb);
        for tk in 0..N {
            let s = _mm256_sub_epi32(group_dots(&w, ap.lanes(tk).add(128 * k)), _mm256_slli_epi32(ap.sums(tk, 8 * k), SHIFT));
            t[tk] = accumulate(t[tk], terms(ap.scales(tk, 8 * k), sc, s));
        }
    }
    Some(t)
}

/// The exact lane sums of 8 vectors, `v[k]`'s in lane k: a K-quant block's
/// sums for 8 tokens at once (three rounds of horizontal adds and one
/// exchange of halves, where one vector at a time takes four).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn sums8(v: &[__m256i; 8]) -> __m256i {
    let (a, b) = (_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    let (c, d) = (_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    // Each 128-bit half now holds four vectors' sums over that half's lanes.
    let (ab, cd) = (_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    _mm256_add_epi32(_mm256_permute2x128_si256(ab, cd, 0x20), _mm256_permute2x128_si256(ab, cd, 0x31))
}

/// The 8 tokens' activation scales of group `g` (one a Q8_K block), as a vector.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn scales8(ap: &super::x86::Acts<8>, g: usize) -> __m256 {
    let s: [f32; 8] = core::array::from_fn(|t| ap.scale(t, g));
    _mm256_loadu_ps(s.as_ptr())
}
