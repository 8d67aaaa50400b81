//! Q2_K weights (84-byte blocks of 256, see `quant::q2_k`) against Q8_K
//! activations. Group g's values are `d * sc_g * q - dmin * m_g`: a block
//! sums `sc_g` times its products and `m_g` times the activations' group
//! sums in integers (see `k_block`). The x86 kernels take the 32 values of
//! groups 2v, 2v + 1 (one shift of 32 bytes) a vector, as Q6_K's.

use super::{blocks, f16_to_f32, k_block};
#[cfg(target_arch = "x86_64")]
use super::k_term;
use crate::quant::act::QuantizedActs;
use crate::quant::q2_k::{group_bytes, BLOCK_BYTES};

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16_to_f32(b[80], b[81]), f16_to_f32(b[82], b[83]));
        for (t, x) in t.iter_mut().zip(&a) {
            let (mut s, mut m) = (0i32, 0i32);
            for g in 0..16 {
                let (at, sh) = group_bytes(g);
                let q = &x.qs[256 * i + 16 * g..256 * i + 16 * g + 16];
                let p: i32 = b[at..at + 16].iter().zip(q).map(|(&w, &v)| ((w >> sh) & 3) as i32 * v as i32).sum();
                s += (b[g] & 15) as i32 * p;
                m += (b[g] >> 4) as i32 * x.group_sum[16 * i + g];
            }
            *t = k_block(*t, x.group_scale[16 * i], d, s, dmin, m);
        }
    }
    t
}

/// Values times activations (`maddubs`), times the group scale (`madd`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::q6_k::vector_scales;
    use super::x86::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    let (m2, m4) = (_mm256_set1_epi8(3), _mm_set1_epi8(15));
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16(&b[80..]), f16(&b[82..]));
        let sm = load16(b);
        let sc = vector_scales(_mm256_cvtepu8_epi16(_mm_and_si128(sm, m4)));
        let mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        let mut w = [_mm256_setzero_si256(); 8];
        for (v, w) in w.iter_mut().enumerate() {
            *w = _mm256_and_si256(shr16(load32(&b[16 + 32 * (v / 4)..]), 2 * (v % 4) as u32), m2);
        }
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let s = scaled_dots(&w, &sc, &ap, tk, x);
            let (s, m) = sum2(s, _mm256_madd_epi16(mins, ap.sums16(tk, 16 * i)));
            *t = add_lane0(*t, k_term(ap.scale(tk, 16 * i), d, s, dmin, m));
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

/// As `simd128`, the 2-bit values multiplied by relaxed SIMD's dot product.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    wasm_kernel(row, a, Acts::new(&a), (|v| i16x8_splat(v as i16), group16_relaxed))
}

/// The wasm kernels (`wasm::groups16_kernel`); the mins against the
/// activations' group sums at the end of a block.
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
        let mins = u8x16_shr(load16(b), 4);
        ((f16_to_f32(b[80], b[81]), f16_to_f32(b[82], b[83])), (u16x8_extend_low_u8x16(mins), u16x8_extend_high_u8x16(mins)))
    };
    let step = |b: &[u8], _: &_, st: usize, c: &Consts| {
        // Step st = 2n + k2: groups 8n + 4k2 + (0..4), bit pairs 2k2 and 2k2 + 1 of
        // bytes 16 + 32n + (0..32).
        let (n, sh) = (st / 2, 4 * (st as u32 % 2));
        let (q0, q1) = (load16(&b[16 + 32 * n..]), load16(&b[32 + 32 * n..]));
        let w = [q0, q1, u16x8_shr(q0, 2), u16x8_shr(q1, 2)].map(|q| v128_and(u16x8_shr(q, sh), c.b3));
        (w, [0, 1, 2, 3].map(|g| (b[4 * st + g] & 15) as i32))
    };
    let finish = |t: f32, &((d, dmin), mins): &((f32, f32), (v128, v128)), ap: &Acts<N>, (tk, i): (usize, usize), s: v128| {
        // SAFETY: block i (groups 16i..16i + 16) is below the bounded blocks.
        let (m, ad) = unsafe { (ap.times_sums(tk, 16 * i, mins), ap.scale(tk, 16 * i)) };
        let (s, m) = sum2(s, m);
        k_block(t, ad, d, s, dmin, m)
    };
    groups16_kernel(row, a, ap, BLOCK_BYTES, block, step, group, finish)
}
