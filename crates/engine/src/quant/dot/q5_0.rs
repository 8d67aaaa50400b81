//! Q5_0 weights (22-byte blocks: f16 scale, a u32 of fifth bits, 16 bytes
//! of nibbles; offset 16) against Q8_0 activations. Gemma 3's most common
//! weight type. Structured as the Q8_0 kernels; AVX2 multiplies the
//! unsigned 5-bit values and takes 16 times the activations' group sums off.

use super::{blocks, f16_to_f32, scalar_blocks, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q5_0::BLOCK_BYTES;

/// Block `i` (groups 2i, 2i+1) into each token's combine.
#[inline(always)]
fn block<const N: usize>(acc: &mut [Combine; N], i: usize, b: &[u8], a: &[&QuantizedActs; N]) {
    let d = f16_to_f32(b[0], b[1]);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    for (c, x) in acc.iter_mut().zip(a) {
        let q = &x.qs[32 * i..32 * i + 32];
        let (mut lo, mut hi) = (0i32, 0i32);
        for (j, &n) in b[6..22].iter().enumerate() {
            let wl = (n & 15) as i32 | (((qh >> j) & 1) << 4) as i32;
            let wh = (n >> 4) as i32 | (((qh >> (j + 16)) & 1) << 4) as i32;
            lo += (wl - 16) * q[j] as i32;
            hi += (wh - 16) * q[j + 16] as i32;
        }
        c.add(2 * i, x.group_scale[2 * i], d, lo);
        c.add(2 * i + 1, x.group_scale[2 * i + 1], d, hi);
    }
}

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    scalar_blocks([Combine::default(); N], row, &a, BLOCK_BYTES, (0, nb), block)
}

/// The 32 values, unsigned (0..32), of the fifth bits at `b[at..at + 4]`
/// and the nibbles after them: the nibble with 16 added where the fifth
/// bit is set (Q5_0: `at` 2, Q5_1: 4).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn weights_avx2(b: &[u8], at: usize) -> core::arch::x86_64::__m256i {
    use super::x86::*;
    use core::arch::x86_64::*;
    let high = _mm256_and_si256(bits_to_bytes(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])), _mm256_set1_epi8(16));
    _mm256_or_si256(nibbles(load16(&b[at + 4..])), high)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    const BB: usize = BLOCK_BYTES;
    let nb = blocks(row, &a, BB, 32);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    for (k, b) in row.chunks_exact(4 * BB).take(nb / 4).enumerate() {
        let w = [weights_avx2(b, 2), weights_avx2(&b[BB..], 2), weights_avx2(&b[2 * BB..], 2), weights_avx2(&b[3 * BB..], 2)];
        let (d0, d1, d2, d3) = (f16(b), f16(&b[BB..]), f16(&b[2 * BB..]), f16(&b[3 * BB..]));
        let sc = _mm256_setr_ps(d0, d0, d1, d1, d2, d2, d3, d3);
        for tk in 0..N {
            let x = 128 * k;
            let p = [
                dot_u8(w[0], ap.qs(tk, x)),
                dot_u8(w[1], ap.qs(tk, x + 32)),
                dot_u8(w[2], ap.qs(tk, x + 64)),
                dot_u8(w[3], ap.qs(tk, x + 96)),
            ];
            // The offset of 16 comes off as 16 times the activations' group sums.
            let s = _mm256_sub_epi32(group_sums(p), _mm256_slli_epi32(ap.sums(tk, 8 * k), 4));
            t[tk] = accumulate(t[tk], terms(ap.scales(tk, 8 * k), sc, s));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 4 * 4, nb), block)
}

/// As `avx2`; the fifth bits come in through a mask register, and each
/// token's 8 group sums come from two VNNI products (`x86_512::offset_groups`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn avx512<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::to_array;
    use super::x86_512::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    let weights = |b: &[u8]| add_where(nibbles(&b[6..]), u32::from_le_bytes([b[2], b[3], b[4], b[5]]), 16);
    match offset_groups::<N, 4>(row, &a, (nb, BLOCK_BYTES), weights) {
        Some(t) => scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BLOCK_BYTES, (nb / 4 * 4, nb), block),
        None => avx2(row, a),
    }
}

