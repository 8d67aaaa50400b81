//! Q4_K weights (144-byte blocks of 256: f16 d and dmin, 12 bytes of 6-bit
//! scales and mins for 8 sub-blocks of 32, 128 bytes of nibbles) against
//! Q8_K activations. Sub-block j's values are `d * sc_j * q - dmin * m_j`;
//! a block sums `sc_j` times its products and `m_j` times the activations'
//! sums in integers (see `k_block`).

use super::{blocks, f16_to_f32, k_block};
#[cfg(target_arch = "x86_64")]
use super::k_term;
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

/// Byte `j` of `v`, as i32.
#[inline(always)]
pub(super) fn byte(v: u64, j: usize) -> i32 {
    (v >> (8 * j)) as u8 as i32
}

/// `sum_j m_j * (G_2j + G_2j+1)` over a block's 16 activation group sums.
#[inline(always)]
pub(super) fn mins_times_sums(m: u64, gsum: &[i32]) -> i32 {
    (0..8).map(|j| byte(m, j) * (gsum[2 * j] + gsum[2 * j + 1])).sum()
}

/// Sub-block j is the low (j even) or high nibbles of chunk j / 2.
pub fn scalar<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        let (sc, m) = scales_mins(b);
        for (t, x) in t.iter_mut().zip(&a) {
            let q = &x.qs[256 * i..256 * i + 256];
            let mut s = 0i32;
            for j in 0..8 {
                let (ch, sh) = (j / 2, 4 * (j % 2));
                let w = b[16 + 32 * ch..48 + 32 * ch].iter().map(|&n| (n >> sh & 15) as i32);
                s += byte(sc, j) * w.zip(&q[32 * j..32 * j + 32]).map(|(w, &v)| w * v as i32).sum::<i32>();
            }
            let mm = mins_times_sums(m, &x.group_sum[16 * i..16 * i + 16]);
            *t = k_block(*t, x.group_scale[16 * i], d, s, dmin, mm);
        }
    }
    t
}

/// A block for the x86 kernels: (d, dmin), the nibbles of sub-block j in
/// `w[j]`, its scale in every i16 lane of `sc[j]`, and the mins per
/// 16-value group (`x86::bytes_per_group`).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::type_complexity)]
unsafe fn decode(b: &[u8]) -> ((f32, f32), [core::arch::x86_64::__m256i; 8], [core::arch::x86_64::__m256i; 8], core::arch::x86_64::__m256i) {
    use super::x86::*;
    use core::arch::x86_64::*;
    let m4 = _mm256_set1_epi8(0x0f);
    let (sc, m) = scales_mins(b);
    let mut w = [_mm256_setzero_si256(); 8];
    for c in 0..4 {
        let q = load32(&b[16 + 32 * c..]);
        (w[2 * c], w[2 * c + 1]) = (_mm256_and_si256(q, m4), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    }
    ((f16(b), f16(&b[2..])), w, broadcast_bytes(sc), bytes_per_group(m))
}

/// Bytes times activations (`maddubs`, no i16 pair reaches 2 * 15 * 127)
/// times the sub-block scale (`madd`), eight sub-blocks into i32 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn avx2<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let ((d, dmin), w, sc, mins) = decode(b);
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let s = scaled_dots(&w, &sc, &ap, tk, x);
            let (s, mm) = sum2(s, _mm256_madd_epi16(mins, ap.sums16(tk, 16 * i)));
            *t = add_lane0(*t, k_term(ap.scale(tk, 16 * i), d, s, dmin, mm));
        }
    }
    t.map(|v| _mm_cvtss_f32(v))
}

/// As `avx2`, the scale multiply and the add in one VNNI `dpwssd`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn avx512<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::x86::*;
    use core::arch::x86_64::*;
    if N == 8 {
        if let Some(r) = avx512_8(row, core::array::from_fn(|t| a[t])) {
            return core::array::from_fn(|t| r[t]);
        }
    }
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let ap = Acts::new(&a);
    let mut t = [_mm_setzero_ps(); N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let ((d, dmin), w, sc, mins) = decode(b);
        for (tk, t) in t.iter_mut().enumerate() {
            let x = 256 * i;
            let s = super::x86_512::scaled_dots(&w, &sc, &ap, tk, x);
            let (s, mm) = sum2(s, _mm256_madd_epi16(mins, ap.sums16(tk, 16 * i)));
            *t = add_lane0(*t, k_term(ap.scale(tk, 16 * i), d, s, dmin, mm));
        }
    }
    t.map(|v| _mm_cvtss_f32(v))
}

