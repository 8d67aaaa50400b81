//! Qwen3.5: three of every four layers are gated DeltaNet (linear
//! attention with a recurrent state), the fourth is attention (GQA with
//! QK-norm, partial NEOX RoPE, and an output gate its query projection
//! carries); every layer has a SwiGLU feed-forward after its own norm.
//!
//! A DeltaNet layer projects its input to q, k and v (one tensor), to the
//! output gate z, and to each value head's decay and write strength. q, k
//! and v pass a causal depthwise convolution, then each head's state `S`
//! (keys by values) decays by `exp(g)`, takes the delta rule's write
//! `k (beta (v - S^T k))^T`, and answers `S^T q`. The layer's state is the
//! convolution's last inputs and every head's `S` (no row a position, as
//! llama.cpp keeps it: a row of q, k and v a position would be 18 times
//! the attention layers' cache); it sums everything before it, so the cache
//! keeps it with checkpoints to cut back to (`KvCache::reachable`).

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kv_cache::KvCache;
use crate::matrix::{load_vector, Weight};
use crate::models::hparams::DeltaNet;
use crate::models::{gated_ffn, last_logits, Config, Hparams};
use crate::ops::{add_in_place, attention, rms_norm, rope, silu, AttnShape, RopeStyle};
use crate::quant::dot_f32;

enum Mixer {
    DeltaNet {
        qkv: Weight,
        z: Weight,
        beta: Weight,
        alpha: Weight,
        /// `[conv_dim, taps]`: each channel's taps, oldest position first.
        taps: Vec<f32>,
        dt_bias: Vec<f32>,
        /// `-exp(A_log)` per value head: the decay's rate.
        a: Vec<f32>,
        norm: Vec<f32>,
        out: Weight,
    },
    Attention {
        /// Each head's query then its output gate.
        q_gate: Weight,
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

pub struct Qwen35 {
    pub config: Config,
    pub(crate) file: Gguf,
    embed: Weight,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    lm_head: Weight,
    eps: f32,
    ffn: usize,
    dn: DeltaNet,
    inv_freq: Vec<f32>,
}

impl Qwen35 {
    pub fn load(g: Gguf, hp: &Hparams) -> Result<Self> {
        let (d, ffn, hd) = (hp.d, hp.ffn, hp.head_dim);
        let dn = hp.delta_net.clone().ok_or_else(|| Error::Metadata("qwen35.ssm: no DeltaNet shape".into()))?;
        if dn.conv_taps < 2 {
            return Err(Error::Metadata(format!("qwen35.ssm.conv_kernel is {}", dn.conv_taps)));
        }
        let embed = Weight::load(&g, "token_embd.weight", hp.n_vocab, d)?;
        let (conv_dim, vd, nv) = (dn.conv_dim(), dn.n_v_heads * dn.head_dim, dn.n_v_heads);
        let mut layers = Vec::with_capacity(hp.n_layers);
        for il in 0..hp.n_layers {
            let p = |s: &str| format!("blk.{il}.{s}.weight");
            let mixer = if dn.layers[il] {
                Mixer::DeltaNet {
                    qkv: Weight::load(&g, &p("attn_qkv"), conv_dim, d)?,
                    z: Weight::load(&g, &p("attn_gate"), vd, d)?,
                    beta: Weight::load(&g, &p("ssm_beta"), nv, d)?,
                    alpha: Weight::load(&g, &p("ssm_alpha"), nv, d)?,
                    taps: load_vector(&g, &p("ssm_conv1d"), conv_dim * dn.conv_taps)?,
                    dt_bias: load_vector(&g, &format!("blk.{il}.ssm_dt.bias"), nv)?,
                    a: load_vector(&g, &format!("blk.{il}.ssm_a"), nv)?,
                    norm: load_vector(&g, &p("ssm_norm"), dn.head_dim)?,
                    out: Weight::load(&g, &p("ssm_out"), d, vd)?,
                }
            } else {
                let (qd, kvd) = (hp.n_head * hd, hp.kv_heads[il] * hd);
                Mixer::Attention {
                    q_gate: Weight::load(&g, &p("attn_q"), 2 * qd, d)?,
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
                ffn_norm: load_vector(&g, &p("post_attention_norm"), d)?,
                gate: Weight::load(&g, &p("ffn_gate"), ffn, d)?,
                up: Weight::load(&g, &p("ffn_up"), ffn, d)?,
                down: Weight::load(&g, &p("ffn_down"), d, ffn)?,
            });
        }
        let lm_head = if g.has_tensor("output.weight") { Weight::load(&g, "output.weight", hp.n_vocab, d)? } else { embed.clone() };
        Ok(Qwen35 {
            config: hp.config(),
            inv_freq: hp.inv_freq(&g)?,
            output_norm: load_vector(&g, "output_norm.weight", d)?,
            file: g,
            embed,
            layers,
            lm_head,
            eps: hp.eps,
            ffn,
            dn,
        })
    }

    /// The rotation of layer `il`'s keys; none for a DeltaNet layer.
    pub(crate) fn rope(&self, il: usize) -> Option<(&[f32], RopeStyle)> {
        match self.layers.get(il).map(|l| &l.mixer) {
            Some(Mixer::Attention { .. }) => Some((&self.inv_freq, RopeStyle::Neox)),
            _ => None,
        }
    }

    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Vec<f32> {
        let c = &self.config;
        let (d, t) = (c.d_model, tokens.len());
        let file = self.file.bytes();
        let pos0 = cache.len();
        // Where a read begins and its last token: where a later prompt most
        // often parts from this one (`KvCache::reachable`).
        if t > 1 {
            cache.checkpoint();
        }
        let mut before_last = Vec::with_capacity(if t > 1 { self.layers.len() } else { 0 });
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
                Mixer::DeltaNet { .. } => {
                    let snapshot = self.delta_net(il, l, &h, cache, &mut o);
                    if t > 1 {
                        before_last.push(snapshot.unwrap_or_default());
                    }
                }
                Mixer::Attention { .. } => {
                    self.attention(il, l, &h, pos0, cache, &mut o);
                    if t > 1 {
                        before_last.push(Vec::new());
                    }
                }
            }
            add_in_place(&mut x, &o);

            h.copy_from_slice(&x);
            rms_norm(&mut h, &l.ffn_norm, self.eps);
            gated_ffn(file, [&l.gate, &l.up, &l.down], silu, &h, t, &mut g, &mut u, &mut o);
            add_in_place(&mut x, &o);
        }
        cache.advance(t);
        if t > 1 {
            cache.keep_checkpoint(pos0 + t - 1, before_last);
        }
        last_logits(file, &mut x, d, &self.output_norm, self.eps, &self.lm_head, c.n_vocab)
    }

