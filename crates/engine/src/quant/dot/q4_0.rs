//! Q4_0 weights (18-byte blocks: f16 scale, 16 bytes of nibbles; low
//! nibbles are values 0..16, high ones 16..32; offset 8) against Q8_0
//! activations. Structured as the Q8_0 kernels; AVX2 multiplies the
//! unsigned nibbles and takes 8 times the activations' group sums off.

use super::{blocks, f16_to_f32, scalar_blocks, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q4_0::BLOCK_BYTES;

/// Block `i` (groups 2i, 2i+1) into each token's combine.
#[inline(always)]
fn block<const N: usize>(acc: &mut [Combine; N], i: usize, b: &[u8], a: &[&QuantizedActs; N]) {
    let d = f16_to_f32(b[0], b[1]);
    for (c, x) in acc.iter_mut().zip(a) {
        let q = &x.qs[32 * i..32 * i + 32];
        let (mut lo, mut hi) = (0i32, 0i32);
        for (j, &n) in b[2..18].iter().enumerate() {
            lo += ((n & 15) as i32 - 8) * q[j] as i32;
            hi += ((n >> 4) as i32 - 8) * q[j + 16] as i32;
        }
        c.add(2 * i, x.group_scale[2 * i], d, lo);
        c.add(2 * i + 1, x.group_scale[2 * i + 1], d, hi);
    }
}

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    scalar_blocks([Combine::default(); N], row, &a, BLOCK_BYTES, (0, nb), block)
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
        let w = [nibbles(load16(&b[2..])), nibbles(load16(&b[BB + 2..])), nibbles(load16(&b[2 * BB + 2..])), nibbles(load16(&b[3 * BB + 2..]))];
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
            // The offset of 8 comes off as 8 times the activations' group sums.
            let s = _mm256_sub_epi32(group_sums(p), _mm256_slli_epi32(ap.sums(tk, 8 * k), 3));
            t[tk] = accumulate(t[tk], terms(ap.scales(tk, 8 * k), sc, s));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 4 * 4, nb), block)
}

/// As `avx2`, each token's 8 group sums from two VNNI products
/// (`x86_512::offset_groups`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn avx512<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::{load16, nibbles, to_array};
    use super::x86_512::offset_groups;
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    match offset_groups::<N, 3>(row, &a, (nb, BLOCK_BYTES), |b: &[u8]| nibbles(load16(&b[2..]))) {
        Some(t) => scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BLOCK_BYTES, (nb / 4 * 4, nb), block),
        None => avx2(row, a),
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    const BB: usize = BLOCK_BYTES;
    let nb = blocks(row, &a, BB, 32);
    let eight = i8x16_splat(8);
    let c = Consts::new();
    let mut t = [f32x4_splat(0.0); N];
    for (k, b) in row.chunks_exact(2 * BB).take(nb / 2).enumerate() {
        let (lo0, hi0) = nibbles(load16(&b[2..]), &c);
        let (lo1, hi1) = nibbles(load16(&b[BB + 2..]), &c);
        let w = [i8x16_sub(lo0, eight), i8x16_sub(hi0, eight), i8x16_sub(lo1, eight), i8x16_sub(hi1, eight)];
        let (d0, d1) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[BB], b[BB + 1]));
        let sc = f32x4(d0, d0, d1, d1);
        for (tk, x) in a.iter().enumerate() {
            let q = &x.qs[64 * k..];
            let p = [dot16(w[0], load16_i8(q)), dot16(w[1], load16_i8(&q[16..])), dot16(w[2], load16_i8(&q[32..])), dot16(w[3], load16_i8(&q[48..]))];
            t[tk] = f32x4_add(t[tk], terms(load4_f32(&x.group_scale[4 * k..]), sc, group_sums(p)));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 2 * 2, nb), block)
}

/// The nibbles (valid 7-bit operands, offset 8) multiplied by relaxed
/// SIMD's dot product on regrouped weights and activations
/// (`wasm::offset_groups`); activations without their regrouped values get
/// `simd128`.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    match offset_groups::<N, 3>(row, &a, (nb, BLOCK_BYTES), |b, c| nibbles(load16(&b[2..]), c)) {
        Some(t) => scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BLOCK_BYTES, (nb / 2 * 2, nb), block),
        None => simd128(row, a),
    }
}
