//! The non-matrix operations of a transformer block, on f32 rows.

use crate::par;
use crate::quant::dot_f32;

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
    let half = inv_freq.len();
    let mut cs = vec![(0f32, 0f32); half];
    for (i, tok) in x.chunks_exact_mut(row).enumerate() {
        let p = (pos0 + i) as f32;
        for (c, f) in cs.iter_mut().zip(inv_freq) {
            let (s, co) = (p * f).sin_cos();
            *c = (co, s);
        }
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
}

/// GELU with the tanh approximation (Gemma's feed-forward gate).
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    const C: f32 = 0.797_884_6; // sqrt(2/pi)
    0.5 * x * (1.0 + (C * (x + 0.044715 * x * x * x)).tanh())
}

/// GELU as llama.cpp's CPU backend computes it: input and output rounded
/// to f16 (it reads a table indexed by the f16 input). Matching it keeps
/// our logits within the reference's tolerance.
#[inline]
pub fn gelu_tanh_f16(x: f32) -> f32 {
    if x <= -10.0 {
        0.0
    } else if x >= 10.0 {
        x
    } else {
        round_f16(gelu_tanh(round_f16(x)))
    }
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

/// The shape of one attention call.
pub struct AttnShape {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    /// Keys at distance `window` or more are masked (sliding-window layers).
    pub window: Option<usize>,
    pub scale: f32,
}

/// Causal attention of `t` query rows at positions `pos0..pos0+t` over the
/// cached keys/values `0..pos0+t` (GQA: query head h reads kv head
/// h / (n_head / n_kv_head)). `out` has the layout of `q`.
pub fn attention(q: &[f32], k: &[f32], v: &[f32], pos0: usize, t: usize, s: &AttnShape, out: &mut [f32]) {
    debug_assert_eq!(out.len(), t * s.n_head * s.head_dim);
    let hd = s.head_dim;
    let q_row = s.n_head * hd;
    let kv_row = s.n_kv_head * hd;
    let group = s.n_head / s.n_kv_head;
    par::for_chunks(out, hd, |first, o| {
        let (tok, h) = (first / q_row, (first % q_row) / hd);
        let p = pos0 + tok;
        let lo = match s.window {
            Some(w) => (p + 1).saturating_sub(w),
            None => 0,
        };
        let qh = &q[tok * q_row + h * hd..tok * q_row + (h + 1) * hd];
        let kvh = h / group;
        let mut scores: Vec<f32> = (lo..=p)
            .map(|j| dot_f32(qh, &k[j * kv_row + kvh * hd..j * kv_row + (kvh + 1) * hd]) * s.scale)
            .collect();
        softmax(&mut scores);
        o.fill(0.0);
        for (j, w) in (lo..=p).zip(&scores) {
            let vj = &v[j * kv_row + kvh * hd..j * kv_row + (kvh + 1) * hd];
            for (a, b) in o.iter_mut().zip(vj) {
                *a += w * b;
            }
        }
    });
}

pub fn softmax(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - m).exp();
        sum += *v;
    }
    if sum > 0.0 {
        for v in x.iter_mut() {
            *v /= sum;
        }
    }
}