/// A block's f32 step for 8 tokens: their exact scaled sums `s` (8 lanes
/// each) and mins times group sums, reduced together (`x86_512::sums8`),
/// then `k_term` (ad * (d * s) - ad * (dmin * m)) lane for lane, the same
/// operations as the scalar step (no FMA), so the same numbers.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn step8(
    ap: &super::x86::Acts<8>,
    i: usize,
    (d, dmin): (f32, f32),
    s: &[core::arch::x86_64::__m256i; 8],
    mins: core::arch::x86_64::__m256i,
) -> core::arch::x86_64::__m256 {
    use super::x86_512::{scales8, sums8};
    use core::arch::x86_64::*;
    let m: [__m256i; 8] = core::array::from_fn(|tk| _mm256_madd_epi16(mins, ap.sums16(tk, 16 * i)));
    let (s, m, ad) = (_mm256_cvtepi32_ps(sums8(s)), _mm256_cvtepi32_ps(sums8(&m)), scales8(ap, 16 * i));
    _mm256_sub_ps(
        _mm256_mul_ps(ad, _mm256_mul_ps(_mm256_set1_ps(d), s)),
        _mm256_mul_ps(ad, _mm256_mul_ps(_mm256_set1_ps(dmin), m)),
    )
}

/// `avx512` for 8 tokens (a prefill's tile), on activations regrouped as
/// the 32-value types' are (`QuantizedActs::lanes`: i32 lane g of a
/// 128-value chunk's registers holds fours of its group g), with the
/// weights' nibbles permuted to match: VNNI's `dpbusd` then sums a group's
/// products in one lane with no i16 step, two products a chunk leave each
/// lane a part of one sub-block (at most 8 * 15 * 127, an i16), and one
/// pack of the two chunks' lanes and one `madd` multiply them by their
/// sub-blocks' scales: five products a block and token where `avx512`'s
/// `maddubs` and `dpwssd` take eight 512-bit-equivalent ones (prefill 1.1x
/// on Q4_K shapes). Each block's 8 sums are reduced together (`step8`).
/// `None` where an activation row lacks its regrouped values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn avx512_8(row: &[u8], a: [&QuantizedActs; 8]) -> Option<[f32; 8]> {
    use super::x86::{bytes_per_group, f16, load32, Acts};
    use core::arch::x86_64::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    if a.iter().any(|x| x.lanes.len() < nb * 256) {
        return None;
    }
    // Register r (0, 1) of chunk h: lane p takes four k = 2r + p / 8 of
    // group g = p % 8, i.e. sub-block 4h + g / 2 (nibble chunk 2h + g / 4,
    // its low nibbles for even g / 2), bytes 16 (g % 2) + 4k.. of it. The
    // chunks' nibbles come as [low | high] registers, dword 8 * plane + l / 4.
    const fn pick(r: i32) -> [i32; 16] {
        let mut idx = [0i32; 16];
        let mut p = 0;
        while p < 16 {
            let (k, g) = (2 * r + p as i32 / 8, p as i32 % 8);
            idx[p] = 16 * (g / 4) + 8 * ((g / 2) % 2) + 4 * (g % 2) + k;
            p += 1;
        }
        idx
    }
    // Word w of the two chunks' packed sums (`packs_epi32`: per 128 bits, four
    // dwords of chunk 0, then four of chunk 1) belongs to sub-block 4h + g / 2.
    const fn scale_pick() -> [i16; 32] {
        let mut idx = [0i16; 32];
        let mut w = 0;
        while w < 32 {
            let (l, h) = (w / 8, (w % 8) / 4);
            let g = (4 * l + w % 4) % 8;
            idx[w] = (4 * h + g / 2) as i16;
            w += 1;
        }
        idx
    }
    const PICK: [[i32; 16]; 2] = [pick(0), pick(1)];
    const SCALE_PICK: [i16; 32] = scale_pick();
    let ap = Acts::new(&a);
    let (m4, shifts) = (_mm512_set1_epi8(0x0f), _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4));
    let idx = [0, 1].map(|r| _mm512_loadu_si512(PICK[r].as_ptr() as *const __m512i));
    let sidx = _mm512_loadu_si512(SCALE_PICK.as_ptr() as *const __m512i);
    let mut t = _mm256_setzero_ps();
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16(b), f16(&b[2..]));
        let (sc, m) = scales_mins(b);
        // [low | high] nibbles of each 32-byte chunk.
        let z: [__m512i; 4] = core::array::from_fn(|c| {
            _mm512_and_si512(_mm512_srlv_epi64(_mm512_broadcast_i64x4(load32(&b[16 + 32 * c..])), shifts), m4)
        });
        let w: [[__m512i; 2]; 2] = core::array::from_fn(|h| core::array::from_fn(|r| _mm512_permutex2var_epi32(z[2 * h], idx[r], z[2 * h + 1])));
        let scales = _mm512_permutexvar_epi16(sidx, _mm512_cvtepu8_epi16(_mm256_castsi128_si256(_mm_cvtsi64_si128(sc as i64))));
        let mins = bytes_per_group(m);
        let s: [__m256i; 8] = core::array::from_fn(|tk| {
            let x = ap.lanes(tk).add(256 * i) as *const __m512i;
            let dot = |h: usize| {
                let s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[h][0], _mm512_loadu_si512(x.add(2 * h)));
                _mm512_dpbusd_epi32(s, w[h][1], _mm512_loadu_si512(x.add(2 * h + 1)))
            };
            let p = _mm512_madd_epi16(_mm512_packs_epi32(dot(0), dot(1)), scales);
            _mm256_add_epi32(_mm512_castsi512_si256(p), _mm512_extracti64x4_epi64(p, 1))
        });
        t = _mm256_add_ps(t, step8(&ap, i, (d, dmin), &s, mins));
    }
    let mut out = [0f32; 8];
    _mm256_storeu_ps(out.as_mut_ptr(), t);
    Some(out)
}

