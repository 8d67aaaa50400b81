//! simd128 building blocks shared by the wasm kernels.

use core::arch::wasm32::*;

use crate::quant::act::QuantizedActs;

/// Raw views of `N` activation rows, so that the kernels' inner loops load
/// without bounds checks (V8 keeps a row's lengths in memory and checks
/// each slice: a dozen instructions a step). Built only after `blocks` has
/// bounded the block count by every row's lengths; callers index below it.
pub struct Acts<const N: usize> {
    p: super::ActPtrs<N>,
    split: [*const v128; N],
}

impl<const N: usize> Acts<N> {
    #[inline(always)]
    pub fn new(a: &[&QuantizedActs; N]) -> Self {
        Acts { p: super::ActPtrs::new(a), split: [core::ptr::null(); N] }
    }

    /// As `new`, with each row's `Split` (made from the same row).
    #[inline(always)]
    pub fn with_split(a: &[&QuantizedActs; N], s: &[&Split; N]) -> Self {
        let mut v = Acts::new(a);
        for (p, s) in v.split.iter_mut().zip(s) {
            *p = s.0.as_ptr();
        }
        v
    }

    /// Token `t`'s values `at..at + 16` (`at` a multiple of 16) split as
    /// `even_odd_i8` splits them.
    ///
    /// # Safety
    /// As `qs`, and the view was made `with_split`.
    #[inline(always)]
    pub unsafe fn split(&self, t: usize, at: usize) -> (v128, v128) {
        let p = self.split[t].add(at / 8);
        (v128_load(p), v128_load(p.add(1)))
    }

    /// 16 activations of token `t` from value `at`.
    ///
    /// # Safety
    /// `at + 16` is within the token's values (below the bounded blocks).
    #[inline(always)]
    pub unsafe fn qs(&self, t: usize, at: usize) -> v128 {
        v128_load(self.p.qs[t].add(at) as *const v128)
    }

    /// Token `t`'s 64 regrouped activations (`QuantizedActs::lanes`) from
    /// value `at` (a multiple of 64): its 4 registers.
    ///
    /// # Safety
    /// `at + 64` is within the token's regrouped values.
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(always)]
    pub unsafe fn lanes(&self, t: usize, at: usize) -> [v128; 4] {
        let p = self.p.lanes[t].add(at) as *const v128;
        [v128_load(p), v128_load(p.add(1)), v128_load(p.add(2)), v128_load(p.add(3))]
    }

    /// The scales of token `t`'s groups `g..g + 4`.
    ///
    /// # Safety
    /// As `qs`, for groups.
    #[inline(always)]
    pub unsafe fn scales(&self, t: usize, g: usize) -> v128 {
        v128_load(self.p.gs[t].add(g) as *const v128)
    }

    /// The sums of token `t`'s groups `g..g + 4`.
    ///
    /// # Safety
    /// As `qs`, for groups.
    #[inline(always)]
    pub unsafe fn sums(&self, t: usize, g: usize) -> v128 {
        v128_load(self.p.gsum[t].add(g) as *const v128)
    }

    /// The scale of token `t`'s group `g` (one a block for Q8_K).
    ///
    /// # Safety
    /// As `qs`, for groups.
    #[inline(always)]
    pub unsafe fn scale(&self, t: usize, g: usize) -> f32 {
        *self.p.gs[t].add(g)
    }

    /// `sum_k f_k * G_(g + k)` over token `t`'s groups `g..g + 16`, `f` the
    /// 16 i16 factors in two vectors, spread over 4 i32 lanes.
    ///
    /// # Safety
    /// As `qs`, for groups.
    #[inline(always)]
    pub unsafe fn times_sums(&self, t: usize, g: usize, f: (v128, v128)) -> v128 {
        let p = self.p.gsum16[t].add(g) as *const v128;
        i32x4_add(i32x4_dot_i16x8(f.0, v128_load(p)), i32x4_dot_i16x8(f.1, v128_load(p.add(1))))
    }

    /// `times_sums` for K-quant mins (`bytes_per_group`).
    ///
    /// # Safety
    /// As `qs`, for groups.
    #[inline(always)]
    pub unsafe fn mins_times_sums(&self, t: usize, g: usize, mins: (v128, v128)) -> v128 {
        self.times_sums(t, g, mins)
    }
}

