//! Fused quantized dot products: each kernel reads a weight row's GGUF
//! blocks as they lie in the file and dots them with 8-bit activations
//! (`QuantizedActs`), decoding every block in registers once for up to
//! `TILE` activation rows (prefill reuses one weight row for several
//! tokens; decode uses one).
//!
//! One file per quant type (Q4_1 and Q5_1 share `offset.rs`), each with
//! versions of the same arithmetic:
//! `scalar` (the portable reference), `avx2` (x86_64, picked at run time),
//! `avx512` (x86_64 with AVX-512 and VNNI, picked at run time; Q4_0, Q8_0, Q5_0,
//! Q4_K and Q6_K, the others keep AVX2), `simd128` (wasm, compiled when
//! the build enables simd128) and `relaxed` (wasm with relaxed SIMD's
//! integer dot product, compiled when the build enables relaxed-simd; Q4_0,
//! Q5_0, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K, whose weights fit its 7-bit operand).
//! Every version computes the same exact integers and combines them in f32
//! in one fixed order, so all of them give bit-identical results, native
//! and in the browser alike: with activations re-quantized to 8 bits before
//! every product, another rounding moves logits by tenths and flips
//! near-ties in greedy decoding, so versions that differed would disagree.
//! 32-value types (Q4_0, Q5_0, Q8_0) sum each 16-value group exactly and
//! combine the groups in f32 (`Combine`). K-quants (Q4_K, Q5_K, Q6_K) sum a
//! whole 256-value block exactly, sub-block scales and mins applied in
//! integers, and take one f32 step a block (`k_block`), as llama.cpp does:
//! a per-group float combine cost their SIMD kernels half their speed.

pub mod iq4_nl;
pub mod iq4_xs;
pub mod q2_k;
pub mod q3_k;
pub mod offset;
pub mod q4_0;
pub mod q4_k;
pub mod q5_0;
pub mod q5_k;
pub mod q6_k;
pub mod q8_0;

#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
mod x86_512;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;

use super::act::{ActFormat, QuantizedActs};
use super::QType;

/// Activation rows a prefill hands `dot_rows` at a time, for each band of
/// weight rows.
pub const MAX_TOKENS: usize = 8;

/// Activation rows dotted with each decoded weight block in one pass: 8
/// native (prefill 5-8% faster than 4 with AVX-512, whose 32 registers hold
/// the accumulators), 4 in wasm (whose 128-bit values compile to 16
/// registers at most).
#[cfg(not(target_arch = "wasm32"))]
const TILE: usize = 8;
#[cfg(target_arch = "wasm32")]
const TILE: usize = 4;

/// An instruction set a kernel is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Scalar,
    /// x86_64 AVX2 with FMA and F16C.
    Avx2,
    /// x86_64 AVX-512 F, BW and VL with VNNI, on top of `Avx2` (used on
    /// 256-bit vectors, see `x86_512`); types without an `avx512` kernel
    /// run their AVX2 one.
    Avx512,
    /// WebAssembly 128-bit SIMD.
    Simd128,
    /// WebAssembly relaxed SIMD on top of `Simd128` (built in, not detected:
    /// a module using it fails to compile where the engine lacks it); types
    /// without a `relaxed` kernel run their simd128 one.
    Relaxed,
}

impl Isa {
    /// The fastest kernels this machine runs (detected once).
    pub fn best() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
            *BEST.get_or_init(|| [Isa::Avx512, Isa::Avx2].into_iter().find(|i| i.supported()).unwrap_or(Isa::Scalar))
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        {
            Isa::Relaxed
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
        {
            Isa::Simd128
        }
        #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
        {
            Isa::Scalar
        }
    }

    /// Whether this machine and build can run kernels of this set.
    pub fn supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                    && std::arch::is_x86_feature_detected!("f16c")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2.supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => true,
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            Isa::Relaxed => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every set this machine runs, scalar first (for tests and benches).
    pub fn available() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Simd128, Isa::Relaxed].into_iter().filter(|i| i.supported()).collect()
    }
}

