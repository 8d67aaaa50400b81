//! Q4_K weights (144-byte blocks of 256: f16 d and dmin, 12 bytes of 6-bit
//! scales and mins for 8 sub-blocks of 32, 128 bytes of nibbles) against
//! Q8_K activations. Group g (16 values) of sub-block j = g / 2 has scale
//! d * sc_j and min dmin * m_j; the min meets the activations' group sum.

use super::{blocks, f16_to_f32, totals, Combine};
use crate::quant::act::QuantizedActs;
use crate::quant::q4_k::BLOCK_BYTES;

/// The 8 sub-block scales and the 8 mins of a block, as the bytes of two
/// u64 (the 12 packed bytes unpacked four at a time).
#[inline(always)]
pub(super) fn scales_mins(b: &[u8]) -> (u64, u64) {
    let w = |k: usize| u32::from_le_bytes([b[4 + k], b[5 + k], b[6 + k], b[7 + k]]);
    let (w0, w1, w2) = (w(0), w(4), w(8));
    let sc_lo = w0 & 0x3f3f_3f3f;
    let m_lo = w1 & 0x3f3f_3f3f;
    // Sub-blocks 4..8 keep their low 4 bits in the last word and their top 2 bits above sub-blocks 0..4.
    let sc_hi = (w2 & 0x0f0f_0f0f) | ((w0 >> 2) & 0x3030_3030);
    let m_hi = ((w2 >> 4) & 0x0f0f_0f0f) | ((w1 >> 2) & 0x3030_3030);
    (sc_lo as u64 | (sc_hi as u64) << 32, m_lo as u64 | (m_hi as u64) << 32)
}

/// Per sub-block, `d * sc` and `dmin * m` in f32.
#[inline(always)]
pub(super) fn factors(b: &[u8], d: f32, dmin: f32) -> ([f32; 8], [f32; 8]) {
    let (sc, m) = scales_mins(b);
    let (mut s, mut n) = ([0f32; 8], [0f32; 8]);
    for j in 0..8 {
        s[j] = d * (sc >> (8 * j)) as u8 as f32;
        n[j] = dmin * (m >> (8 * j)) as u8 as f32;
    }
    (s, n)
}

pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut acc = [Combine::default(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (sc, mn) = factors(b, f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        for (c, x) in acc.iter_mut().zip(&a) {
            let q = &x.qs[256 * i..256 * i + 256];
            let mut s = [0i32; 16];
            for ch in 0..4 {
                for (l, &n) in b[16 + 32 * ch..48 + 32 * ch].iter().enumerate() {
                    s[4 * ch + l / 16] += (n & 15) as i32 * q[64 * ch + l] as i32;
                    s[4 * ch + 2 + l / 16] += (n >> 4) as i32 * q[64 * ch + 32 + l] as i32;
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
    let m4 = _mm256_set1_epi8(0x0f);
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (sc, m) = scales_mins(b);
        let (sc, mn) = (sub_block_factors(sc, f16(b)), sub_block_factors(m, f16(&b[2..])));
        let q = [load32(&b[16..]), load32(&b[48..]), load32(&b[80..]), load32(&b[112..])];
        let lo = [_mm256_and_si256(q[0], m4), _mm256_and_si256(q[1], m4), _mm256_and_si256(q[2], m4), _mm256_and_si256(q[3], m4)];
        let hi = [
            _mm256_and_si256(_mm256_srli_epi16(q[0], 4), m4),
            _mm256_and_si256(_mm256_srli_epi16(q[1], 4), m4),
            _mm256_and_si256(_mm256_srli_epi16(q[2], 4), m4),
            _mm256_and_si256(_mm256_srli_epi16(q[3], 4), m4),
        ];
        for tk in 0..N {
            let x = 256 * i;
            for h in 0..2 {
                // Chunks 2h and 2h+1: groups 8h..8h+8.
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

/// As `avx2`, the products summed by VNNI (see `x86_512`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn avx512<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::{accumulate, f16, group_sums, load32, sub_block_factors, terms_min, to_array, Acts};
    use super::x86_512::dot_u8;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    let m4 = _mm256_set1_epi8(0x0f);
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (sc, m) = scales_mins(b);
        let (sc, mn) = (sub_block_factors(sc, f16(b)), sub_block_factors(m, f16(&b[2..])));
        let q = [load32(&b[16..]), load32(&b[48..]), load32(&b[80..]), load32(&b[112..])];
        let lo = [_mm256_and_si256(q[0], m4), _mm256_and_si256(q[1], m4), _mm256_and_si256(q[2], m4), _mm256_and_si256(q[3], m4)];
        let hi = [
            _mm256_and_si256(_mm256_srli_epi16(q[0], 4), m4),
            _mm256_and_si256(_mm256_srli_epi16(q[1], 4), m4),
            _mm256_and_si256(_mm256_srli_epi16(q[2], 4), m4),
            _mm256_and_si256(_mm256_srli_epi16(q[3], 4), m4),
        ];
        for tk in 0..N {
            let x = 256 * i;
            for h in 0..2 {
                // Chunks 2h and 2h+1: groups 8h..8h+8.
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
    totals(t.map(|v| Combine(to_array(v))))
}

/// Nibbles and activations split into even and odd bytes as i16 lanes
/// (see `wasm::even_odd_i8`; the activations come split, `wasm::Split`)
/// and multiplied by `i32x4_dot_i16x8`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N], s: [&super::wasm::Split; N]) -> [f32; N] {
    use super::wasm::*;
    let k = Consts::new();
    // SAFETY (the load): the kernel asks only for values below its bounded blocks.
    wasm_kernel(row, a, Acts::with_split(&a, &s), |q| nibbles_even_odd(q, &k), |ap, t, at| unsafe { ap.split(t, at) }, dot_even_odd)
}

/// The nibbles (valid 7-bit operands) multiplied as bytes by relaxed SIMD's
/// dot product.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    let k = Consts::new();
    // SAFETY (the load): the kernel asks only for values below its bounded blocks.
    wasm_kernel(row, a, Acts::new(&a), |q| nibbles(q, &k), |ap, t, at| unsafe { ap.qs(t, at) }, |w, x| dot16_u7(w, x, &k))
}

/// The wasm kernels: `split` turns 16 bytes of a block into their low and
/// high nibbles in the form `dot` takes, `load` reads 16 activations of a
/// token from `ap` in the form `dot` takes, `dot` sums 16 such weights times
/// 16 activations into 4 i32 lanes. Scales and mins are decoded in
/// vectors once per block. The chunks stay a loop: unrolled, they keep
/// more vectors live than V8's 16 registers and it spills.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn wasm_kernel<const N: usize, W: Copy, X>(
    row: &[u8],
    a: [&QuantizedActs; N],
    ap: super::wasm::Acts<N>,
    split: impl Fn(core::arch::wasm32::v128) -> (W, W),
    load: impl Fn(&super::wasm::Acts<N>, usize, usize) -> X,
    dot: impl Fn(W, X) -> core::arch::wasm32::v128,
) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [f32x4_splat(0.0); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (sc, mn) = scales_mins(b);
        let (sc, mn) = (bytes_times(sc, f16_to_f32(b[0], b[1])), bytes_times(mn, f16_to_f32(b[2], b[3])));
        let ((s01, s23), (s45, s67)) = (pairs(sc[0]), pairs(sc[1]));
        let ((m01, m23), (m45, m67)) = (pairs(mn[0]), pairs(mn[1]));
        let sm = [(s01, m01), (s23, m23), (s45, m45), (s67, m67)];
        for (c, &sm) in sm.iter().enumerate() {
            // SAFETY: block i (chunk 4i + c) is below `nb`.
            unsafe { chunk(b, &ap, 4 * i + c, sm, &mut t, (&split, &load, &dot)) };
        }
    }
    totals(t.map(|v| Combine(to_array(v))))
}

/// Chunk `c % 4` of block `b` (the row's groups 4c..4c+4: the low nibbles
/// of the chunk's two 16-byte halves, then their high nibbles) into every
/// token's sums, `sm` its groups' scales and mins.
///
/// # Safety
/// Chunk `c` lies within every token's values (see `wasm::Acts`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn chunk<const N: usize, W: Copy, X>(
    b: &[u8],
    ap: &super::wasm::Acts<N>,
    c: usize,
    sm: (core::arch::wasm32::v128, core::arch::wasm32::v128),
    t: &mut [core::arch::wasm32::v128; N],
    (split, load, dot): (
        &impl Fn(core::arch::wasm32::v128) -> (W, W),
        &impl Fn(&super::wasm::Acts<N>, usize, usize) -> X,
        &impl Fn(W, X) -> core::arch::wasm32::v128,
    ),
) {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let (l0, h0) = split(load16(&b[16 + 32 * (c % 4)..]));
    let (l1, h1) = split(load16(&b[32 + 32 * (c % 4)..]));
    for (tk, t) in t.iter_mut().enumerate() {
        let x = 64 * c;
        let p = [dot(l0, load(ap, tk, x)), dot(l1, load(ap, tk, x + 16)), dot(h0, load(ap, tk, x + 32)), dot(h1, load(ap, tk, x + 48))];
        let v = terms_min(ap.scales(tk, 4 * c), sm.0, group_sums(p), sm.1, ap.sums(tk, 4 * c));
        *t = f32x4_add(*t, v);
    }
}