/// Activations come split (`wasm::Split`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N], s: [&super::wasm::Split; N]) -> [f32; N] {
    use super::wasm::*;
    // SAFETY (the load): the kernel asks only for values below its bounded blocks.
    wasm_kernel(row, a, Acts::with_split(&a, &s), |ap, t, at| unsafe { ap.split(t, at) }, |w, x, k| dot_even_odd(even_odd_u7(w, k), x))
}

/// As `simd128`, the values (valid 7-bit operands) multiplied by relaxed
/// SIMD's dot product, on weights and activations regrouped so that each
/// token's 4 group sums come out of one register (`wasm::offset_groups`).
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    match offset_groups::<N, 4>(row, &a, (nb, BLOCK_BYTES), wasm_weights) {
        Some(t) => scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BLOCK_BYTES, (nb / 2 * 2, nb), block),
        // SAFETY (the load): the kernel asks only for values below its bounded blocks.
        None => wasm_kernel(row, a, Acts::new(&a), |ap, t, at| unsafe { ap.qs(t, at) }, dot16_u7),
    }
}

/// A block's values in two halves (groups): the nibble, 16 added where the
/// fifth bit is set.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn wasm_weights(b: &[u8], k: &super::wasm::Consts) -> (core::arch::wasm32::v128, core::arch::wasm32::v128) {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let (set0, set1) = bits_to_bytes(u32::from_le_bytes([b[2], b[3], b[4], b[5]]), k);
    let (lo, hi) = nibbles(load16(&b[6..]), k);
    (v128_or(lo, v128_and(set0, k.b16)), v128_or(hi, v128_and(set1, k.b16)))
}

/// The wasm kernels, two blocks a step; `load` reads 16 activations of a
/// token from `ap` in the form `dot` takes, `dot` sums 16 products of
/// unsigned 5-bit values and activations into 4 i32 lanes. The values are taken
/// unsigned (0..32) as in `avx2`: the offset of 16 comes off as 16 times
/// the activations' group sums.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn wasm_kernel<const N: usize, X>(
    row: &[u8],
    a: [&QuantizedActs; N],
    ap: super::wasm::Acts<N>,
    load: impl Fn(&super::wasm::Acts<N>, usize, usize) -> X,
    dot: impl Fn(core::arch::wasm32::v128, X, &super::wasm::Consts) -> core::arch::wasm32::v128,
) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    const BB: usize = BLOCK_BYTES;
    let nb = blocks(row, &a, BB, 32);
    let c = Consts::new();
    let mut t = [f32x4_splat(0.0); N];
    for (k, b) in row.chunks_exact(2 * BB).take(nb / 2).enumerate() {
        let ((w0, w1), (w2, w3)) = (wasm_weights(b, &c), wasm_weights(&b[BB..], &c));
        let (d0, d1) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[BB], b[BB + 1]));
        let sc = f32x4(d0, d0, d1, d1);
        for (tk, t) in t.iter_mut().enumerate() {
            // SAFETY: blocks 2k, 2k + 1 (values 64k..64k + 64, groups 4k..4k + 4) are below `nb`.
            let (p, gs, gsum) = unsafe {
                let x = 64 * k;
                let p = [dot(w0, load(&ap, tk, x), &c), dot(w1, load(&ap, tk, x + 16), &c), dot(w2, load(&ap, tk, x + 32), &c), dot(w3, load(&ap, tk, x + 48), &c)];
                (p, ap.scales(tk, 4 * k), ap.sums(tk, 4 * k))
            };
            let s = i32x4_sub(group_sums(p), i32x4_shl(gsum, 4));
            *t = f32x4_add(*t, terms(gs, sc, s));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 2 * 2, nb), block)
}