/// The 8 bytes of `bytes` (K-quant sub-block mins) as 16 i16 in two
/// vectors, each repeated for its sub-block's two 16-value groups.
#[inline(always)]
pub fn bytes_per_group(bytes: u64) -> (v128, v128) {
    let v = u64x2(bytes, 0);
    let v = u8x16_shuffle::<0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7>(v, v);
    (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v))
}

/// The lane sums of `s` and of `m`, exact.
#[inline(always)]
pub fn sum2(s: v128, m: v128) -> (i32, i32) {
    // [s0 + s2, s1 + s3, m0 + m2, m1 + m3], then neighbours added.
    let h = i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(s, m), i32x4_shuffle::<2, 3, 6, 7>(s, m));
    let r = i32x4_add(h, i32x4_shuffle::<1, 0, 3, 2>(h, h));
    (i32x4_extract_lane::<0>(r), i32x4_extract_lane::<2>(r))
}

/// A row of activations as `i32x4_dot_i16x8` takes them: each 16 values'
/// even and odd bytes sign-extended to i16 (see `even_odd_i8`). `dot_rows`
/// makes it once a call for all the rows it passes over, rather than every
/// row's kernel splitting the same bytes again (an eighth of the
/// instructions of the simd128 Q4_K kernel).
pub struct Split(Vec<v128>);

impl Split {
    pub fn new(a: &QuantizedActs) -> Split {
        let mut v = Vec::with_capacity(a.qs.len() / 8);
        for c in a.qs.chunks_exact(16) {
            let (even, odd) = even_odd_i8(load16_i8(c));
            v.extend([even, odd]);
        }
        Split(v)
    }
}

/// Vector constants for the kernels' loops, made opaque once per call. V8
/// (node, Chromium) rebuilds a `v128.const` at each use, 2-3 instructions
/// every time (also the mask inside `u8x16_shr`), rather than keep it in a
/// register across a loop; a value it cannot see through stays in one.
#[derive(Clone, Copy)]
pub struct Consts {
    /// 0x0f in every byte.
    pub m4: v128,
    /// 0x000f in every i16 lane.
    pub m4w: v128,
    /// 0x00ff in every i16 lane.
    pub m8w: v128,
    /// 1 in every i16 lane (for `dot16_u7`).
    #[cfg_attr(not(target_feature = "relaxed-simd"), allow(dead_code))]
    pub ones: v128,
    /// 16 in every byte.
    pub b16: v128,
    /// 0x30 in every byte.
    pub b30: v128,
    /// 3 in every byte.
    pub b3: v128,
    /// 4 in every byte.
    pub b4: v128,
    /// Byte j holds bit j % 8 (see `bits_to_bytes`).
    pub bit: v128,
    /// Swizzles spreading bytes 0, 1 (`spread.0`) and 2, 3 (`spread.1`) of
    /// a u32 over 8 bytes each.
    pub spread: (v128, v128),
}

impl Consts {
    #[inline(always)]
    pub fn new() -> Consts {
        core::hint::black_box(Consts {
            m4: u8x16_splat(0x0f),
            m4w: u16x8_splat(0x0f),
            m8w: u16x8_splat(0xff),
            ones: i16x8_splat(1),
            b16: u8x16_splat(16),
            b30: u8x16_splat(0x30),
            b3: u8x16_splat(3),
            b4: u8x16_splat(4),
            bit: u8x16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128),
            spread: (u8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), u8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3)),
        })
    }
}

