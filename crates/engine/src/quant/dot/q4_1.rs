//! Q4_1 weights (20-byte blocks: f16 d, f16 m, 16 bytes of nibbles as
//! Q4_0's) against Q8_0 activations (llama.cpp's Q8_1 holds the same
//! integers). Values are `d * q + m`: a group adds `d * S + m * G`
//! (`Combine::add_offset`), G the activations' group sum.

use super::{blocks, f16_to_f32, scalar_blocks, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q4_1::BLOCK_BYTES;

/// Block `i` (groups 2i, 2i+1) into each token's combine.
#[inline(always)]
fn block<const N: usize>(acc: &mut [Combine; N], i: usize, b: &[u8], a: &[&QuantizedActs; N]) {
    let (d, m) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
    for (c, x) in acc.iter_mut().zip(a) {
        let q = &x.qs[32 * i..32 * i + 32];
        let (mut lo, mut hi) = (0i32, 0i32);
        for (j, &n) in b[4..20].iter().enumerate() {
            lo += (n & 15) as i32 * q[j] as i32;
            hi += (n >> 4) as i32 * q[j + 16] as i32;
        }
        c.add_offset(2 * i, x.group_scale[2 * i], (d, lo), (m, x.group_sum[2 * i]));
        c.add_offset(2 * i + 1, x.group_scale[2 * i + 1], (d, hi), (m, x.group_sum[2 * i + 1]));
    }
}

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    scalar_blocks([Combine::default(); N], row, &a, BLOCK_BYTES, (0, nb), block)
}

/// Four blocks a step: unsigned nibbles times activations (`dot_u8`).
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
        let w = [nibbles(load16(&b[4..])), nibbles(load16(&b[BB + 4..])), nibbles(load16(&b[2 * BB + 4..])), nibbles(load16(&b[3 * BB + 4..]))];
        let (sc, m) = d_and_m(b, BB);
        for tk in 0..N {
            let x = 128 * k;
            let p = [dot_u8(w[0], ap.qs(tk, x)), dot_u8(w[1], ap.qs(tk, x + 32)), dot_u8(w[2], ap.qs(tk, x + 64)), dot_u8(w[3], ap.qs(tk, x + 96))];
            t[tk] = accumulate(t[tk], terms_offset(ap.scales(tk, 8 * k), (sc, group_sums(p)), (m, ap.sums(tk, 8 * k))));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 4 * 4, nb), block)
}

/// The d and m of four consecutive blocks of `bb` bytes, each twice (one
/// per group), for a type whose blocks open with f16 d and f16 m.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn d_and_m(b: &[u8], bb: usize) -> (core::arch::x86_64::__m256, core::arch::x86_64::__m256) {
    use super::x86::f16;
    use core::arch::x86_64::*;
    let d = [f16(b), f16(&b[bb..]), f16(&b[2 * bb..]), f16(&b[3 * bb..])];
    let m = [f16(&b[2..]), f16(&b[bb + 2..]), f16(&b[2 * bb + 2..]), f16(&b[3 * bb + 2..])];
    (_mm256_setr_ps(d[0], d[0], d[1], d[1], d[2], d[2], d[3], d[3]), _mm256_setr_ps(m[0], m[0], m[1], m[1], m[2], m[2], m[3], m[3]))
}

/// Two blocks a step, products by `dot16`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    let c = Consts::new();
    wasm_offset_kernel(row, a, (BLOCK_BYTES, block), |b| {
        let ((l0, h0), (l1, h1)) = (nibbles(load16(&b[4..]), &c), nibbles(load16(&b[BLOCK_BYTES + 4..]), &c));
        [l0, h0, l1, h1]
    })
}

/// The wasm kernel of the types whose 32-value blocks open with f16 d and
/// f16 m (Q4_1, Q5_1), two blocks a step: blocks of `bb` bytes, `block`
/// the scalar code for an odd last one, `values` decodes two blocks'
/// unsigned values, 16 a vector (groups in order).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub(super) fn wasm_offset_kernel<const N: usize>(
    row: &[u8],
    a: [&QuantizedActs; N],
    (bb, block): (usize, super::BlockFn<N>),
    values: impl Fn(&[u8]) -> [core::arch::wasm32::v128; 4],
) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, bb, 32);
    let ap = Acts::new(&a);
    let mut t = [f32x4_splat(0.0); N];
    for (k, b) in row.chunks_exact(2 * bb).take(nb / 2).enumerate() {
        let w = values(b);
        let (d0, d1) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[bb], b[bb + 1]));
        let (m0, m1) = (f16_to_f32(b[2], b[3]), f16_to_f32(b[bb + 2], b[bb + 3]));
        let (sc, m) = (f32x4(d0, d0, d1, d1), f32x4(m0, m0, m1, m1));
        for (tk, t) in t.iter_mut().enumerate() {
            // SAFETY: blocks 2k, 2k + 1 (values 64k..64k + 64, groups 4k..4k + 4) are below `nb`.
            let (p, gs, gsum) = unsafe {
                let x = 64 * k;
                let p = [dot16(w[0], ap.qs(tk, x)), dot16(w[1], ap.qs(tk, x + 16)), dot16(w[2], ap.qs(tk, x + 32)), dot16(w[3], ap.qs(tk, x + 48))];
                (p, ap.scales(tk, 4 * k), ap.sums(tk, 4 * k))
            };
            *t = f32x4_add(*t, terms_offset(gs, (sc, group_sums(p)), (m, gsum)));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, bb, (nb / 2 * 2, nb), block)
}