/// The activation format a weight type's kernel consumes; `None` for float
/// rows, which are multiplied in f32.
pub fn act_format(q: QType) -> Option<ActFormat> {
    match q {
        QType::Q4_0 | QType::Q4_1 | QType::Q5_0 | QType::Q5_1 | QType::Q8_0 | QType::IQ4NL => Some(ActFormat::Q8_0),
        QType::Q2K | QType::Q3K | QType::Q4K | QType::Q5K | QType::Q6K | QType::IQ4XS => Some(ActFormat::Q8K),
        QType::F32 | QType::F16 | QType::BF16 => None,
    }
}

/// `out[r * acts.len() + i] = row_r · acts[i]` for the consecutive rows of
/// `rows`, each `row_bytes` long (a band of a weight matrix). Activations
/// are taken `TILE` at a time, each group over all the rows, so a
/// band small enough for the cache is read from memory once. Rows of float
/// types give nothing; a row or activations shorter than the other count
/// only the blocks both hold (callers pass matching lengths). An `isa`
/// this machine lacks falls back to scalar.
pub fn dot_rows(isa: Isa, q: QType, rows: &[u8], row_bytes: usize, acts: &[QuantizedActs], out: &mut [f32]) {
    let isa = if isa.supported() { isa } else { Isa::Scalar };
    let t = acts.len();
    if row_bytes == 0 || t == 0 {
        return;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if split_kernel::<1>(isa, q).is_some() {
        // The activations split once for every row (see `wasm::Split`).
        let split: Vec<wasm::Split> = acts.iter().map(wasm::Split::new).collect();
        for (g, (a, s)) in acts.chunks(TILE).zip(split.chunks(TILE)).enumerate() {
            let b = (rows, row_bytes, &mut *out, t, g * TILE);
            match a.len() {
                1 => band_split(split_kernel(isa, q), [&a[0]], [&s[0]], b),
                2 => band_split(split_kernel(isa, q), [&a[0], &a[1]], [&s[0], &s[1]], b),
                3 => band_split(split_kernel(isa, q), [&a[0], &a[1], &a[2]], [&s[0], &s[1], &s[2]], b),
                _ => band_split(split_kernel(isa, q), [&a[0], &a[1], &a[2], &a[3]], [&s[0], &s[1], &s[2], &s[3]], b),
            }
        }
        return;
    }
    for (g, a) in acts.chunks(TILE).enumerate() {
        let at = g * TILE;
        match a.len() {
            1 => band(kernel(isa, q), rows, row_bytes, refs::<1>(a), out, t, at),
            2 => band(kernel(isa, q), rows, row_bytes, refs::<2>(a), out, t, at),
            3 => band(kernel(isa, q), rows, row_bytes, refs::<3>(a), out, t, at),
            #[cfg(not(target_arch = "wasm32"))]
            4 => band(kernel(isa, q), rows, row_bytes, refs::<4>(a), out, t, at),
            #[cfg(not(target_arch = "wasm32"))]
            5 => band(kernel(isa, q), rows, row_bytes, refs::<5>(a), out, t, at),
            #[cfg(not(target_arch = "wasm32"))]
            6 => band(kernel(isa, q), rows, row_bytes, refs::<6>(a), out, t, at),
            #[cfg(not(target_arch = "wasm32"))]
            7 => band(kernel(isa, q), rows, row_bytes, refs::<7>(a), out, t, at),
            _ => band(kernel(isa, q), rows, row_bytes, refs::<TILE>(a), out, t, at),
        }
    }
}

/// The first `N` of `a`, as the kernels take them.
#[inline(always)]
fn refs<const N: usize>(a: &[QuantizedActs]) -> [&QuantizedActs; N] {
    core::array::from_fn(|i| &a[i])
}

/// `out[i] = row · acts[i]` for one row.
pub fn dot_row(isa: Isa, q: QType, row: &[u8], acts: &[QuantizedActs], out: &mut [f32]) {
    dot_rows(isa, q, row, row.len(), acts, out);
}

/// One row against `N` activation rows.
type Kernel<const N: usize> = unsafe fn(&[u8], [&QuantizedActs; N]) -> [f32; N];

/// Every row of the band against one group of activations, into columns
/// `at..at + N` of `out` (rows of `stride`).
fn band<const N: usize>(
    k: Option<Kernel<N>>,
    rows: &[u8],
    row_bytes: usize,
    a: [&QuantizedActs; N],
    out: &mut [f32],
    stride: usize,
    at: usize,
) {
    let Some(k) = k else { return };
    for (row, o) in rows.chunks_exact(row_bytes).zip(out.chunks_mut(stride)) {
        // SAFETY: `kernel` hands out SIMD kernels only for sets `Isa::supported` confirmed.
        let r = unsafe { k(row, a) };
        if let Some(dst) = o.get_mut(at..at + N) {
            dst.copy_from_slice(&r);
        }
    }
}

/// As `band`, for a kernel taking split activations; `b` is the band
/// (rows, row_bytes, out, stride, at).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn band_split<const N: usize>(
    k: Option<SplitKernel<N>>,
    a: [&QuantizedActs; N],
    s: [&wasm::Split; N],
    (rows, row_bytes, out, stride, at): (&[u8], usize, &mut [f32], usize, usize),
) {
    let Some(k) = k else { return };
    for (row, o) in rows.chunks_exact(row_bytes).zip(out.chunks_mut(stride)) {
        let r = k(row, a, s);
        if let Some(dst) = o.get_mut(at..at + N) {
            dst.copy_from_slice(&r);
        }
    }
}