/// Nibbles and activations split into even and odd bytes as i16 lanes
/// (see `wasm::even_odd_i8`; the activations come split, `wasm::Split`),
/// multiplied by `i32x4_dot_i16x8`; a sub-block's sum times its scale in
/// i32 lanes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn simd128<const N: usize>(row: &[u8], a: [&QuantizedActs; N], s: [&super::wasm::Split; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let k = Consts::new();
    // SAFETY (the loads): the kernel asks only for values below its bounded blocks.
    let sub = |ap: &Acts<N>, t: usize, at: usize, w: (_, _), sc: v128| unsafe {
        i32x4_mul(i32x4_add(dot_even_odd(w.0, ap.split(t, at)), dot_even_odd(w.1, ap.split(t, at + 16))), sc)
    };
    wasm_kernel(row, a, Acts::with_split(&a, &s), |q| nibbles_even_odd(q, &k), |v| i32x4_splat(v), sub)
}

/// The nibbles (valid 7-bit operands) multiplied as bytes by relaxed SIMD's
/// dot product. A sub-block's two halves share its scale, so their i16 pair
/// sums (each at most 2 * 15 * 128 = 3,840) are added in i16 and
/// `i32x4_dot_i16x8` multiplies them by the scale once (at most 2 * 7,680
/// times 63: no overflow). Integer sums in another order: the same bits.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub fn relaxed<const N: usize>(row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let k = Consts::new();
    // SAFETY (the loads): the kernel asks only for values below its bounded blocks.
    let sub = |ap: &Acts<N>, t: usize, at: usize, w: (v128, v128), sc: v128| unsafe {
        let p = i16x8_add(i16x8_relaxed_dot_i8x16_i7x16(ap.qs(t, at), w.0), i16x8_relaxed_dot_i8x16_i7x16(ap.qs(t, at + 16), w.1));
        i32x4_dot_i16x8(p, sc)
    };
    wasm_kernel(row, a, Acts::new(&a), |q| nibbles(q, &k), |v| i16x8_splat(v as i16), sub)
}

/// The wasm kernels: `split` turns 16 bytes of a block into their low and
/// high nibbles in the form `sub` takes, `splat` a sub-block scale into
/// the form `sub` takes, `sub` sums a sub-block (32 weights, as two halves)
/// times token `t`'s activations from value `at`, times the scale, into 4
/// i32 lanes. The chunks stay a loop: unrolled, they keep more vectors live
/// than V8's 16 registers and it spills.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn wasm_kernel<const N: usize, W: Copy>(
    row: &[u8],
    a: [&QuantizedActs; N],
    ap: super::wasm::Acts<N>,
    split: impl Fn(core::arch::wasm32::v128) -> (W, W),
    splat: impl Fn(i32) -> core::arch::wasm32::v128,
    sub: impl Fn(&super::wasm::Acts<N>, usize, usize, (W, W), core::arch::wasm32::v128) -> core::arch::wasm32::v128,
) -> [f32; N] {
    use super::wasm::*;
    use core::arch::wasm32::*;
    let nb = blocks(row, &a, BLOCK_BYTES, 256);
    let mut t = [0f32; N];
    for (i, b) in row.chunks_exact(BLOCK_BYTES).take(nb).enumerate() {
        let (d, dmin) = (f16_to_f32(b[0], b[1]), f16_to_f32(b[2], b[3]));
        let (sc, m) = scales_mins(b);
        let mut s = [i32x4_splat(0); N];
        // An opaque count keeps LLVM from unrolling the loop (see above).
        for c in 0..core::hint::black_box(4) {
            let (l0, h0) = split(load16(&b[16 + 32 * c..]));
            let (l1, h1) = split(load16(&b[32 + 32 * c..]));
            let (s0, s1) = (splat(byte(sc, 2 * c)), splat(byte(sc, 2 * c + 1)));
            for (tk, s) in s.iter_mut().enumerate() {
                let x = 256 * i + 64 * c;
                *s = i32x4_add(*s, i32x4_add(sub(&ap, tk, x, (l0, l1), s0), sub(&ap, tk, x + 32, (h0, h1), s1)));
            }
        }
        let mins = bytes_per_group(m);
        for (tk, (t, s)) in t.iter_mut().zip(s).enumerate() {
            // SAFETY: block i (groups 16i..16i + 16) is below `nb`.
            let (mm, ad) = unsafe { (ap.mins_times_sums(tk, 16 * i, mins), ap.scale(tk, 16 * i)) };
            let (s, mm) = sum2(s, mm);
            *t = k_block(*t, ad, d, s, dmin, mm);
        }
    }
    t
}
