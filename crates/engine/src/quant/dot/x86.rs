//! AVX2 building blocks shared by the x86_64 kernels. They carry the
//! kernels' target features so that they inline into them.

use core::arch::x86_64::*;

use crate::quant::act::QuantizedActs;

/// 32 bytes from `s` (at least 32 long); GGUF blocks are not aligned.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn load32(s: &[u8]) -> __m256i {
    debug_assert!(s.len() >= 32);
    _mm256_loadu_si256(s.as_ptr() as *const __m256i)
}

/// 16 bytes from `s` (at least 16 long).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn load16(s: &[u8]) -> __m128i {
    debug_assert!(s.len() >= 16);
    _mm_loadu_si128(s.as_ptr() as *const __m128i)
}

/// f16 bits at `s[0..2]` to f32 with the F16C instruction.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f16(s: &[u8]) -> f32 {
    let bits = u16::from_le_bytes([s[0], s[1]]);
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
}

/// Products of signed bytes summed in fours, as 8 i32 lanes: lanes 0..4
/// hold the first 16 bytes (one group), lanes 4..8 the next. maddubs wants
/// one unsigned operand: |w| and x with w's sign. Activations lie in
/// [-127, 127], so no i16 pair sum saturates, even for w = -128 (|w| reads
/// as 128 unsigned).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_i8(w: __m256i, x: __m256i) -> __m256i {
    let p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    _mm256_madd_epi16(p, _mm256_set1_epi16(1))
}

/// `dot_i8` for unsigned weight bytes below 64 (no i16 pair sum reaches
/// 2 * 63 * 127).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_u8(w: __m256i, x: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1))
}

/// The 8 group sums of four `dot_*` results (groups 2k, 2k+1 in `p[k]`),
/// in group order.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn group_sums(p: [__m256i; 4]) -> __m256i {
    // Interleaves and adds (one uop each, where a horizontal add takes three)
    // leave groups [0, 2, 4, 6 | 1, 3, 5, 7].
    let s01 = _mm256_add_epi32(_mm256_unpacklo_epi32(p[0], p[1]), _mm256_unpackhi_epi32(p[0], p[1]));
    let s23 = _mm256_add_epi32(_mm256_unpacklo_epi32(p[2], p[3]), _mm256_unpackhi_epi32(p[2], p[3]));
    let h = _mm256_add_epi32(_mm256_unpacklo_epi64(s01, s23), _mm256_unpackhi_epi64(s01, s23));
    _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
}

/// 8 consecutive groups' terms `gs * (sc * S)` (see `Combine`).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn terms(gs: __m256, sc: __m256, s: __m256i) -> __m256 {
    _mm256_mul_ps(gs, _mm256_mul_ps(sc, _mm256_cvtepi32_ps(s)))
}

/// 8 consecutive groups' terms `gs * (sc * S + m * G)` (see
/// `Combine::add_offset`).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn terms_offset(gs: __m256, (sc, s): (__m256, __m256i), (m, g): (__m256, __m256i)) -> __m256 {
    _mm256_mul_ps(gs, _mm256_add_ps(_mm256_mul_ps(sc, _mm256_cvtepi32_ps(s)), _mm256_mul_ps(m, _mm256_cvtepi32_ps(g))))
}

/// Adds the terms of groups 8m..8m+8 to `Combine`'s four sums, in its
/// order: t[k] += v[k], then t[k] += v[k + 4].
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn accumulate(t: __m128, v: __m256) -> __m128 {
    _mm_add_ps(_mm_add_ps(t, _mm256_castps256_ps128(v)), _mm256_extractf128_ps(v, 1))
}

/// The four lanes of `t` as `Combine`'s sums.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn to_array(t: __m128) -> [f32; 4] {
    let mut a = [0f32; 4];
    _mm_storeu_ps(a.as_mut_ptr(), t);
    a
}

/// Low and high nibbles of 16 bytes: the low nibbles in the low 128 bits.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn nibbles(q: __m128i) -> __m256i {
    let m = _mm_set1_epi8(0x0f);
    let lo = _mm_and_si128(q, m);
    let hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
    _mm256_set_m128i(hi, lo)
}

/// 0xff in byte j where bit j of `bits` is set, else 0.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn bits_to_bytes(bits: u32) -> __m256i {
    let v = _mm256_set1_epi32(bits as i32);
    // Byte j takes the source byte that holds bit j...
    let pick = _mm256_setr_epi64x(0, 0x0101_0101_0101_0101, 0x0202_0202_0202_0202, 0x0303_0303_0303_0303);
    let v = _mm256_shuffle_epi8(v, pick);
    // ...and sets every other bit, so it is all ones exactly when bit j is.
    let others = _mm256_set1_epi64x(0x7fbf_dfef_f7fb_fdfe);
    _mm256_cmpeq_epi8(_mm256_or_si256(v, others), _mm256_set1_epi64x(-1))
}