/// One row against `N` activation rows and their splits (`wasm::Split`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type SplitKernel<const N: usize> = fn(&[u8], [&QuantizedActs; N], [&wasm::Split; N]) -> [f32; N];

/// The simd128 kernels that take split activations: the types whose
/// kernels are worth a split per call.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn split_kernel<const N: usize>(isa: Isa, q: QType) -> Option<SplitKernel<N>> {
    Some(match (isa, q) {
        (Isa::Simd128 | Isa::Relaxed, QType::Q8_0) => q8_0::simd128::<N>,
        (Isa::Simd128, QType::Q5_0) => q5_0::simd128::<N>,
        (Isa::Simd128, QType::Q4K) => q4_k::simd128::<N>,
        (Isa::Simd128, QType::Q6K) => q6_k::simd128::<N>,
        (Isa::Simd128, QType::Q2K) => q2_k::simd128::<N>,
        (Isa::Simd128, QType::Q3K) => q3_k::simd128::<N>,
        _ => return None,
    })
}

/// The kernel of `isa` (supported) for weight type `q`; `None` for float
/// types.
fn kernel<const N: usize>(isa: Isa, q: QType) -> Option<Kernel<N>> {
    let k: Kernel<N> = match (isa, q) {
        (_, QType::F32 | QType::F16 | QType::BF16) => return None,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, QType::Q5_0) => q5_0::avx512::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, QType::Q8_0) => q8_0::avx512::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, QType::Q4K) => q4_k::avx512::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, QType::Q6K) => q6_k::avx512::<N>,
        // Types without an AVX-512 kernel: AVX2 where AVX-512 is chosen.
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, QType::Q4_0) => q4_0::avx512::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, QType::Q4_0) => q4_0::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, QType::Q5_0) => q5_0::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, QType::Q8_0) => q8_0::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, QType::Q4K) => q4_k::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2 | Isa::Avx512, QType::Q5K) => q5_k::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, QType::Q6K) => q6_k::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2 | Isa::Avx512, QType::IQ4NL) => iq4_nl::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2 | Isa::Avx512, QType::IQ4XS) => iq4_xs::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2 | Isa::Avx512, QType::Q4_1) => offset::avx2::<N, false>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2 | Isa::Avx512, QType::Q5_1) => offset::avx2::<N, true>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2 | Isa::Avx512, QType::Q2K) => q2_k::avx2::<N>,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2 | Isa::Avx512, QType::Q3K) => q3_k::avx2::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        (Isa::Relaxed, QType::Q4_0) => q4_0::relaxed::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        (Isa::Relaxed, QType::Q5_0) => q5_0::relaxed::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        (Isa::Relaxed, QType::Q4K) => q4_k::relaxed::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        (Isa::Relaxed, QType::Q5K) => q5_k::relaxed::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        (Isa::Relaxed, QType::Q6K) => q6_k::relaxed::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        (Isa::Relaxed, QType::Q2K) => q2_k::relaxed::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        (Isa::Relaxed, QType::Q3K) => q3_k::relaxed::<N>,
        // Types without a relaxed kernel: simd128 where relaxed is chosen.
        // Q8_0, Q5_0, Q4_K and Q6_K under simd128: `split_kernel`.
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128, QType::Q4_0) => q4_0::simd128::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128, QType::Q5K) => q5_k::simd128::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128 | Isa::Relaxed, QType::IQ4NL) => iq4_nl::simd128::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128 | Isa::Relaxed, QType::IQ4XS) => iq4_xs::simd128::<N>,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128 | Isa::Relaxed, QType::Q4_1) => offset::simd128::<N, false>,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128 | Isa::Relaxed, QType::Q5_1) => offset::simd128::<N, true>,
        (_, QType::Q4_0) => q4_0::scalar::<N>,
        (_, QType::Q5_0) => q5_0::scalar::<N>,
        (_, QType::Q8_0) => q8_0::scalar::<N>,
        (_, QType::Q4K) => q4_k::scalar::<N>,
        (_, QType::Q5K) => q5_k::scalar::<N>,
        (_, QType::Q6K) => q6_k::scalar::<N>,
        (_, QType::Q4_1) => offset::scalar::<N, false>,
        (_, QType::Q5_1) => offset::scalar::<N, true>,
        (_, QType::Q2K) => q2_k::scalar::<N>,
        (_, QType::Q3K) => q3_k::scalar::<N>,
        (_, QType::IQ4NL) => iq4_nl::scalar::<N>,
        (_, QType::IQ4XS) => iq4_xs::scalar::<N>,
    };
    Some(k)
}

