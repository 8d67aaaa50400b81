//! Llama-family decoders: Llama 2/3 (SmolLM2, TinyLlama, Llama 3.2) and
//! Qwen2 (Qwen2.5), which adds biases to q/k/v and rotates NEOX-style.
//! Pre-norm blocks, GQA, SwiGLU feed-forward, untied or tied LM head.

use crate::error::Result;
use crate::gguf::Gguf;
use crate::kv_cache::KvCache;
use crate::matrix::{load_vector, Weight};
use crate::models::{meta_f32, meta_usize, vocab_size, Config};
use crate::ops::{add_in_place, attention, rms_norm, rope, rope_inv_freq, silu, AttnShape, RopeStyle};

struct Layer {
    attn_norm: Vec<f32>,
    q: Weight,
    k: Weight,
    v: Weight,
    bias: Option<[Vec<f32>; 3]>,
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
    rope_style: RopeStyle,
}

impl Llama {
    pub fn load(g: Gguf, arch: &str) -> Result<Self> {
        let a = arch;
        let d = meta_usize(&g, a, "embedding_length")?;
        let n_layers = meta_usize(&g, a, "block_count")?;
        let ffn = meta_usize(&g, a, "feed_forward_length")?;
        let n_head = meta_usize(&g, a, "attention.head_count")?;
        let n_kv_head = meta_usize(&g, a, "attention.head_count_kv").unwrap_or(n_head);
        let head_dim = meta_usize(&g, a, "attention.key_length").unwrap_or(d / n_head.max(1));
        let eps = meta_f32(&g, a, "attention.layer_norm_rms_epsilon").unwrap_or(1e-5);
        let base = meta_f32(&g, a, "rope.freq_base").unwrap_or(10_000.0);
        let rope_dims = meta_usize(&g, a, "rope.dimension_count").unwrap_or(head_dim);
        let n_vocab = vocab_size(&g, a)?;
        let context_length = meta_usize(&g, a, "context_length").unwrap_or(4096);
        let (qd, kvd) = (n_head * head_dim, n_kv_head * head_dim);
        let embed = Weight::load(&g, "token_embd.weight", n_vocab, d)?;
        let qwen = arch == "qwen2";
        let mut layers = Vec::with_capacity(n_layers);
        for il in 0..n_layers {
            let p = |s: &str| format!("blk.{il}.{s}.weight");
            let b = |s: &str| format!("blk.{il}.{s}.bias");
            let bias = if qwen || g.has_tensor(&b("attn_q")) {
                Some([load_vector(&g, &b("attn_q"), qd)?, load_vector(&g, &b("attn_k"), kvd)?, load_vector(&g, &b("attn_v"), kvd)?])
            } else {
                None
            };
            layers.push(Layer {
                attn_norm: load_vector(&g, &p("attn_norm"), d)?,
                q: Weight::load(&g, &p("attn_q"), qd, d)?,
                k: Weight::load(&g, &p("attn_k"), kvd, d)?,
                v: Weight::load(&g, &p("attn_v"), kvd, d)?,
                bias,
                o: Weight::load(&g, &p("attn_output"), d, qd)?,
                ffn_norm: load_vector(&g, &p("ffn_norm"), d)?,
                gate: Weight::load(&g, &p("ffn_gate"), ffn, d)?,
                up: Weight::load(&g, &p("ffn_up"), ffn, d)?,
                down: Weight::load(&g, &p("ffn_down"), d, ffn)?,
            });
        }
        let output_norm = load_vector(&g, "output_norm.weight", d)?;
        let lm_head = if g.has_tensor("output.weight") {
            Weight::load(&g, "output.weight", n_vocab, d)?
        } else {
            embed.clone()
        };
        let factors = if g.has_tensor("rope_freqs.weight") {
            Some(load_vector(&g, "rope_freqs.weight", rope_dims / 2)?)
        } else {
            None
        };
        let name = g.get_str("general.name").unwrap_or_else(|_| arch.into());
        Ok(Llama {
            config: Config {
                architecture: arch.into(),
                name,
                n_vocab,
                context_length,
                n_layers,
                d_model: d,
                n_head,
                n_kv_head,
                head_dim,
            },
            file: g,
            embed,
            layers,
            output_norm,
            lm_head,
            eps,
            ffn,
            inv_freq: rope_inv_freq(head_dim, base, factors.as_deref()),
            rope_style: if qwen { RopeStyle::Neox } else { RopeStyle::Norm },
        })
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
        }
        let (mut h, mut q, mut k, mut v) = (vec![0f32; t * d], vec![0f32; t * qd], vec![0f32; t * kvd], vec![0f32; t * kvd]);
        let (mut att, mut o) = (vec![0f32; t * qd], vec![0f32; t * d]);
        let (mut g, mut u) = (vec![0f32; t * self.ffn], vec![0f32; t * self.ffn]);
        for (il, l) in self.layers.iter().enumerate() {
            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.attn_norm, self.eps);
            l.q.matmul(file, &h, t, &mut q);
            l.k.matmul(file, &h, t, &mut k);
            l.v.matmul(file, &h, t, &mut v);
            if let Some([bq, bk, bv]) = &l.bias {
                for (m, b) in [(&mut q, bq), (&mut k, bk), (&mut v, bv)] {
                    for row in m.chunks_exact_mut(b.len()) {
                        add_in_place(row, b);
                    }
                }
            }
            rope(&mut q, qd, hd, pos0, &self.inv_freq, self.rope_style);
            rope(&mut k, kvd, hd, pos0, &self.inv_freq, self.rope_style);
            cache.push(il, &k, &v);
            let shape = AttnShape {
                n_head: c.n_head,
                n_kv_head: c.n_kv_head,
                head_dim: hd,
                window: None,
                scale: 1.0 / (hd as f32).sqrt(),
            };
            attention(&q, &cache.k[il], &cache.v[il], pos0, t, &shape, &mut att);
            l.o.matmul(file, &att, t, &mut o);
            add_in_place(&mut x, &o);

            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.ffn_norm, self.eps);
            l.gate.matmul(file, &h, t, &mut g);
            l.up.matmul(file, &h, t, &mut u);
            for (a, b) in g.iter_mut().zip(&u) {
                *a = silu(*a) * b;
            }
            l.down.matmul(file, &g, t, &mut o);
            add_in_place(&mut x, &o);
        }
        cache.advance(t);
        let last = &mut x[(t - 1) * d..];
        rms_norm(last, &self.output_norm, self.eps);
        let mut logits = vec![0f32; c.n_vocab];
        self.lm_head.matvec_rows(file, last, 0, c.n_vocab, &mut logits);
        logits
    }
}
