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

/// Activations come split (`wasm::Split`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N], s: [&super::wasm::Split; N]) -> [f32; N] {
    use super::wasm::*;
    // SAFETY (the load): the kernel asks only for values below its bounded blocks.
    wasm_kernel(row, a, Acts::with_split(&a, &s), |ap, t, at| unsafe { ap.split(t, at) }, |w, x, k| dot_even_odd(even_odd_u7(w, k), x))
}

/// As `simd128`, the unsigned 6-bit values (valid 7-bit operands)
/// multiplied by relaxed SIMD's dot product.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    // SAFETY (the load): the kernel asks only for values below its bounded blocks.
    wasm_kernel(row, a, Acts::new(&a), |ap, t, at| unsafe { ap.qs(t, at) }, dot16_u7)
}

/// The wasm kernels: `load` reads 16 activations of a token from `ap` in
/// the form `dot` takes, `dot` sums 16 products of unsigned 6-bit values
/// and activations (in 4 i32 lanes). A block goes in 4 steps of 64 values
/// (4 groups), each decoding only its own weights: decoded all at once,
/// they outnumber V8's 16 vector registers and it spills.
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
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [f32x4_splat(0.0); N];
    let c = Consts::new();
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let d = f32x4_splat(f16_to_f32(b[208], b[209]));
        // The 16 signed scales times d, 4 groups a vector.
        let scales = load16(&b[192..]);
        let (s0, s1) = (i16x8_extend_low_i8x16(scales), i16x8_extend_high_i8x16(scales));
        let sc = [
            f32x4_mul(d, f32x4_convert_i32x4(i32x4_extend_low_i16x8(s0))),
            f32x4_mul(d, f32x4_convert_i32x4(i32x4_extend_high_i16x8(s0))),
            f32x4_mul(d, f32x4_convert_i32x4(i32x4_extend_low_i16x8(s1))),
            f32x4_mul(d, f32x4_convert_i32x4(i32x4_extend_high_i16x8(s1))),
        ];
        for (st, &s4) in sc.iter().enumerate() {
            // Step st = 2n + k2: values 128n + 64k2 + (0..64), groups 4st..4st + 4. Their low
            // bits are the low (k2 = 0) or high (k2 = 1) nibbles of ql[64n..64n + 64], their
            // top bits bit pairs 2k2 and 2k2 + 1 of qh[32n..32n + 32], so both come down by 4k2.
            let (n, sh) = (st / 2, 4 * (st as u32 % 2));
            let mut w = [c.m4; 4];
            for h in 0..2 {
                let ql0 = u16x8_shr(load16(&b[64 * n + 16 * h..]), sh);
                let ql1 = u16x8_shr(load16(&b[64 * n + 32 + 16 * h..]), sh);
                let qh = u16x8_shr(load16(&b[128 + 32 * n + 16 * h..]), sh);
                // (u16 shifts carry bits across bytes; the masks keep each byte's own.)
                w[h] = v128_or(v128_and(ql0, c.m4), v128_and(u16x8_shl(qh, 4), c.b30));
                w[2 + h] = v128_or(v128_and(ql1, c.m4), v128_and(u16x8_shl(qh, 2), c.b30));
            }
            for (tk, t) in t.iter_mut().enumerate() {
                let (x, gi) = (256 * i + 64 * st, 16 * i + 4 * st);
                // SAFETY: block i (values x..x + 64, groups gi..gi + 4) is below `nb`.
                let (p, gs, gsum) = unsafe {
                    let p = [
                        dot(w[0], load(&ap, tk, x), &c),
                        dot(w[1], load(&ap, tk, x + 16), &c),
                        dot(w[2], load(&ap, tk, x + 32), &c),
                        dot(w[3], load(&ap, tk, x + 48), &c),
                    ];
                    (p, ap.scales(tk, gi), ap.sums(tk, gi))
                };
                let s = i32x4_sub(group_sums(p), i32x4_shl(gsum, 5));
                *t = f32x4_add(*t, terms(gs, s4, s));
            }
        }
    }
    totals(t.map(|v| Combine(to_array(v))))
}