/// The i16 lanes of `x` shifted right by `n` (a count known only at run
/// time).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn shr16(x: __m256i, n: u32) -> __m256i {
    _mm256_srl_epi16(x, _mm_cvtsi32_si128(n as i32))
}

/// Each of the 8 bytes of `bytes` (K-quant sub-block scales) as an i16
/// in every lane of a vector: widened once, then one byte shuffle each
/// (a broadcast from a general register costs three or four).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn broadcast_bytes(bytes: u64) -> [__m256i; 8] {
    let v = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(bytes as i64)));
    let mut out = [_mm256_setzero_si256(); 8];
    for (j, o) in out.iter_mut().enumerate() {
        let pick = (2 * j as i16 + 1) << 8 | 2 * j as i16;
        *o = _mm256_shuffle_epi8(v, _mm256_set1_epi16(pick));
    }
    out
}

/// Of 8 i16 `v`, lanes 2k and 2k + 1 spread over the low and the high 8
/// lanes of vector k.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn broadcast_pairs(v: __m128i) -> [__m256i; 4] {
    let v = _mm256_broadcastsi128_si256(v);
    let mut out = [_mm256_setzero_si256(); 4];
    for (k, o) in out.iter_mut().enumerate() {
        let (lo, hi) = ((4 * k as i16 + 1) << 8 | 4 * k as i16, (4 * k as i16 + 3) << 8 | (4 * k as i16 + 2));
        *o = _mm256_shuffle_epi8(v, _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo)));
    }
    out
}

/// The 8 bytes of `bytes` (K-quant sub-block mins) as 16 i16, each
/// repeated for its sub-block's two 16-value groups.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn bytes_per_group(bytes: u64) -> __m256i {
    let v = _mm_cvtsi64_si128(bytes as i64);
    _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(v, v))
}

/// A K-quant block's scaled products for token `t`, its activations from
/// value `at`: `sum_v sc[v] * (w[v] . x_v)` in 8 i32 lanes, `w[v]` 32
/// unsigned values below 64 against activations `at + 32v..` (`maddubs`, no
/// i16 pair reaches 2 * 63 * 127), times `sc[v]`'s i16 lanes (`madd`).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn scaled_dots<const N: usize>(w: &[__m256i; 8], sc: &[__m256i; 8], ap: &Acts<N>, t: usize, at: usize) -> __m256i {
    let mut s = _mm256_setzero_si256();
    for v in 0..8 {
        s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(w[v], ap.qs(t, at + 32 * v)), sc[v]));
    }
    s
}

/// The lane sums of `s` and of `m`, exact.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn sum2(s: __m256i, m: __m256i) -> (i32, i32) {
    let h = _mm256_hadd_epi32(s, m);
    let q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    let r = _mm_hadd_epi32(q, q);
    (_mm_cvtsi128_si32(r), _mm_extract_epi32(r, 1))
}

/// `t + x` in lane 0, as f32 addition. The x86 K-quant kernels keep their
/// running sums in vector registers: kept as `f32`, LLVM carried them in
/// general registers, two moves on the dependency chain of every block.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn add_lane0(t: __m128, x: f32) -> __m128 {
    _mm_add_ss(t, _mm_set_ss(x))
}

/// Views of `N` activation rows for the AVX2 and AVX-512 kernels (see
/// `ActPtrs`).
pub struct Acts<const N: usize> {
    p: super::ActPtrs<N>,
}

impl<const N: usize> Acts<N> {
    #[inline(always)]
    pub fn new(a: &[&QuantizedActs; N]) -> Self {
        Acts { p: super::ActPtrs::new(a) }
    }

    /// 32 activations of token `t` from value `at`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn qs(&self, t: usize, at: usize) -> __m256i {
        _mm256_loadu_si256(self.p.qs[t].add(at) as *const __m256i)
    }

    /// Where token `t`'s regrouped activations (`QuantizedActs::lanes`)
    /// start.
    #[inline(always)]
    pub fn lanes(&self, t: usize) -> *const i8 {
        self.p.lanes[t]
    }

    /// The scales of token `t`'s groups `g..g + 8`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn scales(&self, t: usize, g: usize) -> __m256 {
        _mm256_loadu_ps(self.p.gs[t].add(g))
    }

    /// The sums of token `t`'s groups `g..g + 8`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn sums(&self, t: usize, g: usize) -> __m256i {
        _mm256_loadu_si256(self.p.gsum[t].add(g) as *const __m256i)
    }

    /// The scale of token `t`'s group `g` (one a block for Q8_K).
    #[inline(always)]
    pub unsafe fn scale(&self, t: usize, g: usize) -> f32 {
        *self.p.gs[t].add(g)
    }

    /// The sums of token `t`'s groups `g..g + 16`, as i16.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn sums16(&self, t: usize, g: usize) -> __m256i {
        _mm256_loadu_si256(self.p.gsum16[t].add(g) as *const __m256i)
    }
}
