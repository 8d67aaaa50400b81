//! Q3_K weights (110-byte blocks of 256, see `quant::q3_k`) against Q8_K
//! activations. Values are `d * sc_g * (u - 4)` with u = q + 4 * (high
//! bit) in 0..8: the SIMD kernels multiply u unsigned and take 4 times the
//! scaled activation group sums off. A block sums in integers (see
//! `k_block_nomin`).

use super::{blocks, f16_to_f32, k_block_nomin};
#[cfg(target_arch = "x86_64")]
use super::k_term_nomin;
use crate::quant::act::QuantizedActs;
use crate::quant::q3_k::{group_bytes, scales, BLOCK_BYTES};

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16_to_f32(b[108], b[109]);
        let sc = scales(b);
        for (t, x) in t.iter_mut().zip(&a) {
            let mut s = 0i32;
            for (g, &sc) in sc.iter().enumerate() {
                let (qa, ha, sh, bit) = group_bytes(g);
                let q = &x.qs[256 * i + 16 * g..256 * i + 16 * g + 16];
                let w = b[qa..qa + 16].iter().zip(&b[ha..ha + 16]).map(|(&q, &h)| ((q >> sh) & 3 | ((h >> bit) & 1) << 2) as i32 - 4);
                s += sc as i32 * w.zip(q).map(|(w, &v)| w * v as i32).sum::<i32>();
            }
            *t = k_block_nomin(*t, x.group_scale[16 * i], d, s);
        }
    }
    t
}

/// Unsigned values times activations (`maddubs`), times the group scale
/// (`madd`), as Q6_K's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::q6_k::vector_scales;
    use super::x86::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    let (m2, one) = (_mm256_set1_epi8(3), _mm256_set1_epi8(1));
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16(&b[108..]);
        let sc = scales(b);
        let sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(sc.as_ptr() as *const __m128i));
        let scv = vector_scales(sc16);
        let hm = load32(b);
        let mut w = [_mm256_setzero_si256(); 8];
        for (v, w) in w.iter_mut().enumerate() {
            // Vector v = 4n + j: groups 2v, 2v + 1.
            let (n, j) = (v / 4, (v % 4) as u32);
            let low = _mm256_and_si256(shr16(load32(&b[32 + 32 * n..]), 2 * j), m2);
            let high = _mm256_slli_epi16(_mm256_and_si256(shr16(hm, 4 * n as u32 + j), one), 2);
            *w = _mm256_or_si256(low, high);
        }
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let s = scaled_dots(&w, &scv, &ap, tk, x);
            let s = _mm256_sub_epi32(s, _mm256_slli_epi32(_mm256_madd_epi16(sc16, ap.sums16(tk, 16 * i)), 2));
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

/// As `simd128`, the unsigned 3-bit values multiplied by relaxed SIMD's dot product.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    wasm_kernel(row, a, Acts::new(&a), (|v| i16x8_splat(v as i16), group16_relaxed))
}

/// The wasm kernels (`wasm::groups16_kernel`): unsigned values, 4 times the
/// scaled activation group sums off at the end of a block.
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
    /// d, the scales as bytes and as i16, the high bits' 32 bytes.
    type Header = (f32, [i8; 16], (v128, v128), (v128, v128));
    let block = |b: &[u8]| -> Header {
        let sc = scales(b);
        let scv = load16(&sc.map(|v| v as u8));
        let sc16 = (i16x8_extend_low_i8x16(scv), i16x8_extend_high_i8x16(scv));
        (f16_to_f32(b[108], b[109]), sc, sc16, (load16(b), load16(&b[16..])))
    };
    let step = |b: &[u8], &(_, sc, _, (hm0, hm1)): &Header, st: usize, c: &Consts| {
        // Step st = 2n + k2: groups 8n + 4k2 + (0..4), j = 2k2 and 2k2 + 1.
        let (n, j) = (st / 2, 2 * (st as u32 % 2));
        let (q0, q1) = (load16(&b[32 + 32 * n..]), load16(&b[48 + 32 * n..]));
        let bit = 4 * n as u32 + j;
        let value = |q: v128, hm: v128, j: u32, bit: u32| {
            let low = v128_and(u16x8_shr(q, 2 * j), c.b3);
            v128_or(low, v128_and(u16x8_shl(u16x8_shr(hm, bit), 2), c.b4))
        };
        let w = [value(q0, hm0, j, bit), value(q1, hm1, j, bit), value(q0, hm0, j + 1, bit + 1), value(q1, hm1, j + 1, bit + 1)];
        (w, [0, 1, 2, 3].map(|g| sc[4 * st + g] as i32))
    };
    let finish = |t: f32, &(d, _, sc16, _): &Header, ap: &Acts<N>, (tk, i): (usize, usize), s: v128| {
        // SAFETY: block i (groups 16i..16i + 16) is below the bounded blocks.
        let (off, ad) = unsafe { (ap.times_sums(tk, 16 * i, sc16), ap.scale(tk, 16 * i)) };
        let (s, _) = sum2(i32x4_sub(s, i32x4_shl(off, 2)), off);
        k_block_nomin(t, ad, d, s)
    };
    groups16_kernel(row, a, ap, BLOCK_BYTES, block, step, group, finish)
}