/// Raw pointers to the parts of `N` activation rows, behind the SIMD
/// kernels' views (`x86::Acts`, `wasm::Acts`), which load through them
/// without bounds checks. Made only after `blocks` has bounded the block
/// count by every row's lengths; the views index below that count.
#[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
pub(crate) struct ActPtrs<const N: usize> {
    pub qs: [*const i8; N],
    pub gs: [*const f32; N],
    pub gsum: [*const i32; N],
    pub gsum16: [*const i16; N],
    #[cfg(any(target_arch = "x86_64", target_feature = "relaxed-simd"))]
    pub lanes: [*const i8; N],
}

#[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
impl<const N: usize> ActPtrs<N> {
    #[inline(always)]
    pub fn new(a: &[&QuantizedActs; N]) -> Self {
        ActPtrs {
            qs: a.map(|x| x.qs.as_ptr()),
            gs: a.map(|x| x.group_scale.as_ptr()),
            gsum: a.map(|x| x.group_sum.as_ptr()),
            gsum16: a.map(|x| x.group_sum16.as_ptr()),
            #[cfg(any(target_arch = "x86_64", target_feature = "relaxed-simd"))]
            lanes: a.map(|x| x.lanes.as_ptr()),
        }
    }
}

/// Blocks of `block_bytes` bytes / `block_elems` values that the row and
/// every activation row hold in full: the kernels index nothing beyond.
// Always inlined: called a row, its divisions by a constant become shifts.
#[inline(always)]
fn blocks<const N: usize>(row: &[u8], a: &[&QuantizedActs; N], block_bytes: usize, block_elems: usize) -> usize {
    let mut n = row.len() / block_bytes;
    for x in a {
        n = n.min(x.qs.len() / block_elems).min(x.group_scale.len() * 16 / block_elems);
        n = n.min(x.group_sum.len() * 16 / block_elems).min(x.group_sum16.len() * 16 / block_elems);
    }
    n
}

/// The float combine every 32-value type shares: group `g` (16 values)
/// adds `gs_g * (sc_g * S_g + m_g * G_g)` to `t[g % 4]` (S: the integer
/// dot, G: the activations' group sum, sc/m: the weight block's scale and
/// offset, gs: the activation scale), and the row's result is
/// `((t0 + t1) + t2) + t3`. Types without offsets skip `m * G`: adding a
/// zero changes no sum here (`t` never holds -0, the one value it could).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Combine(pub [f32; 4]);

impl Combine {
    /// A group of a type without mins.
    #[inline(always)]
    pub fn add(&mut self, g: usize, gs: f32, sc: f32, s: i32) {
        self.0[g & 3] += gs * (sc * s as f32);
    }