/// 16 bytes from `s` (at least 16 long); wasm loads need no alignment.
#[inline(always)]
pub fn load16(s: &[u8]) -> v128 {
    assert!(s.len() >= 16);
    // SAFETY: `s` holds at least 16 bytes, checked above.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// 16 signed activation bytes from `s` (at least 16 long).
#[inline(always)]
pub fn load16_i8(s: &[i8]) -> v128 {
    assert!(s.len() >= 16);
    // SAFETY: `s` holds at least 16 bytes, checked above.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// Sum of 16 signed byte products, spread over 4 i32 lanes: both split
/// into even and odd bytes as i16 (see `even_odd_i8`) and multiplied by
/// `i32x4_dot_i16x8` (`pmaddwd`). Measured faster under V8 than
/// `i16x8_extmul_*` with `i32x4_extadd_pairwise_i16x8`, and than widening
/// by `i16x8_extend_*`. Where `w` is reused for several activation rows,
/// its split is computed once (loop-invariant).
#[inline(always)]
pub fn dot16(w: v128, x: v128) -> v128 {
    dot_even_odd(even_odd_i8(w), even_odd_i8(x))
}

/// Sum of 16 products of weights in 0..128 and signed activation bytes, in
/// 4 i32 lanes: relaxed SIMD's i16 dot product (one `pmaddubsw` under V8 on
/// x86), its pairs summed by `i32x4_dot_i16x8` against ones. Exact for
/// these operands on every engine: the weight is a valid 7-bit operand
/// whether read signed or unsigned, and no pair of products (at most
/// 2 * 127 * 127) overflows an i16.
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
pub fn dot16_u7(w: v128, x: v128, k: &Consts) -> v128 {
    // The i32x4 form (`..._add`) lowers to the same instructions plus an
    // add, and rebuilds its vector of ones each time (see `Consts`).
    i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(x, w), k.ones)
}

/// Four 16-value groups' weights (`w[g]` one group) in the order of
/// `QuantizedActs::lanes`: register k holds the k-th four values of each
/// group, group g in lane g. Interleaves only (see `group_sums`).
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
pub fn lanes4(w: [v128; 4]) -> [v128; 4] {
    let (a, b) = (i32x4_shuffle::<0, 4, 1, 5>(w[0], w[1]), i32x4_shuffle::<2, 6, 3, 7>(w[0], w[1]));
    let (c, d) = (i32x4_shuffle::<0, 4, 1, 5>(w[2], w[3]), i32x4_shuffle::<2, 6, 3, 7>(w[2], w[3]));
    [i64x2_shuffle::<0, 2>(a, c), i64x2_shuffle::<1, 3>(a, c), i64x2_shuffle::<0, 2>(b, d), i64x2_shuffle::<1, 3>(b, d)]
}

/// The exact sums of 4 groups: regrouped activations `x` against weights
/// `w` from `lanes4`, each weight below 32. Relaxed SIMD's i16 dot
/// products of the four registers are summed as i16 (a pair is at most
/// 2 * 31 * 127 = 7,874 in magnitude, four of them 31,496: no overflow),
/// then their pairs to i32: 9 instructions where `dot16_u7` and
/// `group_sums` take 14.
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
pub fn group_dots_u5(w: &[v128; 4], x: [v128; 4], k: &Consts) -> v128 {
    let d = |i: usize| i16x8_relaxed_dot_i8x16_i7x16(x[i], w[i]);
    i32x4_dot_i16x8(i16x8_add(i16x8_add(d(0), d(1)), i16x8_add(d(2), d(3))), k.ones)
}

/// The relaxed-SIMD loop of the 32-value types whose values are unsigned
/// below 32 with an offset of `1 << SHIFT` (Q4_0: 3, Q5_0: 4), two blocks a
/// step: `weights` gives a block's two groups of 16 values, which are
/// regrouped (`lanes4`) to meet the activations' regrouped values
/// (`QuantizedActs::lanes`), so a token's 4 group sums come from one
/// register (`group_dots_u5`); the offset comes off as its multiple of the
/// activations' group sums. `None` when the activations were not regrouped
/// (the caller's plain kernel then runs). `nb`: blocks both hold; the
/// caller adds an odd last one.
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
pub fn offset_groups<const N: usize, const SHIFT: u32>(
    row: &[u8],
    a: &[&QuantizedActs; N],
    (nb, bb): (usize, usize),
    weights: impl Fn(&[u8], &Consts) -> (v128, v128),
) -> Option<[v128; N]> {
    if a.iter().any(|x| x.lanes.len() < nb / 2 * 64) {
        return None;
    }
    let c = Consts::new();
    let ap = Acts::new(a);
    let mut t = [f32x4_splat(0.0); N];
    for (k, b) in row.chunks_exact(2 * bb).take(nb / 2).enumerate() {
        let ((w0, w1), (w2, w3)) = (weights(b, &c), weights(&b[bb..], &c));
        let w = lanes4([w0, w1, w2, w3]);
        let (d0, d1) = (super::f16_to_f32(b[0], b[1]), super::f16_to_f32(b[bb], b[bb + 1]));
        let sc = f32x4(d0, d0, d1, d1);
        for (tk, t) in t.iter_mut().enumerate() {
            // SAFETY: blocks 2k, 2k + 1 (values 64k..64k + 64, groups 4k..4k + 4) are below
            // `nb`, and the regrouped values were checked to cover them.
            let (s, gs, gsum) = unsafe { (group_dots_u5(&w, ap.lanes(tk, 64 * k), &c), ap.scales(tk, 4 * k), ap.sums(tk, 4 * k)) };
            *t = f32x4_add(*t, terms(gs, sc, i32x4_sub(s, i32x4_shl(gsum, SHIFT))));
        }
    }
    Some(t)
}

/// The split of `even_odd_i8` for bytes below 128 (a shift less).
#[inline(always)]
pub fn even_odd_u7(w: v128, k: &Consts) -> (v128, v128) {
    (v128_and(w, k.m8w), u16x8_shr(w, 8))
}

/// Low and high nibbles of 16 bytes.
#[inline(always)]
pub fn nibbles(q: v128, k: &Consts) -> (v128, v128) {
    (v128_and(q, k.m4), v128_and(u16x8_shr(q, 4), k.m4))
}

/// 0xff in byte j of the pair (bytes 0..16, 16..32) where bit j of `bits`
/// is set, else 0.
#[inline(always)]
pub fn bits_to_bytes(bits: u32, k: &Consts) -> (v128, v128) {
    let v = u32x4_splat(bits);
    // Byte j takes the source byte that holds bit j and keeps only bit j % 8.
    // (With `bit` a visible constant, LLVM turns `== bit` into `!= 0`, which
    // V8 lowers to three instructions.)
    let (lo, hi) = (u8x16_swizzle(v, k.spread.0), u8x16_swizzle(v, k.spread.1));
    (u8x16_eq(v128_and(lo, k.bit), k.bit), u8x16_eq(v128_and(hi, k.bit), k.bit))
}

/// The 4 group sums of four `dot16` results (group k in `p[k]`), in order.
/// Only interleaves (`punpck*dq`, `punpck*qdq` on x86), which V8 lowers to
/// one instruction each; other lane orders can cost a `pshufb` pair.
#[inline(always)]
pub fn group_sums(p: [v128; 4]) -> v128 {
    let s01 = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(p[0], p[1]), i32x4_shuffle::<2, 6, 3, 7>(p[0], p[1]));
    let s23 = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(p[2], p[3]), i32x4_shuffle::<2, 6, 3, 7>(p[2], p[3]));
    i32x4_add(i64x2_shuffle::<0, 2>(s01, s23), i64x2_shuffle::<1, 3>(s01, s23))
}

