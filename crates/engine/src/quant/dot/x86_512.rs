//! AVX-512 building blocks for the x86_64 kernels that have an `avx512`
//! version. They work on 256-bit vectors: AVX-512 VL brings VNNI's
//! `dpbusd` (u8 times i8, four products to an i32 lane, one instruction
//! where AVX2 needs two, and no i16 saturation) and the mask registers
//! (one instruction where AVX2 spreads bits to bytes in four) to them.
//! The AVX2 layout of groups, their sums and the order they are combined
//! in stay as they are, so results stay bit-identical to the scalar
//! kernels. Kernels on 512-bit registers (two blocks a register, the group
//! sums gathered by unpacks and one permute) were tried: for every type
//! they were no faster, mostly slower, on the machine measured (AMD Zen 4,
//! which executes 512-bit operations as two 256-bit halves).

use core::arch::x86_64::*;

/// Products of unsigned weight bytes and signed activations summed in
/// fours, as 8 i32 lanes (as `x86::dot_u8`, without its 63 bound).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn dot_u8(w: __m256i, x: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, x)
}

/// `dot_u8` for signed weights `w`, given with `abs` = |w| (taken once
/// per weight register): x takes w's sign. Activations lie in
/// [-127, 127], so that is exact, and |-128| reads as 128 unsigned.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn dot_i8(abs: __m256i, w: __m256i, x: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(_mm256_setzero_si256(), abs, _mm256_sign_epi8(x, w))
}

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
