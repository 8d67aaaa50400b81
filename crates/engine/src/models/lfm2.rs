//! LFM2 (Liquid's LFM2 and LFM2.5): most layers are gated short
//! convolutions, a few are attention (GQA with QK-norm, NEOX RoPE); every
//! layer has a SwiGLU feed-forward; the LM head is tied to the embedding.
//!
//! A convolution layer projects its input to B, C and x, convolves B * x
//! over the last `conv_taps` positions (depthwise, causal) and gates the
//! result by C. Its state is the last positions' B * x: kept in the KV
//! cache as that layer's keys (a row of the model's width a position, no
//! values; `Hparams::cache_widths`), so a cache cut back to a prefix, moved by a context shift or
//! stored and restored holds the convolution's state at that point as it
//! holds the attention layers' keys: a recurrent state with no snapshots.

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kv_cache::KvCache;
use crate::matrix::{load_vector, Weight};
use crate::models::{gated_ffn, last_logits, Config, Hparams};
use crate::ops::{add_in_place, attention, rms_norm, rope, silu, AttnShape, RopeStyle};

enum Mixer {
    Conv {
        /// `[d, taps]`: each channel's taps, oldest position first.
        taps: Vec<f32>,
        in_proj: Weight,
        out_proj: Weight,
    },
    Attention {
        n_kv_head: usize,
        q: Weight,
        k: Weight,
        v: Weight,
        q_norm: Vec<f32>,
        k_norm: Vec<f32>,
        o: Weight,
    },
}

struct Layer {
    norm: Vec<f32>,
    mixer: Mixer,
    ffn_norm: Vec<f32>,
    gate: Weight,
    up: Weight,
    down: Weight,
}

pub struct Lfm2 {
    pub config: Config,
    pub(crate) file: Gguf,
    embed: Weight,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    lm_head: Weight,
    eps: f32,
    ffn: usize,
    taps: usize,
    window: Option<usize>,
    inv_freq: Vec<f32>,
}

impl Lfm2 {
    pub fn load(g: Gguf, hp: &Hparams) -> Result<Self> {
        let (d, ffn, hd) = (hp.d, hp.ffn, hp.head_dim);
        if hp.conv_taps < 2 {
            return Err(Error::Metadata(format!("lfm2.shortconv.l_cache is {}", hp.conv_taps)));
        }
        let embed = Weight::load(&g, "token_embd.weight", hp.n_vocab, d)?;
        let mut layers = Vec::with_capacity(hp.n_layers);
        for (il, &n_kv_head) in hp.kv_heads.iter().enumerate() {
            let p = |s: &str| format!("blk.{il}.{s}.weight");
            let mixer = if n_kv_head == 0 {
                Mixer::Conv {
                    taps: load_vector(&g, &p("shortconv.conv"), d * hp.conv_taps)?,
                    in_proj: Weight::load(&g, &p("shortconv.in_proj"), 3 * d, d)?,
                    out_proj: Weight::load(&g, &p("shortconv.out_proj"), d, d)?,
                }
            } else {
                let (qd, kvd) = (hp.n_head * hd, n_kv_head * hd);
                Mixer::Attention {
                    n_kv_head,
                    q: Weight::load(&g, &p("attn_q"), qd, d)?,
                    k: Weight::load(&g, &p("attn_k"), kvd, d)?,
                    v: Weight::load(&g, &p("attn_v"), kvd, d)?,
                    q_norm: load_vector(&g, &p("attn_q_norm"), hd)?,
                    k_norm: load_vector(&g, &p("attn_k_norm"), hd)?,
                    o: Weight::load(&g, &p("attn_output"), d, qd)?,
                }
            };
            layers.push(Layer {
                norm: load_vector(&g, &p("attn_norm"), d)?,
                mixer,
                ffn_norm: load_vector(&g, &p("ffn_norm"), d)?,
                gate: Weight::load(&g, &p("ffn_gate"), ffn, d)?,
                up: Weight::load(&g, &p("ffn_up"), ffn, d)?,
                down: Weight::load(&g, &p("ffn_down"), d, ffn)?,
            });
        }
        // The last norm is named for the embedding in LFM2's files.
        let output_norm = load_vector(&g, "token_embd_norm.weight", d)?;
        let lm_head = if g.has_tensor("output.weight") { Weight::load(&g, "output.weight", hp.n_vocab, d)? } else { embed.clone() };
        Ok(Lfm2 {
            config: hp.config(),
            inv_freq: hp.inv_freq(&g)?,
            file: g,
            embed,
            layers,
            output_norm,
            lm_head,
            eps: hp.eps,
            ffn,
            taps: hp.conv_taps,
            window: hp.window,
        })
    }

