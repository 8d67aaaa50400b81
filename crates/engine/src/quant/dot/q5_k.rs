//! Q5_K weights (176-byte blocks of 256: Q4_K's header, 32 bytes of fifth
//! bits, 128 bytes of nibbles; bit 2c of qh[l] tops the low nibble of chunk
//! c, bit 2c+1 its high nibble) against Q8_K activations; summed as Q4_K.

use super::k_block;
#[cfg(target_arch = "x86_64")]
use super::k_term;
use super::q4_k::{byte, mins_times_sums, scales_mins};
use super::{blocks, f16_to_f32};
use crate::quant::act::QuantizedActs;
use crate::quant::q5_k::BLOCK_BYTES;

/// Sub-block j is the low (j even) or high nibbles of chunk j / 2, topped
/// by bit j of qh.
pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        let (sc, m) = scales_mins(b);
        let qh = &b[16..48];
        for (t, x) in t.iter_mut().zip(&a) {
            let q = &x.qs[256 * i..256 * i + 256];
            let mut s = 0i32;
            for j in 0..8 {
                let (ch, sh) = (j / 2, 4 * (j % 2));
                let w = b[48 + 32 * ch..80 + 32 * ch].iter().zip(qh).map(|(&n, &h)| (n >> sh & 15 | (h >> j & 1) << 4) as i32);
                s += byte(sc, j) * w.zip(&q[32 * j..32 * j + 32]).map(|(w, &v)| w * v as i32).sum::<i32>();
            }
            let mm = mins_times_sums(m, &x.group_sum[16 * i..16 * i + 16]);
            *t = k_block(*t, x.group_scale[16 * i], d, s, dmin, mm);
        }
    }
    t
}

/// As Q4_K's `avx2` (no i16 pair reaches 2 * 31 * 127).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    let (m4, one, two) = (_mm256_set1_epi8(0x0f), _mm256_set1_epi8(1), _mm256_set1_epi8(2));
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16(b), f16(&b[2..]));
        let (sc, m) = scales_mins(b);
        let (sc, mins) = (broadcast_bytes(sc), bytes_per_group(m));
        let mut qh = load32(&b[16..]);
        let mut w = [_mm256_setzero_si256(); 8];
        for c in 0..4 {
            let q = load32(&b[48 + 32 * c..]);
            // Bits 0 and 1 of qh, shifted down by 2 each chunk, are this chunk's fifth bits.
            w[2 * c] = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(_mm256_and_si256(qh, one), 4));
            w[2 * c + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 3));
            qh = _mm256_srli_epi16(qh, 2);
        }
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let s = scaled_dots(&w, &sc, &ap, tk, x);
            let (s, mm) = sum2(s, _mm256_madd_epi16(mins, ap.sums16(tk, 16 * i)));
            *t = add_lane0(*t, k_term(ap.scale(tk, 16 * i), d, s, dmin, mm));
        }
    }
    t.map(|v| _mm_cvtss_f32(v))
}

/// Products by `dot16`, times the sub-block scale in i32 lanes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    let (one, two) = (u8x16_splat(1), u8x16_splat(2));
    let k = Consts::new();
    let ap = Acts::new(&a);
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        let (sc, m) = scales_mins(b);
        let mins = bytes_per_group(m);
        let (mut h0, mut h1) = (load16(&b[16..]), load16(&b[32..]));
        let mut s = [i32x4_splat(0); N];
        for c in 0..4 {
            let (lo0, hi0) = nibbles(load16(&b[48 + 32 * c..]), &k);
            let (lo1, hi1) = nibbles(load16(&b[64 + 32 * c..]), &k);
            // Bits 0 and 1 of qh, shifted down by 2 each chunk, are this chunk's fifth bits.
            let w = [
                v128_or(lo0, u8x16_shl(v128_and(h0, one), 4)),
                v128_or(lo1, u8x16_shl(v128_and(h1, one), 4)),
                v128_or(hi0, u8x16_shl(v128_and(h0, two), 3)),
                v128_or(hi1, u8x16_shl(v128_and(h1, two), 3)),
            ];
            (h0, h1) = (u8x16_shr(h0, 2), u8x16_shr(h1, 2));
            let (s0, s1) = (i32x4_splat(byte(sc, 2 * c)), i32x4_splat(byte(sc, 2 * c + 1)));
            for (tk, s) in s.iter_mut().enumerate() {
                let x = 256 * i + 64 * c;
                // SAFETY: block i (values x..x + 64) is below `nb`.
                let q = unsafe { [ap.qs(tk, x), ap.qs(tk, x + 16), ap.qs(tk, x + 32), ap.qs(tk, x + 48)] };
                let lo = i32x4_add(dot16(w[0], q[0]), dot16(w[1], q[1]));
                let hi = i32x4_add(dot16(w[2], q[2]), dot16(w[3], q[3]));
                *s = i32x4_add(*s, i32x4_add(i32x4_mul(lo, s0), i32x4_mul(hi, s1)));
            }
        }
        for (tk, (t, s)) in t.iter_mut().zip(s).enumerate() {
            // SAFETY: block i (groups 16i..16i + 16) is below `nb`.
            let (mm, ad) = unsafe { (ap.mins_times_sums(tk, 16 * i, mins), ap.scale(tk, 16 * i)) };
            let (s, mm) = sum2(s, mm);
            *t = k_block(*t, ad, d, s, dmin, mm);
        }
    }
    t
}

