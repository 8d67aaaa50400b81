//! Q6_K weights (210-byte blocks of 256: 128 bytes of low nibbles, 64 bytes
//! of 2-bit tops, 16 signed scales, one per 16 values, f16 d) against Q8_K
//! activations. Values are q - 32 with q in 0..64; the SIMD kernels multiply
//! q unsigned and subtract 32 times the activations' group sums. A block
//! sums its scaled products in integers (see `k_block_nomin`).

use super::{blocks, f16_to_f32, k_block_nomin};
#[cfg(target_arch = "x86_64")]
use super::k_term_nomin;
use crate::quant::act::QuantizedActs;
use crate::quant::q6_k::BLOCK_BYTES;

/// Element `128n + 32k + l` (l < 32) is built from `ql[64n + 32(k & 1) + l]`
/// (low nibble for k < 2, high for k >= 2) and bits 2k, 2k+1 of `qh[32n + l]`;
/// its scale is that of group `8n + 2k + l / 16`.
pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16_to_f32(b[208], b[209]);
        for (t, x) in t.iter_mut().zip(&a) {
            let q = &x.qs[256 * i..256 * i + 256];
            let mut s = 0i32;
            for n in 0..2 {
                for k in 0..4 {
                    for l in 0..32 {
                        let low = b[64 * n + 32 * (k & 1) + l] >> (4 * (k >> 1)) & 15;
                        let top = b[128 + 32 * n + l] >> (2 * k) & 3;
                        let sc = b[192 + 8 * n + 2 * k + l / 16] as i8 as i32;
                        s += sc * ((low | top << 4) as i32 - 32) * q[128 * n + 32 * k + l] as i32;
                    }
                }
            }
            *t = k_block_nomin(*t, x.group_scale[16 * i], d, s);
        }
    }
    t
}

/// The unsigned values of a block's half `n` (128 values, groups 8n..8n + 8),
/// 32 a vector.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn half_values(b: &[u8], n: usize) -> [core::arch::x86_64::__m256i; 4] {
    use super::x86::load32;
    use core::arch::x86_64::*;
    let m4 = _mm256_set1_epi8(0x0f);
    let (m03, m0c, m30, mc0) = (_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0c), _mm256_set1_epi8(0x30), _mm256_set1_epi8(0xc0u8 as i8));
    let ql0 = load32(&b[64 * n..]);
    let ql1 = load32(&b[64 * n + 32..]);
    let qh = load32(&b[128 + 32 * n..]);
    [
        _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m03), 4)),
        _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m0c), 2)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(qh, mc0), 2)),
    ]
}

/// The scales of the 8 vectors of values (`half_values`), as i16: groups
/// 2v and 2v + 1 in the low and high 16 lanes (also Q2_K's and Q3_K's).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn vector_scales(sc16: core::arch::x86_64::__m256i) -> [core::arch::x86_64::__m256i; 8] {
    use super::x86::broadcast_pairs;
    use core::arch::x86_64::*;
    let (lo, hi) = (broadcast_pairs(_mm256_castsi256_si128(sc16)), broadcast_pairs(_mm256_extracti128_si256(sc16, 1)));
    [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
}

/// A block for the x86 kernels: d, the unsigned values in 8 vectors of
/// 32, their scales (`vector_scales`), and the 16 scales as i16.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::type_complexity)]
unsafe fn decode(b: &[u8]) -> (f32, [core::arch::x86_64::__m256i; 8], [core::arch::x86_64::__m256i; 8], core::arch::x86_64::__m256i) {
    use super::x86::{f16, load16};
    use core::arch::x86_64::*;
    let sc16 = _mm256_cvtepi8_epi16(load16(&b[192..]));
    let (h0, h1) = (half_values(b, 0), half_values(b, 1));
    (f16(&b[208..]), [h0[0], h0[1], h0[2], h0[3], h1[0], h1[1], h1[2], h1[3]], vector_scales(sc16), sc16)
}

