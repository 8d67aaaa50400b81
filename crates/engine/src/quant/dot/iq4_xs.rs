//! IQ4_XS weights (136-byte blocks of 256, see `quant::iq4_xs`) against
//! Q8_K activations. A block sums each sub-block's grid products times its
//! signed scale in integers (see `k_block_nomin`); the SIMD kernels look
//! the grid up by byte shuffle as IQ4_NL's do.

use super::{blocks, f16_to_f32, k_block_nomin};
#[cfg(target_arch = "x86_64")]
use super::k_term_nomin;
use crate::quant::act::QuantizedActs;
use crate::quant::iq4_nl::VALUES;
use crate::quant::iq4_xs::{scale, BLOCK_BYTES};

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16_to_f32(b[0], b[1]);
        for (t, x) in t.iter_mut().zip(&a) {
            let mut s = 0i32;
            for ib in 0..8 {
                let q = &x.qs[256 * i + 32 * ib..256 * i + 32 * ib + 32];
                let p: i32 = b[8 + 16 * ib..24 + 16 * ib]
                    .iter()
                    .enumerate()
                    .map(|(j, &n)| VALUES[(n & 15) as usize] as i32 * q[j] as i32 + VALUES[(n >> 4) as usize] as i32 * q[j + 16] as i32)
                    .sum();
                s += scale(b, ib) * p;
            }
            *t = k_block_nomin(*t, x.group_scale[16 * i], d, s);
        }
    }
    t
}

/// Signed products in i16 pairs (`maddubs` of |w| and x with w's sign),
/// times the sub-block scale (`madd`), eight sub-blocks into i32 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let grid = super::iq4_nl::grid_avx2();
    let mut t = [_mm_setzero_ps(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16(b);
        let (mut w, mut sc) = ([_mm256_setzero_si256(); 8], [_mm256_setzero_si256(); 8]);
        for ib in 0..8 {
            w[ib] = _mm256_shuffle_epi8(grid, nibbles(load16(&b[8 + 16 * ib..])));
            sc[ib] = _mm256_set1_epi16(scale(b, ib) as i16);
        }
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let mut s = _mm256_setzero_si256();
            for ib in 0..8 {
                let p = _mm256_maddubs_epi16(_mm256_sign_epi8(w[ib], w[ib]), _mm256_sign_epi8(ap.qs(tk, x + 32 * ib), w[ib]));
                s = _mm256_add_epi32(s, _mm256_madd_epi16(p, sc[ib]));
            }
            let (s, _) = sum2(s, s);
            *t = add_lane0(*t, k_term_nomin(ap.scale(tk, 16 * i), d, s));
        }
    }
    t.map(|v| _mm_cvtss_f32(v))
}

/// A sub-block a step: grid values by `u8x16_swizzle`, products by
/// `dot16`, times the scale in i32 lanes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let c = Consts::new();
    let grid = core::hint::black_box(load16(&VALUES.map(|v| v as u8)));
    let ap = Acts::new(&a);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16_to_f32(b[0], b[1]);
        let mut s = [i32x4_splat(0); N];
        // An opaque count keeps LLVM from unrolling the loop (see Q6_K's).
        for ib in 0..core::hint::black_box(8) {
            let (lo, hi) = nibbles(load16(&b[8 + 16 * ib..]), &c);
            let (wl, wh) = (u8x16_swizzle(grid, lo), u8x16_swizzle(grid, hi));
            let sc = i32x4_splat(scale(b, ib));
            for (tk, s) in s.iter_mut().enumerate() {
                let x = 256 * i + 32 * ib;
                // SAFETY: block i (values 256i..256i + 256) is below `nb`.
                let (ql, qh) = unsafe { (ap.qs(tk, x), ap.qs(tk, x + 16)) };
                *s = i32x4_add(*s, i32x4_mul(i32x4_add(dot16(wl, ql), dot16(wh, qh)), sc));
            }
        }
        for (tk, (t, s)) in t.iter_mut().zip(s).enumerate() {
            // SAFETY: block i (groups 16i..16i + 16) is below `nb`.
            let ad = unsafe { ap.scale(tk, 16 * i) };
            let (s, _) = sum2(s, s);
            *t = k_block_nomin(*t, ad, d, s);
        }
    }
    t
}
