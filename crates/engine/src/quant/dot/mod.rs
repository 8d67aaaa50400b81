//! Fused quantized dot products: each kernel reads a weight row's GGUF
//! blocks as they lie in the file and dots them with 8-bit activations
//! (`QuantizedActs`), decoding every block in registers once for up to
//! `MAX_TOKENS` activation rows (prefill reuses one weight row for several
//! tokens; decode uses one).
//!
//! One file per quant type, each with three versions of the same integer
//! arithmetic: `scalar` (the portable reference), `avx2` (x86_64, picked at
//! run time) and `simd128` (wasm, compiled when the build enables simd128).
//! Within a block the sums are exact integers; blocks are combined in f32,
//! so the versions differ only in float summation order.

pub mod q4_0;
pub mod q4_k;
pub mod q5_0;
pub mod q5_k;
pub mod q6_k;
pub mod q8_0;

#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;

use super::act::{ActFormat, QuantizedActs};
use super::QType;

/// Activation rows dotted with each decoded weight block in one pass.
pub const MAX_TOKENS: usize = 4;

/// An instruction set a kernel is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Scalar,
    /// x86_64 AVX2 with FMA and F16C.
    Avx2,
    /// WebAssembly 128-bit SIMD.
    Simd128,
}

impl Isa {
    /// The fastest kernels this machine runs (detected once).
    pub fn best() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
            *BEST.get_or_init(|| if Isa::Avx2.supported() { Isa::Avx2 } else { Isa::Scalar })
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
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
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every set this machine runs, scalar first (for tests and benches).
    pub fn available() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Simd128].into_iter().filter(|i| i.supported()).collect()
    }
}

/// The activation format a weight type's kernel consumes; `None` for float
/// rows, which are multiplied in f32.
pub fn act_format(q: QType) -> Option<ActFormat> {
    match q {
        QType::Q4_0 | QType::Q5_0 | QType::Q8_0 => Some(ActFormat::Q8_0),
        QType::Q4K | QType::Q5K | QType::Q6K => Some(ActFormat::Q8K),
        QType::F32 | QType::F16 | QType::BF16 => None,
    }
}

/// `out[i] = row · acts[i]` for one quantized weight row. Rows of float
/// types, and activations shorter than the row, count only the blocks both
/// cover (callers pass matching lengths). An `isa` this machine lacks falls
/// back to scalar.
pub fn dot_row(isa: Isa, q: QType, row: &[u8], acts: &[QuantizedActs], out: &mut [f32]) {
    let isa = if isa.supported() { isa } else { Isa::Scalar };
    let mut a = acts.chunks_exact(MAX_TOKENS);
    let mut o = out.chunks_exact_mut(MAX_TOKENS);
    for (ac, oc) in (&mut a).zip(&mut o) {
        let r: [f32; MAX_TOKENS] = dot_n(isa, q, row, [&ac[0], &ac[1], &ac[2], &ac[3]]);
        oc.copy_from_slice(&r);
    }
    let (ac, oc) = (a.remainder(), o.into_remainder());
    match ac.len().min(oc.len()) {
        1 => oc[..1].copy_from_slice(&dot_n(isa, q, row, [&ac[0]])),
        2 => oc[..2].copy_from_slice(&dot_n(isa, q, row, [&ac[0], &ac[1]])),
        3 => oc[..3].copy_from_slice(&dot_n(isa, q, row, [&ac[0], &ac[1], &ac[2]])),
        _ => {}
    }
}

/// One row against `N` activation rows, on the chosen (supported) set.
fn dot_n<const N: usize>(isa: Isa, q: QType, row: &[u8], a: [&QuantizedActs; N]) -> [f32; N] {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `dot_row` only passes `Avx2` when `Isa::supported` saw AVX2, FMA and F16C.
        Isa::Avx2 => unsafe {
            match q {
                QType::Q4_0 => q4_0::avx2(row, a),
                QType::Q5_0 => q5_0::avx2(row, a),
                QType::Q8_0 => q8_0::avx2(row, a),
                QType::Q4K => q4_k::avx2(row, a),
                QType::Q5K => q5_k::avx2(row, a),
                QType::Q6K => q6_k::avx2(row, a),
                QType::F32 | QType::F16 | QType::BF16 => [0.0; N],
            }
        },
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Isa::Simd128 => match q {
            QType::Q4_0 => q4_0::simd128(row, a),
            QType::Q5_0 => q5_0::simd128(row, a),
            QType::Q8_0 => q8_0::simd128(row, a),
            QType::Q4K => q4_k::simd128(row, a),
            QType::Q5K => q5_k::simd128(row, a),
            QType::Q6K => q6_k::simd128(row, a),
            QType::F32 | QType::F16 | QType::BF16 => [0.0; N],
        },
        _ => match q {
            QType::Q4_0 => q4_0::scalar(row, a),
            QType::Q5_0 => q5_0::scalar(row, a),
            QType::Q8_0 => q8_0::scalar(row, a),
            QType::Q4K => q4_k::scalar(row, a),
            QType::Q5K => q5_k::scalar(row, a),
            QType::Q6K => q6_k::scalar(row, a),
            QType::F32 | QType::F16 | QType::BF16 => [0.0; N],
        },
    }
}

/// Blocks of `block_bytes` bytes / `block_elems` values that the row and
/// every activation row hold in full: the kernels index nothing beyond.
#[inline]
fn blocks<const N: usize>(row: &[u8], a: &[&QuantizedActs; N], block_bytes: usize, block_elems: usize) -> usize {
    let mut n = row.len() / block_bytes;
    for x in a {
        n = n.min(x.qs.len() / block_elems).min(x.group_scale.len() * 16 / block_elems);
        n = n.min(x.group_sum.len() * 16 / block_elems);
    }
    n
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
