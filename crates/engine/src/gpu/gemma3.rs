//! Gemma 3 on the GPU: the same graph as `models::gemma3` (see
//! ../shared/notes/gemma3.md): embeddings scaled by sqrt(d), QK-norm,
//! post-norms added straight into the residual, sliding-window layers
//! (il % pattern < pattern - 1) with their own RoPE base, tanh-GELU gate,
//! LM head tied to the embedding table; Gemma 2 without QK-norm, with soft
//! caps on the scores and the final logits (`models::gemma3`). The layers
//! are recorded twice over the same weights: for one decode token and for a
//! prefill chunk.

use super::attention::{attend_ops, prep_op, AttnBuffers, AttnShape, GpuKvCache, PrepBuffers, RopeArgs};
use super::buffers::{scratch, GpuWeight};
use super::device::Gpu;
use super::error::{GpuError, GpuResult};
use super::fused::{glu_ops, qkv_ops, Input, Proj};
use super::graph::{Builder, Op};
use super::matvec::{embed_ops, linear_ops};
use super::model::{capacity, lane_rows, vector, weight, Lane, Plan, Shared};
use super::ops::{self, Gate};
use crate::gguf::Gguf;
use crate::models::Hparams;
use crate::ops::rope_inv_freq;

pub(crate) async fn build(g: &Gguf, hp: &Hparams, b: &mut Builder<'_>, shared: &Shared) -> GpuResult<Plan> {
    let (d, n_layers, ffn, n_head, n_kv_head, hd, eps) = (hp.d, hp.n_layers, hp.ffn, hp.n_head, hp.n_kv_head, hp.head_dim, hp.eps);
    let (n_vocab, context_length, window) = (hp.n_vocab, hp.context_length, hp.window.unwrap_or(512));
    let (qd, kvd) = (n_head * hd, n_kv_head * hd);
    let cap = capacity(shared, context_length);
    let gpu = b.gpu;
    let mut bytes = 0u64;

    let cache = GpuKvCache::new(gpu, n_layers, kvd, cap)?;
    let logits = scratch(gpu, "logits", n_vocab)?;
    let mut lanes = Vec::new();
    for rows in lane_rows(gpu, shared, n_head * cap) {
        lanes.push(Bufs::new(gpu, rows, d, qd, kvd, ffn, n_head * cap)?);
    }

    let embed = weight(gpu, g, "token_embd.weight", n_vocab, d, &mut bytes)?;
    let mut ops: Vec<Vec<Op>> = Vec::new();
    for l in &lanes {
        ops.push(embed_ops(b, &embed, &l.x, &shared.tokens, (d as f32).sqrt()).await?);
    }
    for il in 0..n_layers {
        let p = |s: &str| format!("blk.{il}.{s}.weight");
        let sliding = hp.sliding(il);
        let w = Layer {
            qkv: Proj::load(gpu, g, &[p("attn_q"), p("attn_k"), p("attn_v")], &[qd, kvd, kvd], d, &mut bytes)?,
            wo: weight(gpu, g, &p("attn_output"), d, qd, &mut bytes)?,
            gate_up: Proj::load(gpu, g, &[p("ffn_gate"), p("ffn_up")], &[ffn, ffn], d, &mut bytes)?,
            wd: weight(gpu, g, &p("ffn_down"), d, ffn, &mut bytes)?,
            attn_norm: vector(gpu, g, &p("attn_norm"), d, &mut bytes)?,
            qk_norm: match hp.qk_norm {
                true => Some(qk_norms(gpu, g, &p("attn_q_norm"), &p("attn_k_norm"), hd, &mut bytes)?),
                false => None,
            },
            post_attn: vector(gpu, g, &p("post_attention_norm"), d, &mut bytes)?,
            ffn_norm: vector(gpu, g, &p("ffn_norm"), d, &mut bytes)?,
            post_ffn: vector(gpu, g, &p("post_ffw_norm"), d, &mut bytes)?,
        };
        let shape = AttnShape {
            n_head,
            n_kv_head,
            head_dim: hd,
            window: if sliding { window } else { 0 },
            scale: hp.attn_scale,
            softcap: hp.attn_softcap.unwrap_or(0.0),
        };
        let dims = Dims { d, eps, cap, table: if sliding { 0 } else { hd } };
        for (l, lane_ops) in lanes.iter().zip(ops.iter_mut()) {
            let kv = (&cache.k[il], &cache.v[il]);
            lane_ops.extend(layer_ops(b, l, &w, &shape, &dims, kv, shared).await?);
        }
    }
    let output_norm = vector(gpu, g, "output_norm.weight", d, &mut bytes)?;
    let Some(decode) = lanes.first() else {
        return Err(GpuError::Unsupported("no decode lane".into()));
    };
    let mut head = vec![ops::rms_norm(b, &decode.x, &output_norm, &decode.h, d, 1, eps, false).await?];
    head.extend(linear_ops(b, &embed, &decode.h, &logits, &shared.step, 1, None).await?);
    if let Some(cap) = hp.final_softcap {
        head.push(ops::soft_cap(b, &logits, n_vocab, cap).await?);
    }
    let lanes = lanes.into_iter().zip(ops).map(|(l, ops)| Lane { rows: l.rows, ops, x: l.x }).collect();
    Ok(Plan {
        config: hp.config(),
        lanes,
        head,
        inv_freqs: vec![rope_inv_freq(hd, hp.rope_base_local, None), rope_inv_freq(hd, hp.rope_base, None)],
        logits,
        cache,
        weight_bytes: bytes,
    })
}

