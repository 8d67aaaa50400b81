//! AVX2 building blocks shared by the x86_64 kernels. They carry the
//! kernels' target features so that they inline into them.

use core::arch::x86_64::*;

/// 32 bytes from `s` (at least 32 long); GGUF blocks are not aligned.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn load32(s: &[u8]) -> __m256i {
    debug_assert!(s.len() >= 32);
    _mm256_loadu_si256(s.as_ptr() as *const __m256i)
}

/// 32 signed activation bytes from `s` (at least 32 long).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn load32_i8(s: &[i8]) -> __m256i {
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

/// Pairwise sums of products of signed bytes, as 8 i32 lanes (lane k holds
/// bytes 4k..4k+4). maddubs wants one unsigned operand: |w| and x with w's
/// sign. Activations lie in [-127, 127], so no i16 sum saturates, even
/// for w = -128 (|w| reads as 128 unsigned).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_i8(w: __m256i, x: __m256i) -> __m256i {
    let p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    _mm256_madd_epi16(p, _mm256_set1_epi16(1))
}

/// Unsigned weight bytes (below 64) times signed activations, pairs summed
/// to i16 lanes (lane k holds bytes 2k, 2k+1).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_u8_i16(w: __m256i, x: __m256i) -> __m256i {
    _mm256_maddubs_epi16(w, x)
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

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn hsum_f32(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn hsum_i32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    let s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01));
    _mm_cvtsi128_si32(s)
}

/// `acc + m * v` for 16 i32 products: m and v given as two halves of 8.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn mul_add_16(acc: __m256i, m: [__m256i; 2], v: &[i32]) -> __m256i {
    debug_assert!(v.len() >= 16);
    let v0 = _mm256_loadu_si256(v.as_ptr() as *const __m256i);
    let v1 = _mm256_loadu_si256(v.as_ptr().add(8) as *const __m256i);
    _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_mullo_epi32(m[0], v0), _mm256_mullo_epi32(m[1], v1)))
}