    fn attention(&self, il: usize, l: &Layer, h: &[f32], pos0: usize, cache: &mut KvCache, o: &mut [f32]) {
        let Mixer::Attention { q_gate, k, v, q_norm, k_norm, o: wo } = &l.mixer else { return };
        let c = &self.config;
        let (hd, t, file) = (c.head_dim, h.len() / c.d_model, self.file.bytes());
        let (qd, kvd) = (c.n_head * hd, k.rows);
        let (mut qg, mut ks, mut vs) = (vec![0f32; t * 2 * qd], vec![0f32; t * kvd], vec![0f32; t * kvd]);
        Weight::matmul_each(file, h, t, [(q_gate, &mut qg), (k, &mut ks), (v, &mut vs)]);
        let (mut qs, mut gate) = (Vec::with_capacity(t * qd), Vec::with_capacity(t * qd));
        for head in qg.chunks_exact(2 * hd) {
            qs.extend_from_slice(&head[..hd]);
            gate.extend_from_slice(&head[hd..]);
        }
        rms_norm(&mut qs, q_norm, self.eps);
        rms_norm(&mut ks, k_norm, self.eps);
        rope(&mut qs, qd, hd, pos0, &self.inv_freq, RopeStyle::Neox);
        rope(&mut ks, kvd, hd, pos0, &self.inv_freq, RopeStyle::Neox);
        cache.push(il, &ks, &vs);
        let shape = AttnShape { n_head: c.n_head, n_kv_head: kvd / hd, head_dim: hd, window: None, scale: 1.0 / (hd as f32).sqrt(), softcap: None };
        let mut att = vec![0f32; t * qd];
        attention(&qs, &cache.k[il], &cache.v[il], pos0, t, &shape, &mut att);
        for (a, gt) in att.iter_mut().zip(&gate) {
            *a *= sigmoid(*gt);
        }
        wo.matmul(file, &att, t, o);
    }

