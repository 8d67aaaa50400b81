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
            let mut s = _mm256_setzero_si256();
            for (v, w) in w.iter().enumerate() {
                s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(*w, ap.qs(tk, x + 32 * v)), sc[v]));
            }
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
    // SAFETY (the load): the kernel asks only for values below its bounded blocks.
    let group = |ap: &Acts<N>, t: usize, at: usize, w: v128, sc: v128, k: &Consts| unsafe {
        i32x4_mul(dot_even_odd(even_odd_u7(w, k), ap.split(t, at)), sc)
    };
    wasm_kernel(row, a, Acts::with_split(&a, &s), |v| i32x4_splat(v), group)
}

/// As `simd128`, the 2-bit values multiplied by relaxed SIMD's dot product.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    // SAFETY (the load): the kernel asks only for values below its bounded blocks.
    let group = |ap: &Acts<N>, t: usize, at: usize, w: v128, sc: v128, _: &Consts| unsafe {
        i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(ap.qs(t, at), w), sc)
    };
    wasm_kernel(row, a, Acts::new(&a), |v| i16x8_splat(v as i16), group)
}

/// The wasm kernels, structured as Q6_K's: 4 steps of 64 values (groups
/// 4st..4st + 4) a block; `group` sums 16 products of token `t`'s
/// activations from `at` times the scale `splat` made.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn wasm_kernel<const N: usize>(
    row: &[u8],
    a: [&QuantizedActs; N],
    ap: super::wasm::Acts<N>,
    splat: impl Fn(i32) -> core::arch::wasm32::v128,
    group: impl Fn(&super::wasm::Acts<N>, usize, usize, core::arch::wasm32::v128, core::arch::wasm32::v128, &super::wasm::Consts) -> core::arch::wasm32::v128,
) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    let c = Consts::new();
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16_to_f32(b[80], b[81]), f16_to_f32(b[82], b[83]));
        let mins = u8x16_shr(load16(b), 4);
        let mins16 = (u16x8_extend_low_u8x16(mins), u16x8_extend_high_u8x16(mins));
        let mut s = [i32x4_splat(0); N];
        // An opaque count keeps LLVM from unrolling the loop (see Q6_K's).
        for st in 0..core::hint::black_box(4) {
            // Step st = 2n + k2: groups 8n + 4k2 + (0..4), bit pairs 2k2 and 2k2 + 1 of
            // bytes 16 + 32n + (0..32).
            let (n, sh) = (st / 2, 4 * (st as u32 % 2));
            let (q0, q1) = (load16(&b[16 + 32 * n..]), load16(&b[32 + 32 * n..]));
            let w = [q0, q1, u16x8_shr(q0, 2), u16x8_shr(q1, 2)].map(|q| v128_and(u16x8_shr(q, sh), c.b3));
            let sc = [0, 1, 2, 3].map(|g| splat((b[4 * st + g] & 15) as i32));
            for (tk, s) in s.iter_mut().enumerate() {
                let x = 256 * i + 64 * st;
                let p0 = i32x4_add(group(&ap, tk, x, w[0], sc[0], &c), group(&ap, tk, x + 16, w[1], sc[1], &c));
                let p1 = i32x4_add(group(&ap, tk, x + 32, w[2], sc[2], &c), group(&ap, tk, x + 48, w[3], sc[3], &c));
                *s = i32x4_add(*s, i32x4_add(p0, p1));
            }
        }
        for (tk, (t, s)) in t.iter_mut().zip(s).enumerate() {
            // SAFETY: block i (groups 16i..16i + 16) is below `nb`.
            let (m, ad) = unsafe { (ap.times_sums(tk, 16 * i, mins16), ap.scale(tk, 16 * i)) };
            let (s, m) = sum2(s, m);
            *t = k_block(*t, ad, d, s, dmin, m);
        }
    }
    t
}
