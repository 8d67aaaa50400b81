//! Gemma 3 (text), as llama.cpp runs it; see ../shared/notes/gemma3.md.
//! Sliding-window layers (il % 6 < 5) with RoPE base 10k and a 512-token
//! window, global layers with base 1M; QK-norm; post-norms around attention
//! and FFN; tanh-GELU gate; embeddings scaled by sqrt(d); tied LM head.
//! Gemma 2 is the same block without QK-norm, with every other layer
//! sliding (4,096 tokens, one RoPE base) and soft caps (`cap * tanh(x /
//! cap)`) on the attention scores and the final logits.

use crate::error::Result;
use crate::gguf::Gguf;
use crate::kv_cache::KvCache;
use crate::matrix::{load_vector, Weight};
use crate::models::{gated_ffn, last_logits, Config, Hparams};
use crate::attention::soft_cap;
use crate::ops::{add_in_place, attention, gelu_tanh_f16, rms_norm, rope, rope_inv_freq, AttnShape, RopeStyle};

struct Layer {
    attn_norm: Vec<f32>,
    q: Weight,
    k: Weight,
    v: Weight,
    /// Per-head norms of queries and keys (Gemma 3).
    qk_norm: Option<[Vec<f32>; 2]>,
    o: Weight,
    post_attn_norm: Vec<f32>,
    ffn_norm: Vec<f32>,
    gate: Weight,
    up: Weight,
    down: Weight,
    post_ffn_norm: Vec<f32>,
    sliding: bool,
}

pub struct Gemma3 {
    pub config: Config,
    pub(crate) file: Gguf,
    embed: Weight,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    eps: f32,
    window: usize,
    ffn: usize,
    inv_freq_local: Vec<f32>,
    inv_freq_global: Vec<f32>,
    attn_scale: f32,
    attn_softcap: Option<f32>,
    final_softcap: Option<f32>,
}

impl Gemma3 {
    pub fn load(g: Gguf, hp: &Hparams) -> Result<Self> {
        let (d, ffn, head_dim) = (hp.d, hp.ffn, hp.head_dim);
        let (qd, kvd) = (hp.n_head * head_dim, hp.n_kv_head * head_dim);
        let embed = Weight::load(&g, "token_embd.weight", hp.n_vocab, d)?;
        let mut layers = Vec::with_capacity(hp.n_layers);
        for il in 0..hp.n_layers {
            let p = |s: &str| format!("blk.{il}.{s}.weight");
            layers.push(Layer {
                attn_norm: load_vector(&g, &p("attn_norm"), d)?,
                q: Weight::load(&g, &p("attn_q"), qd, d)?,
                k: Weight::load(&g, &p("attn_k"), kvd, d)?,
                v: Weight::load(&g, &p("attn_v"), kvd, d)?,
                qk_norm: match hp.qk_norm {
                    true => Some([load_vector(&g, &p("attn_q_norm"), head_dim)?, load_vector(&g, &p("attn_k_norm"), head_dim)?]),
                    false => None,
                },
                o: Weight::load(&g, &p("attn_output"), d, qd)?,
                post_attn_norm: load_vector(&g, &p("post_attention_norm"), d)?,
                ffn_norm: load_vector(&g, &p("ffn_norm"), d)?,
                gate: Weight::load(&g, &p("ffn_gate"), ffn, d)?,
                up: Weight::load(&g, &p("ffn_up"), ffn, d)?,
                down: Weight::load(&g, &p("ffn_down"), d, ffn)?,
                post_ffn_norm: load_vector(&g, &p("post_ffw_norm"), d)?,
                sliding: hp.sliding(il),
            });
        }
        let output_norm = load_vector(&g, "output_norm.weight", d)?;
        Ok(Gemma3 {
            config: hp.config(),
            file: g,
            embed,
            layers,
            output_norm,
            eps: hp.eps,
            window: hp.window.unwrap_or(512),
            ffn,
            inv_freq_local: rope_inv_freq(head_dim, hp.rope_base_local, None),
            inv_freq_global: rope_inv_freq(head_dim, hp.rope_base, None),
            attn_scale: hp.attn_scale,
            attn_softcap: hp.attn_softcap,
            final_softcap: hp.final_softcap,
        })
    }

    /// The rotation of layer `il`'s keys.
    pub(crate) fn rope(&self, il: usize) -> (&[f32], RopeStyle) {
        let sliding = self.layers.get(il).is_some_and(|l| l.sliding);
        (if sliding { &self.inv_freq_local } else { &self.inv_freq_global }, RopeStyle::Neox)
    }

    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Vec<f32> {
        let c = &self.config;
        let (d, hd, t) = (c.d_model, c.head_dim, tokens.len());
        let (qd, kvd) = (c.n_head * hd, c.n_kv_head * hd);
        let file = self.file.bytes();
        let pos0 = cache.len();
        let scale_emb = (d as f32).sqrt();
        let mut x = vec![0f32; t * d];
        for (row, &tok) in x.chunks_exact_mut(d).zip(tokens) {
            self.embed.row_f32(file, tok as usize, row);
            row.iter_mut().for_each(|v| *v *= scale_emb);
        }
        let (mut h, mut q, mut k, mut v) = (vec![0f32; t * d], vec![0f32; t * qd], vec![0f32; t * kvd], vec![0f32; t * kvd]);
        let (mut att, mut o) = (vec![0f32; t * qd], vec![0f32; t * d]);
        let (mut g, mut u) = (vec![0f32; t * self.ffn], vec![0f32; t * self.ffn]);
        for (il, l) in self.layers.iter().enumerate() {
            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.attn_norm, self.eps);
            Weight::matmul_each(file, &h, t, [(&l.q, &mut q), (&l.k, &mut k), (&l.v, &mut v)]);
            if let Some([qn, kn]) = &l.qk_norm {
                rms_norm(&mut q, qn, self.eps);
                rms_norm(&mut k, kn, self.eps);
            }
            let (inv, style) = self.rope(il);
            rope(&mut q, qd, hd, pos0, inv, style);
            rope(&mut k, kvd, hd, pos0, inv, style);
            cache.push(il, &k, &v);
            let shape = AttnShape {
                n_head: c.n_head,
                n_kv_head: c.n_kv_head,
                head_dim: hd,
                window: l.sliding.then_some(self.window),
                scale: self.attn_scale,
                softcap: self.attn_softcap,
            };
            attention(&q, &cache.k[il], &cache.v[il], pos0, t, &shape, &mut att);
            l.o.matmul(file, &att, t, &mut o);
            rms_norm(&mut o, &l.post_attn_norm, self.eps);
            add_in_place(&mut x, &o);

            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.ffn_norm, self.eps);
            gated_ffn(file, [&l.gate, &l.up, &l.down], gelu_tanh_f16, &h, t, &mut g, &mut u, &mut o);
            rms_norm(&mut o, &l.post_ffn_norm, self.eps);
            add_in_place(&mut x, &o);
        }
        cache.advance(t);
        let mut logits = last_logits(file, &mut x, d, &self.output_norm, self.eps, &self.embed, c.n_vocab);
        if let Some(cap) = self.final_softcap {
            logits.iter_mut().for_each(|x| *x = soft_cap(*x, cap));
        }
        logits
    }
}
