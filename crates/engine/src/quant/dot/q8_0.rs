//! Q8_0 weights (34-byte blocks: f16 scale, 32 signed bytes) against Q8_0
//! activations. Gemma 3's LM head is Q8_0, the largest read per token.
//! The SIMD kernels take 4 blocks (8 groups) a step; a row's last blocks
//! beyond a multiple of 4 go through the scalar block code.

use super::{blocks, f16_to_f32, scalar_blocks, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q8_0::BLOCK_BYTES;

/// Block `i` (groups 2i, 2i+1) into each token's combine.
#[inline(always)]
fn block<const N: usize>(acc: &mut [Combine; N], i: usize, b: &[u8], a: &[&QuantizedActs; N]) {
    let d = f16_to_f32(b[0], b[1]);
    for (c, x) in acc.iter_mut().zip(a) {
        let mut s = [0i32; 2];
        for (j, (&w, &v)) in b[2..34].iter().zip(&x.qs[32 * i..32 * i + 32]).enumerate() {
            s[j / 16] += w as i8 as i32 * v as i32;
        }
        c.add(2 * i, x.group_scale[2 * i], d, s[0]);
        c.add(2 * i + 1, x.group_scale[2 * i + 1], d, s[1]);
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
        let w = [load32(&b[2..]), load32(&b[BB + 2..]), load32(&b[2 * BB + 2..]), load32(&b[3 * BB + 2..])];
        let (d0, d1, d2, d3) = (f16(b), f16(&b[BB..]), f16(&b[2 * BB..]), f16(&b[3 * BB..]));
        let sc = _mm256_setr_ps(d0, d0, d1, d1, d2, d2, d3, d3);
        for tk in 0..N {
            let x = 128 * k;
            let p = [
                dot_i8(w[0], ap.qs(tk, x)),
                dot_i8(w[1], ap.qs(tk, x + 32)),
                dot_i8(w[2], ap.qs(tk, x + 64)),
                dot_i8(w[3], ap.qs(tk, x + 96)),
            ];
            t[tk] = accumulate(t[tk], terms(ap.scales(tk, 8 * k), sc, group_sums(p)));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 4 * 4, nb), block)
}

/// As `avx2`, each token's 8 group sums from two VNNI products
/// (`x86_512::offset_groups`); the weights' sign bits flipped make them
/// unsigned, 128 above their values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn avx512<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::{load32, to_array};
    use super::x86_512::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 32);
    let weights = |b: &[u8]| _mm256_xor_si256(load32(&b[2..]), _mm256_set1_epi8(-128));
    match offset_groups::<N, 7>(row, &a, (nb, BLOCK_BYTES), weights) {
        Some(t) => scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BLOCK_BYTES, (nb / 4 * 4, nb), block),
        None => avx2(row, a),
    }
}

/// Activations come split (`wasm::Split`). Relaxed SIMD's dot product takes
/// one operand as 7 bits; Q8_0's weights need 8, so relaxed builds run this
/// kernel too.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N], s: [&super::wasm::Split; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    const BB: usize = BLOCK_BYTES;
    let nb = blocks(row, &a, BB, 32);
    let ap = Acts::with_split(&a, &s);
    let mut t = [f32x4_splat(0.0); N];
    for (k, b) in row.chunks_exact(2 * BB).take(nb / 2).enumerate() {
        let w = [load16(&b[2..]), load16(&b[18..]), load16(&b[BB + 2..]), load16(&b[BB + 18..])].map(even_odd_i8);
        let (d0, d1) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[BB], b[BB + 1]));
        let sc = f32x4(d0, d0, d1, d1);
        for (tk, t) in t.iter_mut().enumerate() {
            // SAFETY: blocks 2k, 2k + 1 (values 64k..64k + 64, groups 4k..4k + 4) are below `nb`.
            let (p, gs) = unsafe {
                let x = 64 * k;
                let p = [
                    dot_even_odd(w[0], ap.split(tk, x)),
                    dot_even_odd(w[1], ap.split(tk, x + 16)),
                    dot_even_odd(w[2], ap.split(tk, x + 32)),
                    dot_even_odd(w[3], ap.split(tk, x + 48)),
                ];
                (p, ap.scales(tk, 4 * k))
            };
            *t = f32x4_add(*t, terms(gs, sc, group_sums(p)));
        }
    }
    scalar_blocks(t.map(|v| Combine(to_array(v))), row, &a, BB, (nb / 2 * 2, nb), block)
}