/// Activations of a lane of `rows` tokens, token after token.
struct Bufs {
    rows: usize,
    x: wgpu::Buffer,
    h: wgpu::Buffer,
    q_raw: wgpu::Buffer,
    q: wgpu::Buffer,
    k_raw: wgpu::Buffer,
    k: wgpu::Buffer,
    v: wgpu::Buffer,
    att: wgpu::Buffer,
    o: wgpu::Buffer,
    gate: wgpu::Buffer,
    up: wgpu::Buffer,
    scores: wgpu::Buffer,
}

impl Bufs {
    fn new(gpu: &Gpu, rows: usize, d: usize, qd: usize, kvd: usize, ffn: usize, scores: usize) -> GpuResult<Self> {
        let f = |name: &str, n: usize| scratch(gpu, name, n * rows);
        Ok(Bufs {
            rows,
            x: f("x", d)?,
            h: f("h", d)?,
            q_raw: f("q raw", qd)?,
            q: f("q", qd)?,
            k_raw: f("k raw", kvd)?,
            k: f("k", kvd)?,
            v: f("v", kvd)?,
            att: f("att", qd)?,
            o: f("o", d)?,
            gate: f("gate", ffn)?,
            up: f("up", ffn)?,
            scores: f("scores", scores)?,
        })
    }
}

struct Layer {
    qkv: Proj,
    wo: GpuWeight,
    gate_up: Proj,
    wd: GpuWeight,
    attn_norm: wgpu::Buffer,
    /// q's then k's QK-norm weights (Gemma 3).
    qk_norm: Option<wgpu::Buffer>,
    post_attn: wgpu::Buffer,
    ffn_norm: wgpu::Buffer,
    post_ffn: wgpu::Buffer,
}

struct Dims {
    d: usize,
    eps: f32,
    cap: usize,
    /// Offset of this layer's RoPE table (local or global base).
    table: usize,
}

async fn layer_ops(
    b: &mut Builder<'_>,
    l: &Bufs,
    w: &Layer,
    s: &AttnShape,
    m: &Dims,
    (k_cache, v_cache): (&wgpu::Buffer, &wgpu::Buffer),
    shared: &Shared,
) -> GpuResult<Vec<Op>> {
    let (d, eps, rows, step) = (m.d, m.eps, l.rows, &shared.step);
    let pre_attn = Input::Normed { x: &l.x, weight: &w.attn_norm, eps, h: &l.h };
    let mut ops = qkv_ops(b, &w.qkv, pre_attn, [&l.q_raw, &l.k_raw, &l.v], None, step, rows).await?;
    let prep = PrepBuffers {
        q_raw: &l.q_raw,
        k_raw: &l.k_raw,
        v: &l.v,
        q: &l.q,
        k_cache,
        v_cache,
        table: &shared.rope_table,
        norms: w.qk_norm.as_ref(),
        step,
    };
    let rope = RopeArgs { neox: true, table_off: m.table, dims: s.head_dim, mscale: 1.0 };
    ops.push(prep_op(b, s, prep, &rope, eps).await?);
    let bufs = AttnBuffers { q: &l.q, k: &l.k, v: &l.v, k_cache, v_cache, scores: &l.scores, out: &l.att, step };
    ops.extend(attend_ops(b, s, bufs, m.cap).await?);
    ops.extend(linear_ops(b, &w.wo, &l.att, &l.o, step, rows, None).await?);
    ops.push(ops::norm_residual(b, &l.o, &w.post_attn, &l.x, &w.ffn_norm, &l.h, d, eps).await?);
    ops.extend(glu_ops(b, &w.gate_up, Input::Ready(&l.h), &l.gate, &l.up, Gate::GeluTanh, step, rows).await?);
    ops.extend(linear_ops(b, &w.wd, &l.gate, &l.o, step, rows, None).await?);
    ops.push(ops::rms_norm(b, &l.o, &w.post_ffn, &l.x, d, 1, eps, true).await?);
    Ok(ops)
}

/// The q and k QK-norm weights in one buffer, as `prep_op` reads them.
pub(super) fn qk_norms(gpu: &Gpu, g: &Gguf, q: &str, k: &str, hd: usize, total: &mut u64) -> GpuResult<wgpu::Buffer> {
    let mut v = crate::matrix::load_vector(g, q, hd)?;
    v.extend(crate::matrix::load_vector(g, k, hd)?);
    *total += v.len() as u64 * 4;
    super::buffers::upload_f32(gpu, "qk norms", &v)
}
