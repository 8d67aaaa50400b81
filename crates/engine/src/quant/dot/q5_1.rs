//! Q5_1 weights (24-byte blocks: f16 d, f16 m, a u32 of fifth bits, 16
//! bytes of nibbles as Q5_0's) against Q8_0 activations; summed as Q4_1.

use super::{blocks, f16_to_f32, scalar_blocks, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q5_1::BLOCK_BYTES;

/// Block `i` (groups 2i, 2i+1) into each token's combine.
#[inline(always)]
fn block<const N: usize>(acc: &mut [Combine; N], i: usize, b: &[u8], a: &[&QuantizedActs; N]) {
    let (d, m) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    for (c, x) in acc.iter_mut().zip(a) {
        let q = &x.qs[32 * i..32 * i + 32];
        let (mut lo, mut hi) = (0i32, 0i32);
        for (j, &n) in b[8..24].iter().enumerate() {
            lo += ((n & 15) as i32 | (((qh >> j) & 1) << 4) as i32) * q[j] as i32;
            hi += ((n >> 4) as i32 | (((qh >> (j + 16)) & 1) << 4) as i32) * q[j + 16] as i32;
        }
        c.add_offset(2 * i, x.group_scale[2 * i], (d, lo), (m, x.group_sum[2 * i]));
        c.add_offset(2 * i + 1, x.group_scale[2 * i + 1], (d, hi), (m, x.group_sum[2 * i + 1]));
    }
}

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    scalar_blocks([Combine::default(); N], row, &a, BLOCK_BYTES, (0, nb), block)
}

/// Four blocks a step, the unsigned 5-bit values as Q5_0's (`dot_u8`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::q5_0::weights_avx2;
    use super::x86::*;
    use core::arch::x86_64::*;
    const BB: usize = BLOCK_BYTES;
    let nb = blocks(row, &a, BB, 32);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    for (k, b) in row.chunks_exact(4 * BB).take(nb / 4).enumerate() {
        let w = [weights_avx2(b, 4), weights_avx2(&b[BB..], 4), weights_avx2(&b[2 * BB..], 4), weights_avx2(&b[3 * BB..], 4)];
        let (sc, m) = super::q4_1::d_and_m(b, BB);
        for tk in 0..N {
            let x = 128 * k;
            let p = [dot_u8(w[0], ap.qs(tk, x)), dot_u8(w[1], ap.qs(tk, x + 32)), dot_u8(w[2], ap.qs(tk, x + 64)), dot_u8(w[3], ap.qs(tk, x + 96))];
            t[tk] = accumulate(t[tk], terms_offset(ap.scales(tk, 8 * k), (sc, group_sums(p)), (m, ap.sums(tk, 8 * k))));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 4 * 4, nb), block)
}

/// Two blocks a step (`q4_1::wasm_offset_kernel`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let c = Consts::new();
    let values = |b: &[u8]| {
        let (set0, set1) = bits_to_bytes(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), &c);
        let (lo, hi) = nibbles(load16(&b[8..]), &c);
        [v128_or(lo, v128_and(set0, c.b16)), v128_or(hi, v128_and(set1, c.b16))]
    };
    super::q4_1::wasm_offset_kernel(row, a, (BLOCK_BYTES, block), |b| {
        let ([w0, w1], [w2, w3]) = (values(b), values(&b[BLOCK_BYTES..]));
        [w0, w1, w2, w3]
    })
}