    /// One DeltaNet layer over the rows of `h`; returns
    /// its state before the last token when there is more than one.
    fn delta_net(&self, il: usize, l: &Layer, h: &[f32], cache: &mut KvCache, o: &mut [f32]) -> Option<Vec<f32>> {
        let Mixer::DeltaNet { qkv, z, beta, alpha, taps, dt_bias, a, norm, out } = &l.mixer else { return None };
        let dn = &self.dn;
        let (d, file) = (self.config.d_model, self.file.bytes());
        let t = h.len() / d;
        let (cd, hd, nv, nk, n_taps) = (dn.conv_dim(), dn.head_dim, dn.n_v_heads, dn.n_k_heads, dn.conv_taps);
        let (kd, vd) = (nk * hd, nv * hd);
        let tail = (n_taps - 1) * cd;
        // The convolution's window: the inputs before this read (the state's
        // head, oldest first; zeros at the start), then this read's.
        let mut window = vec![0f32; tail + t * cd];
        let (mut zs, mut bs, mut als) = (vec![0f32; t * vd], vec![0f32; t * nv], vec![0f32; t * nv]);
        Weight::matmul_each(file, h, t, [(qkv, &mut window[tail..]), (z, &mut zs), (beta, &mut bs), (alpha, &mut als)]);
        let state = cache.state_mut(il);
        window[..tail].copy_from_slice(&state[..tail]);
        state[..tail].copy_from_slice(&window[t * cd..]);

        // The causal convolution, then SiLU: token i's tap j reads window row i + j.
        let mut conv = vec![0f32; t * cd];
        for (i, y) in conv.chunks_exact_mut(cd).enumerate() {
            for (ch, out) in y.iter_mut().enumerate() {
                let w = &taps[ch * n_taps..(ch + 1) * n_taps];
                let s: f32 = w.iter().enumerate().map(|(j, &wj)| wj * window[(i + j) * cd + ch]).sum();
                *out = silu(s);
            }
        }

        // q and k of each key head to unit length (llama.cpp's eps inside the root).
        for row in conv.chunks_exact_mut(cd) {
            for head in row[..2 * kd].chunks_exact_mut(hd) {
                let n = 1.0 / (head.iter().map(|v| v * v).sum::<f32>() + self.eps).sqrt();
                head.iter_mut().for_each(|v| *v *= n);
            }
        }
        let scale = 1.0 / (hd as f32).sqrt();
        // One value head over the read: its state `m` (row j is column j of
        // S[key][value]) steps token by token; returns its outputs, token
        // after token, and its state before the last token of a longer read.
        let run = |hv: usize, m: &mut [f32]| -> (Vec<f32>, Vec<f32>) {
            // Value head hv reads key head hv mod nk, as llama.cpp tiles them.
            let hk = hv % nk;
            let (mut out, mut before_last, mut delta) = (vec![0f32; t * hd], Vec::new(), vec![0f32; hd]);
            for (i, row) in conv.chunks_exact(cd).enumerate() {
                if i + 1 == t && t > 1 {
                    before_last = m.to_vec();
                }
                let (q, k) = (&row[hk * hd..(hk + 1) * hd], &row[kd + hk * hd..kd + (hk + 1) * hd]);
                let v = &row[2 * kd + hv * hd..2 * kd + (hv + 1) * hd];
                let decay = (softplus(als[i * nv + hv] + dt_bias[hv]) * a[hv]).exp();
                let b = sigmoid(bs[i * nv + hv]);
                // The decay folds into both passes over the state.
                for (j, dj) in delta.iter_mut().enumerate() {
                    *dj = (v[j] - decay * dot_f32(&m[j * hd..(j + 1) * hd], k)) * b;
                }
                for (j, (&dj, yj)) in delta.iter().zip(&mut out[i * hd..(i + 1) * hd]).enumerate() {
                    let col = &mut m[j * hd..(j + 1) * hd];
                    for (s, &kk) in col.iter_mut().zip(k) {
                        *s = decay * *s + dj * kk;
                    }
                    *yj = dot_f32(col, q) * scale;
                }
            }
            (out, before_last)
        };
        let heads = &mut state[tail..];
        // A read of several tokens runs the heads in parallel, each on a copy
        // of its state; one token steps them in place.
        let done: Vec<(Vec<f32>, Vec<f32>)> = if t > 1 {
            let stepped = crate::par::map(nv, |hv| {
                let mut m = heads[hv * hd * hd..(hv + 1) * hd * hd].to_vec();
                let (out, before_last) = run(hv, &mut m);
                (m, out, before_last)
            });
            (stepped.into_iter().zip(heads.chunks_exact_mut(hd * hd)))
                .map(|((m, out, before_last), dst)| {
                    dst.copy_from_slice(&m);
                    (out, before_last)
                })
                .collect()
        } else {
            heads.chunks_exact_mut(hd * hd).enumerate().map(|(hv, m)| run(hv, m)).collect()
        };
        let mut y = vec![0f32; t * vd];
        for (hv, (out, _)) in done.iter().enumerate() {
            for (i, o) in out.chunks_exact(hd).enumerate() {
                y[i * vd + hv * hd..i * vd + (hv + 1) * hd].copy_from_slice(o);
            }
        }
        // Before the last token: its inputs were the window's rows t-1 .. t-1+taps-1.
        let snapshot = (t > 1).then(|| {
            let mut s = window[(t - 1) * cd..(t - 1) * cd + tail].to_vec();
            done.iter().for_each(|(_, before_last)| s.extend_from_slice(before_last));
            s
        });
        // Each head normed, gated by SiLU(z).
        rms_norm(&mut y, norm, self.eps);
        for (v, &zv) in y.iter_mut().zip(&zs) {
            *v *= silu(zv);
        }
        out.matmul(file, &y, t, o);
        snapshot
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// As llama.cpp computes it (the identity past 20).
fn softplus(x: f32) -> f32 {
    if x > 20.0 {
        x
    } else {
        (1.0 + x.exp()).ln()
    }
}
