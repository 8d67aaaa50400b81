//! IQ4_NL weights (18-byte blocks: f16 d, 16 bytes of nibbles indexing the
//! grid `VALUES`, laid out as Q4_0's) against Q8_0 activations. The SIMD
//! kernels look the grid up with a byte shuffle (its 16 values fill one
//! register) and multiply signed bytes; structured as the Q4_0 kernels.

use super::{blocks, f16_to_f32, scalar_blocks, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::iq4_nl::{BLOCK_BYTES, VALUES};

/// Block `i` (groups 2i, 2i+1) into each token's combine.
#[inline(always)]
fn block<const N: usize>(acc: &mut [Combine; N], i: usize, b: &[u8], a: &[&QuantizedActs; N]) {
    let d = f16_to_f32(b[0], b[1]);
    for (c, x) in acc.iter_mut().zip(a) {
        let q = &x.qs[32 * i..32 * i + 32];
        let (mut lo, mut hi) = (0i32, 0i32);
        for (j, &n) in b[2..18].iter().enumerate() {
            lo += VALUES[(n & 15) as usize] as i32 * q[j] as i32;
            hi += VALUES[(n >> 4) as usize] as i32 * q[j + 16] as i32;
        }
        c.add(2 * i, x.group_scale[2 * i], d, lo);
        c.add(2 * i + 1, x.group_scale[2 * i + 1], d, hi);
    }
}

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    scalar_blocks([Combine::default(); N], row, &a, BLOCK_BYTES, (0, nb), block)
}

/// The grid in both 128-bit lanes, for `_mm256_shuffle_epi8`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn grid_avx2() -> core::arch::x86_64::__m256i {
    use core::arch::x86_64::*;
    _mm256_broadcastsi128_si256(_mm_loadu_si128(VALUES.as_ptr() as *const __m128i))
}

/// Four blocks a step: grid values by shuffle, signed products (`dot_i8`:
/// |w| <= 127, so no i16 pair sum saturates).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    const BB: usize = BLOCK_BYTES;
    let nb = blocks(row, &a, BB, 32);
    let ap = Acts::new(&a);
    let grid = grid_avx2();
    let mut t = [_mm_setzero_ps(); N];
    for (k, b) in row.chunks_exact(4 * BB).take(nb / 4).enumerate() {
        let mut w = [_mm256_setzero_si256(); 4];
        for (m, w) in w.iter_mut().enumerate() {
            *w = _mm256_shuffle_epi8(grid, nibbles(load16(&b[m * BB + 2..])));
        }
        let (d0, d1, d2, d3) = (f16(b), f16(&b[BB..]), f16(&b[2 * BB..]), f16(&b[3 * BB..]));
        let sc = _mm256_setr_ps(d0, d0, d1, d1, d2, d2, d3, d3);
        for tk in 0..N {
            let x = 128 * k;
            let p = [dot_i8(w[0], ap.qs(tk, x)), dot_i8(w[1], ap.qs(tk, x + 32)), dot_i8(w[2], ap.qs(tk, x + 64)), dot_i8(w[3], ap.qs(tk, x + 96))];
            t[tk] = accumulate(t[tk], terms(ap.scales(tk, 8 * k), sc, group_sums(p)));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 4 * 4, nb), block)
}

/// Two blocks a step: grid values by `u8x16_swizzle`, products by `dot16`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    const BB: usize = BLOCK_BYTES;
    let nb = blocks(row, &a, BB, 32);
    let c = Consts::new();
    let grid = core::hint::black_box(load16(&VALUES.map(|v| v as u8)));
    let mut t = [f32x4_splat(0.0); N];
    for (k, b) in row.chunks_exact(2 * BB).take(nb / 2).enumerate() {
        let (lo0, hi0) = nibbles(load16(&b[2..]), &c);
        let (lo1, hi1) = nibbles(load16(&b[BB + 2..]), &c);
        let w = [lo0, hi0, lo1, hi1].map(|n| u8x16_swizzle(grid, n));
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
