//! The non-matrix operations of a transformer block, on f32 rows.

pub use crate::attention::{attention, softmax, AttnShape};

/// RMSNorm of each `w.len()`-wide row of `x`, in place, times `w`.
pub fn rms_norm(x: &mut [f32], w: &[f32], eps: f32) {
    for row in x.chunks_exact_mut(w.len()) {
        let ms = row.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        let s = 1.0 / (ms + eps).sqrt();
        for (v, g) in row.iter_mut().zip(w) {
            *v *= s * g;
        }
    }
}

/// Inverse frequencies `base^(-2i/dims)` for RoPE, divided by optional
/// per-pair factors (Llama 3's `rope_freqs`).
pub fn rope_inv_freq(dims: usize, base: f32, factors: Option<&[f32]>) -> Vec<f32> {
    (0..dims / 2)
        .map(|i| {
            let f = 1.0 / base.powf(2.0 * i as f32 / dims as f32);
            match factors.and_then(|fs| fs.get(i)) {
                Some(div) if *div != 0.0 => f / div,
                _ => f,
            }
        })
        .collect()
}

/// How a head's dims are paired for rotation: NEOX rotates the two halves
/// (Gemma, Qwen2), NORM rotates adjacent pairs (Llama GGUFs are converted so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    Neox,
    Norm,
}

/// Rotates every head (`head_dim` wide) of each token row; token `i` of `x`
/// is at position `pos0 + i`.
pub fn rope(x: &mut [f32], row: usize, head_dim: usize, pos0: usize, inv_freq: &[f32], style: RopeStyle) {
    let mut cs = vec![(0f32, 0f32); inv_freq.len()];
    for (i, tok) in x.chunks_exact_mut(row).enumerate() {
        angles((pos0 + i) as f32, inv_freq, &mut cs);
        rotate(tok, head_dim, &cs, style);
    }
}

/// Rotates every head of each row by `delta` positions: keys cached at
/// position `p` become keys at `p + delta` (rotations compose), as
/// llama.cpp's context shift re-rotates its cache.
pub fn rope_shift(x: &mut [f32], row: usize, head_dim: usize, delta: f32, inv_freq: &[f32], style: RopeStyle) {
    let mut cs = vec![(0f32, 0f32); inv_freq.len()];
    angles(delta, inv_freq, &mut cs);
    for tok in x.chunks_exact_mut(row) {
        rotate(tok, head_dim, &cs, style);
    }
}

/// Multiplies the first `dims` of every head (the rotated ones) by `m`:
/// LongRoPE's attention factor, which llama.cpp's RoPE folds into its
/// cos and sin.
pub fn scale_rotated(x: &mut [f32], head_dim: usize, dims: usize, m: f32) {
    for head in x.chunks_exact_mut(head_dim) {
        for v in &mut head[..dims] {
            *v *= m;
        }
    }
}

fn angles(p: f32, inv_freq: &[f32], cs: &mut [(f32, f32)]) {
    for (c, f) in cs.iter_mut().zip(inv_freq) {
        let (s, co) = (p * f).sin_cos();
        *c = (co, s);
    }
}

fn rotate(tok: &mut [f32], head_dim: usize, cs: &[(f32, f32)], style: RopeStyle) {
    let half = cs.len();
    for head in tok.chunks_exact_mut(head_dim) {
        for (j, &(c, s)) in cs.iter().enumerate() {
            let (a, b) = match style {
                RopeStyle::Neox => (j, j + half),
                RopeStyle::Norm => (2 * j, 2 * j + 1),
            };
            let (x0, x1) = (head[a], head[b]);
            head[a] = x0 * c - x1 * s;
            head[b] = x0 * s + x1 * c;
        }
    }
}

/// GELU with the tanh approximation (Gemma's feed-forward gate).
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    const C: f32 = 0.797_884_6; // sqrt(2/pi)
    0.5 * x * (1.0 + (C * (x + 0.044715 * x * x * x)).tanh())
}

/// GELU as llama.cpp's CPU backend computes it: input and output rounded
/// to f16 (it reads a table indexed by the f16 input). Matching it keeps
/// our logits within the reference's tolerance. Read from a table of every
/// f16 input, as llama.cpp does: `tanh` was 8% of Gemma's prefill.
#[inline]
pub fn gelu_tanh_f16(x: f32) -> f32 {
    if x <= -10.0 {
        0.0
    } else if x >= 10.0 {
        x
    } else {
        gelu_table()[half::f16::from_f32(x).to_bits() as usize]
    }
}

/// `round_f16(gelu_tanh(x))` for the f16 with each bit pattern (256 KiB,
/// built on first use).
fn gelu_table() -> &'static [f32] {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=u16::MAX).map(|b| round_f16(gelu_tanh(half::f16::from_bits(b).to_f32()))).collect())
}

#[inline]
pub fn round_f16(x: f32) -> f32 {
    half::f16::from_f32(x).to_f32()
}

#[inline]
pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

pub fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table gives what rounding, GELU and rounding again give, for
    /// every f16 input inside the clamps and for f32 inputs between them.
    #[test]
    fn gelu_table_matches_the_direct_computation() {
        let direct = |x: f32| round_f16(gelu_tanh(round_f16(x)));
        for b in 0..=u16::MAX {
            let x = half::f16::from_bits(b).to_f32();
            if x.is_finite() && x > -10.0 && x < 10.0 {
                assert_eq!(gelu_tanh_f16(x).to_bits(), direct(x).to_bits(), "f16 bits {b:#06x} ({x})");
            }
        }
        for i in 0..200_000 {
            let x = -10.0 + i as f32 * 1e-4 + 3.3e-5;
            if x < 10.0 {
                assert_eq!(gelu_tanh_f16(x).to_bits(), direct(x).to_bits(), "{x}");
            }
        }
        assert_eq!(gelu_tanh_f16(-10.0), 0.0);
        assert_eq!(gelu_tanh_f16(12.5), 12.5);
    }
}