    /// A group of a type with an offset added to every value (Q4_1, Q5_1:
    /// `d * q + m`), `sum` the activations' group sum.
    #[inline(always)]
    pub fn add_offset(&mut self, g: usize, gs: f32, (sc, s): (f32, i32), (m, sum): (f32, i32)) {
        self.0[g & 3] += gs * (sc * s as f32 + m * sum as f32);
    }

    #[inline(always)]
    pub fn total(self) -> f32 {
        self.0[0] + self.0[1] + self.0[2] + self.0[3]
    }
}

/// The f32 step of a K-quant block with mins (Q4_K, Q5_K): `s` is the
/// exact sum of the block's products times their sub-block scales, `m` of
/// the mins times the activations' sub-block sums; `ad` the activations'
/// block scale, `d` and `dmin` the weights' super-block factors.
///
/// Why this order: three orders of the same products (this one, `ad * (d
/// * s - dmin * m)`, and `(ad * d) * s - (ad * dmin) * m`, which equals the
/// f64 result) moved Gemma's top logit after the reference prompt to 18.998,
/// 19.139 and 19.389 (llama.cpp: 18.999), and flipped the teacher-forced
/// argmax at llama.cpp margins of 0.114 and 0.116: re-quantizing to 8 bits
/// every layer makes last-bit differences into tenths. Only this order keeps
/// the reference test's tolerances (`tests/reference_gemma.rs`), with
/// Q6_K's `(ad * d) * s` below (`ad * (d * s)` there fails them too).
#[inline(always)]
pub(crate) fn k_block(t: f32, ad: f32, d: f32, s: i32, dmin: f32, m: i32) -> f32 {
    t + k_term(ad, d, s, dmin, m)
}

/// The block's term `k_block` adds.
#[inline(always)]
pub(crate) fn k_term(ad: f32, d: f32, s: i32, dmin: f32, m: i32) -> f32 {
    ad * (d * s as f32) - ad * (dmin * m as f32)
}

/// As `k_block`, for a type without mins (Q6_K).
#[inline(always)]
pub(crate) fn k_block_nomin(t: f32, ad: f32, d: f32, s: i32) -> f32 {
    t + k_term_nomin(ad, d, s)
}

/// The block's term `k_block_nomin` adds.
#[inline(always)]
pub(crate) fn k_term_nomin(ad: f32, d: f32, s: i32) -> f32 {
    (ad * d) * s as f32
}

/// The row results of `N` combines.
#[inline(always)]
fn totals<const N: usize>(acc: [Combine; N]) -> [f32; N] {
    acc.map(Combine::total)
}

/// One 32-value block `i` of a row into every token's accumulator.
type BlockFn<const N: usize> = fn(&mut [Combine; N], usize, &[u8], &[&QuantizedActs; N]);

/// Blocks `from..nb` of `row` through the scalar `block`, on top of `acc`:
/// the whole scalar kernel of a 32-value type (from 0), and the blocks a
/// SIMD kernel leaves after its unrolled loop.
fn scalar_blocks<const N: usize>(
    mut acc: [Combine; N],
    row: &[u8],
    a: &[&QuantizedActs; N],
    block_bytes: usize,
    (from, nb): (usize, usize),
    block: BlockFn<N>,
) -> [f32; N] {
    for (i, b) in row.chunks_exact(block_bytes).enumerate().take(nb).skip(from) {
        block(&mut acc, i, b, a);
    }
    totals(acc)
}

/// f16 bits to f32 without a table or branch on the common path (normal
/// numbers); subnormals, infinities and NaN go through `half`.
#[inline(always)]
pub(crate) fn f16_to_f32(lo: u8, hi: u8) -> f32 {
    let h = u16::from_le_bytes([lo, hi]);
    let exp = h & 0x7c00;
    if exp != 0 && exp != 0x7c00 {
        let sign = ((h & 0x8000) as u32) << 16;
        // Rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
        f32::from_bits(sign | ((((h & 0x7fff) as u32) << 13) + ((127 - 15) << 23)))
    } else {
        half::f16::from_bits(h).to_f32()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn f16_to_f32_matches_half_for_every_value() {
        for h in 0..=u16::MAX {
            let (got, want) = (super::f16_to_f32(h as u8, (h >> 8) as u8), half::f16::from_bits(h).to_f32());
            assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "{h:#06x}: {got} vs {want}");
        }
    }
}