/// Values times activations (`maddubs`, no i16 pair reaches 2 * 63 * 127)
/// times the group scale (`madd`); 32 times the scaled group sums off.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, w, sc, sc16) = decode(b);
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let s = scaled_dots(&w, &sc, &ap, tk, x);
            let s = _mm256_sub_epi32(s, _mm256_slli_epi32(_mm256_madd_epi16(sc16, ap.sums16(tk, 16 * i)), 5));
            let (s, _) = sum2(s, s);
            *t = add_lane0(*t, k_term_nomin(ap.scale(tk, 16 * i), d, s));
        }
    }
    t.map(|v| _mm_cvtss_f32(v))
}

/// As `avx2`, the scale multiply and the add in one VNNI `dpwssd`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn avx512<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, w, sc, sc16) = decode(b);
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let s = super::x86_512::scaled_dots(&w, &sc, &ap, tk, x);
            let s = _mm256_sub_epi32(s, _mm256_slli_epi32(_mm256_madd_epi16(sc16, ap.sums16(tk, 16 * i)), 5));
            let (s, _) = sum2(s, s);
            *t = add_lane0(*t, k_term_nomin(ap.scale(tk, 16 * i), d, s));
        }
    }
    t.map(|v| _mm_cvtss_f32(v))
}

/// Activations come split (`wasm::Split`); a group's sum times its scale
/// in i32 lanes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N], s: [&super::wasm::Split; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    wasm_kernel(row, a, Acts::with_split(&a, &s), (|v| i32x4_splat(v), group16_split))
}

/// As `simd128`, the unsigned 6-bit values multiplied by relaxed SIMD's
/// dot product.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    wasm_kernel(row, a, Acts::new(&a), (|v| i16x8_splat(v as i16), group16_relaxed))
}

/// The wasm kernels (`wasm::groups16_kernel`): unsigned values, 32 times
/// the scaled activation group sums off at the end of a block.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn wasm_kernel<const N: usize>(
    row: &[u8],
    a: [&QuantizedActs; N],
    ap: super::wasm::Acts<N>,
    group: (impl Fn(i32) -> core::arch::wasm32::v128, impl Fn(&super::wasm::Acts<N>, usize, usize, core::arch::wasm32::v128, core::arch::wasm32::v128, &super::wasm::Consts) -> core::arch::wasm32::v128),
) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let block = |b: &[u8]| {
        let scales = load16(&b[192..]);
        (f16_to_f32(b[208], b[209]), (i16x8_extend_low_i8x16(scales), i16x8_extend_high_i8x16(scales)))
    };
    let step = |b: &[u8], _: &_, st: usize, c: &Consts| {
        // Step st = 2n + k2: values 128n + 64k2 + (0..64), groups 4st..4st + 4. Their low
        // bits are the low (k2 = 0) or high (k2 = 1) nibbles of ql[64n..64n + 64], their
        // top bits bit pairs 2k2 and 2k2 + 1 of qh[32n..32n + 32], so both come down by 4k2.
        let (n, sh) = (st / 2, 4 * (st as u32 % 2));
        let mut w = [c.m4; 4];
        for h in 0..2 {
            let ql0 = u16x8_shr(load16(&b[64 * n + 16 * h..]), sh);
            let ql1 = u16x8_shr(load16(&b[64 * n + 32 + 16 * h..]), sh);
            let qh = u16x8_shr(load16(&b[128 + 32 * n + 16 * h..]), sh);
            // (u16 shifts carry bits across bytes; the masks keep each byte's own.)
            w[h] = v128_or(v128_and(ql0, c.m4), v128_and(u16x8_shl(qh, 4), c.b30));
            w[2 + h] = v128_or(v128_and(ql1, c.m4), v128_and(u16x8_shl(qh, 2), c.b30));
        }
        (w, [0, 1, 2, 3].map(|g| b[192 + 4 * st + g] as i8 as i32))
    };
    let finish = |t: f32, &(d, sc16): &(f32, (v128, v128)), ap: &Acts<N>, (tk, i): (usize, usize), s: v128| {
        // SAFETY: block i (groups 16i..16i + 16) is below the bounded blocks.
        let (off, ad) = unsafe { (ap.times_sums(tk, 16 * i, sc16), ap.scale(tk, 16 * i)) };
        let (s, _) = sum2(i32x4_sub(s, i32x4_shl(off, 5)), off);
        k_block_nomin(t, ad, d, s)
    };
    groups16_kernel(row, a, ap, BLOCK_BYTES, block, step, group, finish)
}
