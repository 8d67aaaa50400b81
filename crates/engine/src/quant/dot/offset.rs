//! Q4_1 weights (20-byte blocks: f16 d, f16 m, 16 bytes of nibbles as
//! Q4_0's) and Q5_1 weights (24-byte blocks: f16 d, f16 m, a u32 of fifth
//! bits, the nibbles as Q5_0's) against Q8_0 activations (llama.cpp's Q8_1
//! holds the same integers). Values are `d * q + m`: a group adds
//! `d * S + m * G` (`Combine::add_offset`), G the activations' group sum.
//! One code for both types, the 32-value types with an offset: `FIFTH`
//! says whether the blocks carry fifth bits (Q5_1).

use super::{blocks, f16_to_f32, scalar_blocks, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::{q4_1, q5_1};

/// Block bytes of Q4_1 or, with fifth bits, Q5_1.
const fn block_bytes(fifth: bool) -> usize {
    if fifth { q5_1::BLOCK_BYTES } else { q4_1::BLOCK_BYTES }
}

/// Block `i` (groups 2i, 2i+1) into each token's combine.
#[inline(always)]
fn block<const N: usize, const FIFTH: bool>(acc: &mut [Combine; N], i: usize, b: &[u8], a: &[&QuantizedActs; N]) {
    let (d, m) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
    let (qh, qs) = if FIFTH { (u32::from_le_bytes([b[4], b[5], b[6], b[7]]), &b[8..24]) } else { (0, &b[4..20]) };
    for (c, x) in acc.iter_mut().zip(a) {
        let q = &x.qs[32 * i..32 * i + 32];
        let (mut lo, mut hi) = (0i32, 0i32);
        for (j, &n) in qs.iter().enumerate() {
            lo += ((n & 15) as i32 | (((qh >> j) & 1) << 4) as i32) * q[j] as i32;
            hi += ((n >> 4) as i32 | (((qh >> (j + 16)) & 1) << 4) as i32) * q[j + 16] as i32;
        }
        c.add_offset(2 * i, x.group_scale[2 * i], (d, lo), (m, x.group_sum[2 * i]));
        c.add_offset(2 * i + 1, x.group_scale[2 * i + 1], (d, hi), (m, x.group_sum[2 * i + 1]));
    }
}

pub fn scalar<const N: usize, const FIFTH: bool>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let bb = block_bytes(FIFTH);
    let nb = blocks(row, &a, bb, 32);
    scalar_blocks([Combine::default(); N], row, &a, bb, (0, nb), block::<N, FIFTH>)
}

/// Four blocks a step: the unsigned values (Q5_1's as Q5_0's) times
/// activations (`dot_u8`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize, const FIFTH: bool>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    let bb = block_bytes(FIFTH);
    let nb = blocks(row, &a, bb, 32);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    for (k, b) in row.chunks_exact(4 * bb).take(nb / 4).enumerate() {
        let mut w = [_mm256_setzero_si256(); 4];
        for (m, w) in w.iter_mut().enumerate() {
            let blk = &b[m * bb..];
            *w = if FIFTH { super::q5_0::weights_avx2(blk, 4) } else { nibbles(load16(&blk[4..])) };
        }
        let (sc, m) = d_and_m(b, bb);
        for tk in 0..N {
            let x = 128 * k;
            let p = [dot_u8(w[0], ap.qs(tk, x)), dot_u8(w[1], ap.qs(tk, x + 32)), dot_u8(w[2], ap.qs(tk, x + 64)), dot_u8(w[3], ap.qs(tk, x + 96))];
            t[tk] = accumulate(t[tk], terms_offset(ap.scales(tk, 8 * k), (sc, group_sums(p)), (m, ap.sums(tk, 8 * k))));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, bb, (nb / 4 * 4, nb), block::<N, FIFTH>)
}

/// The d and m of four consecutive blocks of `bb` bytes, each twice (one
/// per group).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn d_and_m(b: &[u8], bb: usize) -> (core::arch::x86_64::__m256, core::arch::x86_64::__m256) {
    use super::x86::f16;
    use core::arch::x86_64::*;
    let d = [f16(b), f16(&b[bb..]), f16(&b[2 * bb..]), f16(&b[3 * bb..])];
    let m = [f16(&b[2..]), f16(&b[bb + 2..]), f16(&b[2 * bb + 2..]), f16(&b[3 * bb + 2..])];
    (_mm256_setr_ps(d[0], d[0], d[1], d[1], d[2], d[2], d[3], d[3]), _mm256_setr_ps(m[0], m[0], m[1], m[1], m[2], m[2], m[3], m[3]))
}

/// Two blocks a step, products by `dot16`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize, const FIFTH: bool>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let bb = block_bytes(FIFTH);
    let nb = blocks(row, &a, bb, 32);
    let c = Consts::new();
    // A block's values in two vectors of 16 (its groups): the nibble, with 16 added where
    // Q5_1's fifth bit is set.
    let values = |b: &[u8]| -> [v128; 2] {
        if FIFTH {
            let (set0, set1) = bits_to_bytes(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), &c);
            let (lo, hi) = nibbles(load16(&b[8..]), &c);
            [v128_or(lo, v128_and(set0, c.b16)), v128_or(hi, v128_and(set1, c.b16))]
        } else {
            let (lo, hi) = nibbles(load16(&b[4..]), &c);
            [lo, hi]
        }
    };
    let ap = Acts::new(&a);
    let mut t = [f32x4_splat(0.0); N];
    for (k, b) in row.chunks_exact(2 * bb).take(nb / 2).enumerate() {
        let ([w0, w1], [w2, w3]) = (values(b), values(&b[bb..]));
        let (d0, d1) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[bb], b[bb + 1]));
        let (m0, m1) = (f16_to_f32(b[2], b[3]), f16_to_f32(b[bb + 2], b[bb + 3]));
        let (sc, m) = (f32x4(d0, d0, d1, d1), f32x4(m0, m0, m1, m1));
        for (tk, t) in t.iter_mut().enumerate() {
            // SAFETY: blocks 2k, 2k + 1 (values 64k..64k + 64, groups 4k..4k + 4) are below `nb`.
            let (p, gs, gsum) = unsafe {
                let x = 64 * k;
                let p = [dot16(w0, ap.qs(tk, x)), dot16(w1, ap.qs(tk, x + 16)), dot16(w2, ap.qs(tk, x + 32)), dot16(w3, ap.qs(tk, x + 48))];
                (p, ap.scales(tk, 4 * k), ap.sums(tk, 4 * k))
            };
            *t = f32x4_add(*t, terms_offset(gs, (sc, group_sums(p)), (m, gsum)));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, bb, (nb / 2 * 2, nb), block::<N, FIFTH>)
}
