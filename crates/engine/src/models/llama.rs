//! Llama-family decoders: Llama 2/3 (SmolLM2, TinyLlama, Llama 3.2), Qwen2
//! (Qwen2.5), which adds biases to q/k/v and rotates NEOX-style, Qwen3,
//! which drops the biases and RMS-normalises each head's queries and keys
//! before RoPE, SmolLM3, whose every fourth layer has no RoPE, and Phi-3
//! (Phi-4-mini), whose q/k/v and gate/up come fused in one tensor each and
//! whose RoPE turns part of each head, with LongRoPE's factors and
//! attention factor, and Granite, which scales the embeddings, each
//! block's output into the residual, the attention scores and the logits
//! by its own constants. Pre-norm blocks, GQA, SwiGLU feed-forward, untied
//! or tied LM head.

use crate::error::Result;
use crate::gguf::Gguf;
use crate::kv_cache::KvCache;
use crate::matrix::{load_vector, Weight};
use crate::models::{gated_ffn, last_logits, Config, Hparams};
use crate::ops::{add_in_place, attention, rms_norm, rope, scale_rotated, silu, AttnShape, RopeStyle};

struct Layer {
    attn_norm: Vec<f32>,
    q: Weight,
    k: Weight,
    v: Weight,
    bias: Option<[Vec<f32>; 3]>,
    /// Per-head norms of queries and keys (Qwen3).
    qk_norm: Option<[Vec<f32>; 2]>,
    rope: bool,
    o: Weight,
    ffn_norm: Vec<f32>,
    gate: Weight,
    up: Weight,
    down: Weight,
}

pub struct Llama {
    pub config: Config,
    pub(crate) file: Gguf,
    embed: Weight,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    lm_head: Weight,
    eps: f32,
    ffn: usize,
    inv_freq: Vec<f32>,
    /// All zero: the rotation of a layer without RoPE (none), for a
    /// context shift's moved keys.
    no_rope: Vec<f32>,
    rope_style: RopeStyle,
    rope_mscale: f32,
    attn_scale: f32,
    embedding_scale: f32,
    residual_scale: f32,
}

/// q, k and v: three tensors, or Phi-3's one `attn_qkv` stacking them.
fn qkv_weights(g: &Gguf, il: usize, rows: [usize; 3], d: usize) -> Result<[Weight; 3]> {
    let p = |s: &str| format!("blk.{il}.{s}.weight");
    if g.has_tensor(&p("attn_qkv")) {
        let mut parts = Weight::load_parts(g, &p("attn_qkv"), &rows, d)?.into_iter();
        return Ok([(); 3].map(|_| parts.next().expect("three parts")));
    }
    Ok([Weight::load(g, &p("attn_q"), rows[0], d)?, Weight::load(g, &p("attn_k"), rows[1], d)?, Weight::load(g, &p("attn_v"), rows[2], d)?])
}

/// Gate and up: two tensors, or Phi-3's `ffn_up` of twice the rows, the
/// gate first (as llama.cpp's SwiGLU splits it).
fn gate_up_weights(g: &Gguf, il: usize, ffn: usize, d: usize) -> Result<[Weight; 2]> {
    let p = |s: &str| format!("blk.{il}.{s}.weight");
    if !g.has_tensor(&p("ffn_gate")) {
        let mut parts = Weight::load_parts(g, &p("ffn_up"), &[ffn, ffn], d)?.into_iter();
        return Ok([(); 2].map(|_| parts.next().expect("two parts")));
    }
    Ok([Weight::load(g, &p("ffn_gate"), ffn, d)?, Weight::load(g, &p("ffn_up"), ffn, d)?])
}

