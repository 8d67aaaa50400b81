//! Q6_K weights (210-byte blocks of 256: 128 bytes of low nibbles, 64 bytes
//! of 2-bit tops, 16 signed scales, one per 16 values, f16 d) against Q8_K
//! activations. Values are q - 32 with q in 0..64; the SIMD kernels multiply
//! q unsigned and subtract 32 times the activations' group sum.

use super::{blocks, f16_to_f32, totals, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q6_k::BLOCK_BYTES;

/// Element `128n + 32k + l` (l < 32) is built from `ql[64n + 32(k & 1) + l]`
/// (low nibble for k < 2, high for k >= 2) and bits 2k, 2k+1 of `qh[32n + l]`.
pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut acc = [Combine::default(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16_to_f32(b[208], b[209]);
        for (c, x) in acc.iter_mut().zip(&a) {
            let q = &x.qs[256 * i..256 * i + 256];
            let mut s = [0i32; 16];
            for n in 0..2 {
                for k in 0..4 {
                    for l in 0..32 {
                        let low = b[64 * n + 32 * (k & 1) + l] >> (4 * (k >> 1)) & 15;
                        let top = b[128 + 32 * n + l] >> (2 * k) & 3;
                        s[8 * n + 2 * k + l / 16] += ((low | top << 4) as i32 - 32) * q[128 * n + 32 * k + l] as i32;
                    }
                }
            }
            for (g, &sg) in s.iter().enumerate() {
                let gi = 16 * i + g;
                c.add(gi, x.group_scale[gi], d * b[192 + g] as i8 as f32, sg);
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
    let m4 = _mm256_set1_epi8(0x0f);
    let (m03, m0c, m30, mc0) = (_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0c), _mm256_set1_epi8(0x30), _mm256_set1_epi8(0xc0u8 as i8));
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = _mm256_set1_ps(f16(&b[208..]));
        let scales = load16(&b[192..]);
        let sc = [
            _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(scales))),
            _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(scales, 8)))),
        ];
        for n in 0..2 {
            let ql0 = load32(&b[64 * n..]);
            let ql1 = load32(&b[64 * n + 32..]);
            let qh = load32(&b[128 + 32 * n..]);
            let q = [
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m03), 4)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m0c), 2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(qh, mc0), 2)),
            ];
            for tk in 0..N {
                let x = 256 * i + 128 * n;
                let p = [
                    dot_u8(q[0], ap.qs(tk, x)),
                    dot_u8(q[1], ap.qs(tk, x + 32)),
                    dot_u8(q[2], ap.qs(tk, x + 64)),
                    dot_u8(q[3], ap.qs(tk, x + 96)),
                ];
                let gi = 16 * i + 8 * n;
                let s = _mm256_sub_epi32(group_sums(p), _mm256_slli_epi32(ap.sums(tk, gi), 5));
                t[tk] = accumulate(t[tk], terms(ap.scales(tk, gi), sc[n], s));
            }
        }
    }
    let mut acc = [Combine::default(); N];
    for tk in 0..N {
        acc[tk] = Combine(to_array(t[tk]));
    }
    totals(acc)
}

/// As `avx2`, the products summed by VNNI (see `x86_512`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn avx512<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::{accumulate, f16, group_sums, load16, load32, terms, to_array, Acts};
    use super::x86_512::dot_u8;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    let m4 = _mm256_set1_epi8(0x0f);
    let (m03, m0c, m30, mc0) = (_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0c), _mm256_set1_epi8(0x30), _mm256_set1_epi8(0xc0u8 as i8));
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = _mm256_set1_ps(f16(&b[208..]));
        let scales = load16(&b[192..]);
        let sc = [
            _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(scales))),
            _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(scales, 8)))),
        ];
        for n in 0..2 {
            let ql0 = load32(&b[64 * n..]);
            let ql1 = load32(&b[64 * n + 32..]);
            let qh = load32(&b[128 + 32 * n..]);
            let q = [
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m03), 4)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m0c), 2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(qh, mc0), 2)),
            ];
            for tk in 0..N {
                let x = 256 * i + 128 * n;
                let p = [
                    dot_u8(q[0], ap.qs(tk, x)),
                    dot_u8(q[1], ap.qs(tk, x + 32)),
                    dot_u8(q[2], ap.qs(tk, x + 64)),
                    dot_u8(q[3], ap.qs(tk, x + 96)),
                ];
                let gi = 16 * i + 8 * n;
                let s = _mm256_sub_epi32(group_sums(p), _mm256_slli_epi32(ap.sums(tk, gi), 5));
                t[tk] = accumulate(t[tk], terms(ap.scales(tk, gi), sc[n], s));
            }
        }
    }
    totals(t.map(|v| Combine(to_array(v))))
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [f32x4_splat(0.0); N];
    let m4 = u8x16_splat(0x0f);
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f16_to_f32(b[208], b[209]);
        let sc: [f32; 16] = core::array::from_fn(|g| d * b[192 + g] as i8 as f32);
        for n in 0..2 {
            // q[k][h]: values 128n + 32k + 16h + (0..16), group 8n + 2k + h.
            let mut q = [[i8x16_splat(0); 2]; 4];
            for h in 0..2 {
                let ql0 = load16(&b[64 * n + 16 * h..]);
                let ql1 = load16(&b[64 * n + 32 + 16 * h..]);
                let qh = load16(&b[128 + 32 * n + 16 * h..]);
                q[0][h] = v128_or(v128_and(ql0, m4), u8x16_shl(v128_and(qh, u8x16_splat(0x03)), 4));
                q[1][h] = v128_or(v128_and(ql1, m4), u8x16_shl(v128_and(qh, u8x16_splat(0x0c)), 2));
                q[2][h] = v128_or(u8x16_shr(ql0, 4), v128_and(qh, u8x16_splat(0x30)));
                q[3][h] = v128_or(u8x16_shr(ql1, 4), u8x16_shr(v128_and(qh, u8x16_splat(0xc0)), 2));
            }
            for k in [0, 2] {
                let g = 8 * n + 2 * k;
                let s4 = f32x4(sc[g], sc[g + 1], sc[g + 2], sc[g + 3]);
                for (tk, x) in a.iter().enumerate() {
                    let xq = &x.qs[256 * i + 16 * g..];
                    let p = [
                        dot16(q[k][0], load16_i8(xq)),
                        dot16(q[k][1], load16_i8(&xq[16..])),
                        dot16(q[k + 1][0], load16_i8(&xq[32..])),
                        dot16(q[k + 1][1], load16_i8(&xq[48..])),
                    ];
                    let gi = 16 * i + g;
                    let s = i32x4_sub(group_sums(p), i32x4_shl(load4_i32(&x.group_sum[gi..]), 5));
                    t[tk] = f32x4_add(t[tk], terms(load4_f32(&x.group_scale[gi..]), s4, s));
                }
            }
        }
    }
    totals(t.map(|v| Combine(to_array(v))))
}