    /// The rotation of layer `il`'s keys; none for a convolution layer.
    pub(crate) fn rope(&self, il: usize) -> Option<(&[f32], RopeStyle)> {
        match self.layers.get(il).map(|l| &l.mixer) {
            Some(Mixer::Attention { .. }) => Some((&self.inv_freq, RopeStyle::Neox)),
            _ => None,
        }
    }

    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Vec<f32> {
        let c = &self.config;
        let (d, hd, t) = (c.d_model, c.head_dim, tokens.len());
        let file = self.file.bytes();
        let pos0 = cache.len();
        let mut x = vec![0f32; t * d];
        for (row, &tok) in x.chunks_exact_mut(d).zip(tokens) {
            self.embed.row_f32(file, tok as usize, row);
        }
        let (mut h, mut o) = (vec![0f32; t * d], vec![0f32; t * d]);
        let (mut g, mut u) = (vec![0f32; t * self.ffn], vec![0f32; t * self.ffn]);
        for (il, l) in self.layers.iter().enumerate() {
            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.norm, self.eps);
            match &l.mixer {
                Mixer::Conv { taps, in_proj, out_proj } => {
                    let mut bcx = vec![0f32; t * 3 * d];
                    in_proj.matmul(file, &h, t, &mut bcx);
                    let bx: Vec<f32> = bcx.chunks_exact(3 * d).flat_map(|r| (0..d).map(move |i| r[i] * r[2 * d + i])).collect();
                    cache.push(il, &bx, &[]);
                    // The cache's rows, rounded as stored: the same inputs
                    // whether a position was read in this chunk or before.
                    let state = &cache.k[il];
                    for (i, (y, r)) in h.chunks_exact_mut(d).zip(bcx.chunks_exact(3 * d)).enumerate() {
                        let p = pos0 + i;
                        for (ch, out) in y.iter_mut().enumerate() {
                            let w = &taps[ch * self.taps..(ch + 1) * self.taps];
                            let mut s = 0f32;
                            for (j, &wj) in w.iter().enumerate() {
                                // Tap j reads position p - (taps - 1) + j; before the first, zeros.
                                if let Some(q) = (p + j).checked_sub(self.taps - 1) {
                                    s += wj * state[q * d + ch];
                                }
                            }
                            *out = r[d + ch] * s;
                        }
                    }
                    out_proj.matmul(file, &h, t, &mut o);
                }
                Mixer::Attention { n_kv_head, q, k, v, q_norm, k_norm, o: wo } => {
                    let (qd, kvd) = (c.n_head * hd, n_kv_head * hd);
                    let (mut qs, mut ks, mut vs) = (vec![0f32; t * qd], vec![0f32; t * kvd], vec![0f32; t * kvd]);
                    Weight::matmul_each(file, &h, t, [(q, &mut qs), (k, &mut ks), (v, &mut vs)]);
                    rms_norm(&mut qs, q_norm, self.eps);
                    rms_norm(&mut ks, k_norm, self.eps);
                    rope(&mut qs, qd, hd, pos0, &self.inv_freq, RopeStyle::Neox);
                    rope(&mut ks, kvd, hd, pos0, &self.inv_freq, RopeStyle::Neox);
                    cache.push(il, &ks, &vs);
                    let shape = AttnShape {
                        n_head: c.n_head,
                        n_kv_head: *n_kv_head,
                        head_dim: hd,
                        window: self.window,
                        scale: 1.0 / (hd as f32).sqrt(),
                        softcap: None,
                    };
                    let mut att = vec![0f32; t * qd];
                    attention(&qs, &cache.k[il], &cache.v[il], pos0, t, &shape, &mut att);
                    wo.matmul(file, &att, t, &mut o);
                }
            }
            add_in_place(&mut x, &o);

            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.ffn_norm, self.eps);
            gated_ffn(file, [&l.gate, &l.up, &l.down], silu, &h, t, &mut g, &mut u, &mut o);
            add_in_place(&mut x, &o);
        }
        cache.advance(t);
        last_logits(file, &mut x, d, &self.output_norm, self.eps, &self.lm_head, c.n_vocab)
    }
}