/// 16 signed bytes as their even and odd bytes, each sign-extended to 8
/// i16 lanes (two shifts for the even ones, one for the odd; cheaper in V8
/// than the high half of `i16x8_extend_*`). A group's sum does not care which value pairs with
/// which lane, only that weights and activations are split alike.
#[inline(always)]
pub fn even_odd_i8(x: v128) -> (v128, v128) {
    (i16x8_shr(i16x8_shl(x, 8), 8), i16x8_shr(x, 8))
}

/// The nibbles of 16 bytes as i16 lanes, split like `even_odd_i8`: (low
/// nibbles of the even bytes, of the odd bytes), (high nibbles of the
/// even bytes, of the odd bytes).
#[inline(always)]
pub fn nibbles_even_odd(q: v128, k: &Consts) -> ((v128, v128), (v128, v128)) {
    let m = k.m4w;
    ((v128_and(q, m), v128_and(u16x8_shr(q, 8), m)), (v128_and(u16x8_shr(q, 4), m), u16x8_shr(q, 12)))
}

/// Sum of 16 products of weights and activations split by `even_odd_i8`
/// (or alike), in 4 i32 lanes: two `pmaddwd`.
#[inline(always)]
pub fn dot_even_odd(w: (v128, v128), x: (v128, v128)) -> v128 {
    i32x4_add(i32x4_dot_i16x8(w.0, x.0), i32x4_dot_i16x8(w.1, x.1))
}

/// 4 consecutive groups' terms `gs * (sc * S)` (see `Combine`).
#[inline(always)]
pub fn terms(gs: v128, sc: v128, s: v128) -> v128 {
    f32x4_mul(gs, f32x4_mul(sc, f32x4_convert_i32x4(s)))
}