/// As Q4_K's `relaxed`: the values, fifth bit included, stay below 32
/// (valid 7-bit operands; a sub-block's two halves' i16 pair sums, each at
/// most 2 * 31 * 128 = 7,936, add in i16 before one multiply by the scale).
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    let one = u8x16_splat(1);
    let k = Consts::new();
    let ap = Acts::new(&a);
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        let (sc, m) = scales_mins(b);
        let (mut h0, mut h1) = (load16(&b[16..]), load16(&b[32..]));
        let mut s = [i32x4_splat(0); N];
        // An opaque count keeps LLVM from unrolling the loop (see Q4_K's).
        for c in 0..core::hint::black_box(4) {
            let (lo0, hi0) = nibbles(load16(&b[48 + 32 * c..]), &k);
            let (lo1, hi1) = nibbles(load16(&b[64 + 32 * c..]), &k);
            // Bits 0 and 1 of qh, shifted down by 2 each chunk, are this chunk's fifth bits.
            let w = [
                v128_or(lo0, u8x16_shl(v128_and(h0, one), 4)),
                v128_or(lo1, u8x16_shl(v128_and(h1, one), 4)),
                v128_or(hi0, u8x16_shl(v128_and(u8x16_shr(h0, 1), one), 4)),
                v128_or(hi1, u8x16_shl(v128_and(u8x16_shr(h1, 1), one), 4)),
            ];
            (h0, h1) = (u8x16_shr(h0, 2), u8x16_shr(h1, 2));
            let (s0, s1) = (i16x8_splat(byte(sc, 2 * c) as i16), i16x8_splat(byte(sc, 2 * c + 1) as i16));
            for (tk, s) in s.iter_mut().enumerate() {
                let x = 256 * i + 64 * c;
                // SAFETY: block i (values x..x + 64) is below `nb`.
                let q = unsafe { [ap.qs(tk, x), ap.qs(tk, x + 16), ap.qs(tk, x + 32), ap.qs(tk, x + 48)] };
                let lo = i16x8_add(i16x8_relaxed_dot_i8x16_i7x16(q[0], w[0]), i16x8_relaxed_dot_i8x16_i7x16(q[1], w[1]));
                let hi = i16x8_add(i16x8_relaxed_dot_i8x16_i7x16(q[2], w[2]), i16x8_relaxed_dot_i8x16_i7x16(q[3], w[3]));
                *s = i32x4_add(*s, i32x4_add(i32x4_dot_i16x8(lo, s0), i32x4_dot_i16x8(hi, s1)));
            }
        }
        for (tk, (t, s)) in t.iter_mut().zip(s).enumerate() {
            // SAFETY: block i (groups 16i..16i + 16) is below `nb`.
            let (mm, ad) = unsafe { (ap.mins_times_sums(tk, 16 * i, bytes_per_group(m)), ap.scale(tk, 16 * i)) };
            let (s, mm) = sum2(s, mm);
            *t = k_block(*t, ad, d, s, dmin, mm);
        }
    }
    t
}
