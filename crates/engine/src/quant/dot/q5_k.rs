//! Q5_K weights (176-byte blocks of 256: Q4_K's header, 32 bytes of fifth
//! bits, 128 bytes of nibbles; bit 2c of qh[l] tops the low nibble of chunk
//! c, bit 2c+1 its high nibble) against Q8_K activations; combined as Q4_K.

use super::q4_k::factors;
use super::{blocks, f16_to_f32, totals, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q5_k::BLOCK_BYTES;

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut acc = [Combine::default(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (sc, mn) = factors(b, f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        let qh = &b[16..48];
        for (c, x) in acc.iter_mut().zip(&a) {
            let q = &x.qs[256 * i..256 * i + 256];
            let mut s = [0i32; 16];
            for ch in 0..4 {
                for (l, &n) in b[48 + 32 * ch..80 + 32 * ch].iter().enumerate() {
                    let h = (qh[l] >> (2 * ch)) as i32;
                    s[4 * ch + l / 16] += ((n & 15) as i32 | (h & 1) << 4) * q[64 * ch + l] as i32;
                    s[4 * ch + 2 + l / 16] += ((n >> 4) as i32 | (h & 2) << 3) * q[64 * ch + 32 + l] as i32;
                }
            }
            for (g, &sg) in s.iter().enumerate() {
                let gi = 16 * i + g;
                c.add_min(gi, x.group_scale[gi], sc[g / 2], sg, mn[g / 2], x.group_sum[gi]);
            }
        }
    }
    totals(acc)
}

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
        let (sc, m) = super::q4_k::scales_mins(b);
        let (sc, mn) = (sub_block_factors(sc, f16(b)), sub_block_factors(m, f16(&b[2..])));
        let mut qh = load32(&b[16..]);
        let mut lo = [_mm256_setzero_si256(); 4];
        let mut hi = [_mm256_setzero_si256(); 4];
        for c in 0..4 {
            let q = load32(&b[48 + 32 * c..]);
            // Bits 0 and 1 of qh, shifted down by 2 each chunk, are this chunk's fifth bits.
            lo[c] = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(_mm256_and_si256(qh, one), 4));
            hi[c] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 3));
            qh = _mm256_srli_epi16(qh, 2);
        }
        for tk in 0..N {
            let x = 256 * i;
            for h in 0..2 {
                let (c0, c1) = (2 * h, 2 * h + 1);
                let p = [
                    dot_u8(lo[c0], ap.qs(tk, x + 64 * c0)),
                    dot_u8(hi[c0], ap.qs(tk, x + 64 * c0 + 32)),
                    dot_u8(lo[c1], ap.qs(tk, x + 64 * c1)),
                    dot_u8(hi[c1], ap.qs(tk, x + 64 * c1 + 32)),
                ];
                let v = terms_min(ap.scales(tk, 16 * i + 8 * h), sc[h], group_sums(p), mn[h], ap.sums(tk, 16 * i + 8 * h));
                t[tk] = accumulate(t[tk], v);
            }
        }
    }
    let mut acc = [Combine::default(); N];
    for tk in 0..N {
        acc[tk] = Combine(to_array(t[tk]));
    }
    totals(acc)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [f32x4_splat(0.0); N];
    let (one, two) = (u8x16_splat(1), u8x16_splat(2));
    let k = Consts::new();
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (sc, mn) = factors(b, f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        let (mut h0, mut h1) = (load16(&b[16..]), load16(&b[32..]));
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
            let s4 = f32x4(sc[2 * c], sc[2 * c], sc[2 * c + 1], sc[2 * c + 1]);
            let m4 = f32x4(mn[2 * c], mn[2 * c], mn[2 * c + 1], mn[2 * c + 1]);
            for (tk, x) in a.iter().enumerate() {
                let q = &x.qs[256 * i + 64 * c..];
                let p = [dot16(w[0], load16_i8(q)), dot16(w[1], load16_i8(&q[16..])), dot16(w[2], load16_i8(&q[32..])), dot16(w[3], load16_i8(&q[48..]))];
                let gi = 16 * i + 4 * c;
                let v = terms_min(load4_f32(&x.group_scale[gi..]), s4, group_sums(p), m4, load4_i32(&x.group_sum[gi..]));
                t[tk] = f32x4_add(t[tk], v);
            }
        }
    }
    totals(t.map(|v| Combine(to_array(v))))
}