/// 4 consecutive groups' terms `gs * (sc * S + m * G)` (see
/// `Combine::add_offset`).
#[inline(always)]
pub fn terms_offset(gs: v128, (sc, s): (v128, v128), (m, g): (v128, v128)) -> v128 {
    f32x4_mul(gs, f32x4_add(f32x4_mul(sc, f32x4_convert_i32x4(s)), f32x4_mul(m, f32x4_convert_i32x4(g))))
}

/// 4 activation group scales from `s` (at least 4 long).
#[inline(always)]
pub fn load4_f32(s: &[f32]) -> v128 {
    assert!(s.len() >= 4);
    // SAFETY: `s` holds at least 4 values, checked above.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// The four lanes of `t` as `Combine`'s sums.
#[inline(always)]
pub fn to_array(t: v128) -> [f32; 4] {
    [f32x4_extract_lane::<0>(t), f32x4_extract_lane::<1>(t), f32x4_extract_lane::<2>(t), f32x4_extract_lane::<3>(t)]
}

/// The wasm kernels of the K-quants with a scale per 16 values (Q2_K,
/// Q3_K, Q6_K). A block goes in 4 steps of 64 values (groups 4st..4st + 4),
/// each decoding only its own weights: decoded all at once, they outnumber
/// V8's 16 vector registers and it spills. `block` reads a block's header
/// once; `step` gives step st's 4 vectors of 16 values (its groups, in
/// order) and their scales; `group` sums 16 products of a vector and token
/// t's activations from value `at`, times a scale `splat` made, into 4 i32
/// lanes; `finish` adds block i's lanes to token t's running sum.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn groups16_kernel<const N: usize, H>(
    row: &[u8],
    a: [&QuantizedActs; N],
    ap: Acts<N>,
    block_bytes: usize,
    block: impl Fn(&[u8]) -> H,
    step: impl Fn(&[u8], &H, usize, &Consts) -> ([v128; 4], [i32; 4]),
    (splat, group): (impl Fn(i32) -> v128, impl Fn(&Acts<N>, usize, usize, v128, v128, &Consts) -> v128),
    finish: impl Fn(f32, &H, &Acts<N>, (usize, usize), v128) -> f32,
) -> [f32; N] {
    let nb = super::blocks(row, &a, block_bytes, 256);
    let mut t = [0f32; N];
    let c = Consts::new();
    for (i, b) in row.chunks_exact(block_bytes).take(nb).enumerate() {
        let h = block(b);
        let mut s = [i32x4_splat(0); N];
        // An opaque count keeps LLVM from unrolling the loop (see above).
        for st in 0..core::hint::black_box(4) {
            let (w, sc) = step(b, &h, st, &c);
            let sc = sc.map(&splat);
            for (tk, s) in s.iter_mut().enumerate() {
                let x = 256 * i + 64 * st;
                let p0 = i32x4_add(group(&ap, tk, x, w[0], sc[0], &c), group(&ap, tk, x + 16, w[1], sc[1], &c));
                let p1 = i32x4_add(group(&ap, tk, x + 32, w[2], sc[2], &c), group(&ap, tk, x + 48, w[3], sc[3], &c));
                *s = i32x4_add(*s, i32x4_add(p0, p1));
            }
        }
        for (tk, (t, s)) in t.iter_mut().zip(s).enumerate() {
            *t = finish(*t, &h, &ap, (tk, i), s);
        }
    }
    t
}

/// `groups16_kernel`'s `group` for simd128: unsigned values below 128
/// against split activations (`Split`), times the scale in i32 lanes.
#[inline(always)]
pub fn group16_split<const N: usize>(ap: &Acts<N>, t: usize, at: usize, w: v128, sc: v128, k: &Consts) -> v128 {
    // SAFETY: the kernels ask only for values below their bounded blocks.
    i32x4_mul(dot_even_odd(even_odd_u7(w, k), unsafe { ap.split(t, at) }), sc)
}

/// `groups16_kernel`'s `group` for relaxed SIMD: the values (valid 7-bit
/// operands) multiplied by its byte dot product, whose i16 pair sums
/// `i32x4_dot_i16x8` multiplies by the scale (i16 lanes).
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
pub fn group16_relaxed<const N: usize>(ap: &Acts<N>, t: usize, at: usize, w: v128, sc: v128, _: &Consts) -> v128 {
    // SAFETY: the kernels ask only for values below their bounded blocks.
    i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(unsafe { ap.qs(t, at) }, w), sc)
}