impl Llama {
    pub fn load(g: Gguf, hp: &Hparams) -> Result<Self> {
        let (d, ffn, head_dim) = (hp.d, hp.ffn, hp.head_dim);
        let (qd, kvd) = (hp.n_head * head_dim, hp.n_kv_head * head_dim);
        let embed = Weight::load(&g, "token_embd.weight", hp.n_vocab, d)?;
        let mut layers = Vec::with_capacity(hp.n_layers);
        for il in 0..hp.n_layers {
            let p = |s: &str| format!("blk.{il}.{s}.weight");
            let b = |s: &str| format!("blk.{il}.{s}.bias");
            let bias = if hp.qkv_bias {
                Some([load_vector(&g, &b("attn_q"), qd)?, load_vector(&g, &b("attn_k"), kvd)?, load_vector(&g, &b("attn_v"), kvd)?])
            } else {
                None
            };
            let qk_norm = if hp.qk_norm {
                Some([load_vector(&g, &p("attn_q_norm"), head_dim)?, load_vector(&g, &p("attn_k_norm"), head_dim)?])
            } else {
                None
            };
            let [q, k, v] = qkv_weights(&g, il, [qd, kvd, kvd], d)?;
            let [gate, up] = gate_up_weights(&g, il, ffn, d)?;
            layers.push(Layer {
                attn_norm: load_vector(&g, &p("attn_norm"), d)?,
                q,
                k,
                v,
                bias,
                qk_norm,
                rope: hp.uses_rope(il),
                o: Weight::load(&g, &p("attn_output"), d, qd)?,
                ffn_norm: load_vector(&g, &p("ffn_norm"), d)?,
                gate,
                up,
                down: Weight::load(&g, &p("ffn_down"), d, ffn)?,
            });
        }
        // Granite's logit divisor, folded into the last norm's weight.
        let output_norm: Vec<f32> = load_vector(&g, "output_norm.weight", d)?.into_iter().map(|w| w / hp.logit_scale).collect();
        let lm_head = if g.has_tensor("output.weight") {
            Weight::load(&g, "output.weight", hp.n_vocab, d)?
        } else {
            embed.clone()
        };
        let inv_freq = hp.inv_freq(&g)?;
        Ok(Llama {
            config: hp.config(),
            file: g,
            embed,
            layers,
            output_norm,
            lm_head,
            eps: hp.eps,
            ffn,
            no_rope: vec![0.0; inv_freq.len()],
            inv_freq,
            rope_style: hp.rope_style,
            rope_mscale: hp.rope_mscale,
            attn_scale: hp.attn_scale,
            embedding_scale: hp.embedding_scale,
            residual_scale: hp.residual_scale,
        })
    }

    /// The rotation of every layer's keys.
    pub(crate) fn rope(&self, il: usize) -> (&[f32], RopeStyle) {
        let rotates = self.layers.get(il).is_none_or(|l| l.rope);
        (if rotates { &self.inv_freq } else { &self.no_rope }, self.rope_style)
    }

    /// `x += o`, `o` scaled first by Granite's residual multiplier.
    fn add_residual(&self, x: &mut [f32], o: &mut [f32]) {
        if self.residual_scale != 1.0 {
            o.iter_mut().for_each(|v| *v *= self.residual_scale);
        }
        add_in_place(x, o);
    }

    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Vec<f32> {
        let c = &self.config;
        let (d, hd, t) = (c.d_model, c.head_dim, tokens.len());
        let (qd, kvd) = (c.n_head * hd, c.n_kv_head * hd);
        let file = self.file.bytes();
        let pos0 = cache.len();
        let mut x = vec![0f32; t * d];
        for (row, &tok) in x.chunks_exact_mut(d).zip(tokens) {
            self.embed.row_f32(file, tok as usize, row);
            if self.embedding_scale != 1.0 {
                row.iter_mut().for_each(|v| *v *= self.embedding_scale);
            }
        }
        let (mut h, mut q, mut k, mut v) = (vec![0f32; t * d], vec![0f32; t * qd], vec![0f32; t * kvd], vec![0f32; t * kvd]);
        let (mut att, mut o) = (vec![0f32; t * qd], vec![0f32; t * d]);
        let (mut g, mut u) = (vec![0f32; t * self.ffn], vec![0f32; t * self.ffn]);
        for (il, l) in self.layers.iter().enumerate() {
            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.attn_norm, self.eps);
            Weight::matmul_each(file, &h, t, [(&l.q, &mut q), (&l.k, &mut k), (&l.v, &mut v)]);
            if let Some([bq, bk, bv]) = &l.bias {
                for (m, b) in [(&mut q, bq), (&mut k, bk), (&mut v, bv)] {
                    for row in m.chunks_exact_mut(b.len()) {
                        add_in_place(row, b);
                    }
                }
            }
            if let Some([qn, kn]) = &l.qk_norm {
                rms_norm(&mut q, qn, self.eps);
                rms_norm(&mut k, kn, self.eps);
            }
            if l.rope {
                rope(&mut q, qd, hd, pos0, &self.inv_freq, self.rope_style);
                rope(&mut k, kvd, hd, pos0, &self.inv_freq, self.rope_style);
                if self.rope_mscale != 1.0 {
                    let dims = 2 * self.inv_freq.len();
                    scale_rotated(&mut q, hd, dims, self.rope_mscale);
                    scale_rotated(&mut k, hd, dims, self.rope_mscale);
                }
            }
            cache.push(il, &k, &v);
            let shape = AttnShape {
                n_head: c.n_head,
                n_kv_head: c.n_kv_head,
                head_dim: hd,
                window: None,
                scale: self.attn_scale,
                softcap: None,
            };
            attention(&q, &cache.k[il], &cache.v[il], pos0, t, &shape, &mut att);
            l.o.matmul(file, &att, t, &mut o);
            self.add_residual(&mut x, &mut o);

            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.ffn_norm, self.eps);
            gated_ffn(file, [&l.gate, &l.up, &l.down], silu, &h, t, &mut g, &mut u, &mut o);
            self.add_residual(&mut x, &mut o);
        }
        cache.advance(t);
        last_logits(file, &mut x, d, &self.output_norm, self.eps, &self.lm_head, c.n_vocab)
    }
}
