//! LFM2 (and LFM2.5) on the GPU, the graph of `models::lfm2`: most layers
//! are gated short convolutions, a few GQA attention with QK-norm and NEOX
//! RoPE; each has a SwiGLU feed-forward; the LM head is tied.
//!
//! A convolution layer keeps its convolution's input, B * x, a row of the
//! model's width a position, as its keys in the KV cache, as the CPU does:
//! a cache cut back to a prefix holds the convolution's state at that
//! point, so prefix reuse needs no snapshots. The input is stored for the
//! whole chunk first (`shortconv_store.wgsl`), then each token convolves
//! the stored rows (`shortconv.wgsl`), earlier tokens of its chunk included.

use super::attention::{attend_ops, prep_op, AttnBuffers, AttnShape, GpuKvCache, PrepBuffers, RopeArgs};
use super::buffers::{scratch, uniform, upload_f32, GpuWeight};
use super::device::Gpu;
use super::error::{GpuError, GpuResult};
use super::fused::{glu_ops, qkv_ops, Input, Proj};
use super::gemma3::qk_norms;
use super::graph::{Builder, Grid, Op};
use super::kernels::Kernel;
use super::matvec::{embed_ops, linear_ops};
use super::model::{capacity, head_ops, lane_rows, vector, weight, Lane, Plan, Shared};
use super::ops::{self, Gate};
use crate::gguf::Gguf;
use crate::models::Hparams;

enum Mixer {
    Conv { taps: wgpu::Buffer, in_proj: GpuWeight, out_proj: GpuWeight },
    Attention { n_kv_head: usize, qkv: Proj, qk_norm: wgpu::Buffer, wo: GpuWeight },
}

struct Layer {
    norm: wgpu::Buffer,
    mixer: Mixer,
    ffn_norm: wgpu::Buffer,
    gate_up: Proj,
    down: GpuWeight,
}

pub(crate) async fn build(g: &Gguf, hp: &Hparams, b: &mut Builder<'_>, shared: &Shared) -> GpuResult<Plan> {
    let (d, ffn, n_head, hd, eps) = (hp.d, hp.ffn, hp.n_head, hp.head_dim, hp.eps);
    if hp.conv_taps < 2 || !d.is_multiple_of(2) {
        return Err(GpuError::Unsupported(format!("LFM2 with {} taps over {d} channels", hp.conv_taps)));
    }
    let cap = capacity(shared, hp.context_length);
    let gpu = b.gpu;
    let mut bytes = 0u64;
    let cache = GpuKvCache::with_widths(gpu, &hp.cache_widths(), cap)?;
    let logits = scratch(gpu, "logits", hp.n_vocab)?;
    let qd = n_head * hd;
    let mut lanes = Vec::new();
    for rows in lane_rows(gpu, shared, n_head * cap) {
        lanes.push(Bufs::new(gpu, rows, d, qd, hp.n_kv_head * hd, ffn, n_head * cap)?);
    }
    let embed = weight(gpu, g, "token_embd.weight", hp.n_vocab, d, &mut bytes)?;
    let mut ops: Vec<Vec<Op>> = Vec::new();
    for l in &lanes {
        ops.push(embed_ops(b, &embed, &l.x, &shared.tokens, 1.0).await?);
    }
    for (il, &n_kv_head) in hp.kv_heads.iter().enumerate() {
        let p = |s: &str| format!("blk.{il}.{s}.weight");
        let mixer = if n_kv_head == 0 {
            let taps = crate::matrix::load_vector(g, &p("shortconv.conv"), d * hp.conv_taps)?;
            bytes += taps.len() as u64 * 4;
            Mixer::Conv {
                taps: upload_f32(gpu, &p("shortconv.conv"), &taps)?,
                in_proj: weight(gpu, g, &p("shortconv.in_proj"), 3 * d, d, &mut bytes)?,
                out_proj: weight(gpu, g, &p("shortconv.out_proj"), d, d, &mut bytes)?,
            }
        } else {
            let kvd = n_kv_head * hd;
            Mixer::Attention {
                n_kv_head,
                qkv: Proj::load(gpu, g, &[p("attn_q"), p("attn_k"), p("attn_v")], &[qd, kvd, kvd], d, &mut bytes)?,
                qk_norm: qk_norms(gpu, g, &p("attn_q_norm"), &p("attn_k_norm"), hd, &mut bytes)?,
                wo: weight(gpu, g, &p("attn_output"), d, qd, &mut bytes)?,
            }
        };
        let w = Layer {
            norm: vector(gpu, g, &p("attn_norm"), d, &mut bytes)?,
            mixer,
            ffn_norm: vector(gpu, g, &p("ffn_norm"), d, &mut bytes)?,
            gate_up: Proj::load(gpu, g, &[p("ffn_gate"), p("ffn_up")], &[ffn, ffn], d, &mut bytes)?,
            down: weight(gpu, g, &p("ffn_down"), d, ffn, &mut bytes)?,
        };
        let dims = Dims { d, n_head, hd, eps, cap, taps: hp.conv_taps, window: hp.window.unwrap_or(0), rope_dims: hp.rope_dims };
        for (l, lane_ops) in lanes.iter().zip(ops.iter_mut()) {
            lane_ops.extend(layer_ops(b, l, &w, &dims, (&cache.k[il], &cache.v[il]), shared).await?);
        }
    }
    // The last norm is named for the embedding in LFM2's files.
    let output_norm = vector(gpu, g, "token_embd_norm.weight", d, &mut bytes)?;
    let Some(decode) = lanes.first() else {
        return Err(GpuError::Unsupported("no decode lane".into()));
    };
    let head = head_ops(b, g, &embed, &output_norm, (&decode.x, &decode.h), &logits, shared, eps, &mut bytes).await?;
    let lanes = lanes.into_iter().zip(ops).map(|(l, ops)| Lane { rows: l.rows, ops, x: l.x }).collect();
    Ok(Plan {
        config: hp.config(),
        lanes,
        head,
        // Every attention layer turns its keys: one table.
        inv_freqs: vec![hp.inv_freq(g)?],
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
    /// A convolution layer's in_proj output (B | C | x, `3 d` a token).
    bcx: wgpu::Buffer,
    q: wgpu::Buffer,
    q_roped: wgpu::Buffer,
    k: wgpu::Buffer,
    v: wgpu::Buffer,
    /// The mixer's output before its out projection (attention: `qd` a
    /// token; convolution: `d`).
    att: wgpu::Buffer,
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
            bcx: f("bcx", 3 * d)?,
            q: f("q", qd)?,
            q_roped: f("q roped", qd)?,
            k: f("k", kvd)?,
            v: f("v", kvd)?,
            att: f("att", qd.max(d))?,
            gate: f("gate", ffn)?,
            up: f("up", ffn)?,
            scores: f("scores", scores)?,
        })
    }
}

struct Dims {
    d: usize,
    n_head: usize,
    hd: usize,
    eps: f32,
    cap: usize,
    taps: usize,
    /// 0: no sliding window.
    window: usize,
    rope_dims: usize,
}

async fn layer_ops(
    b: &mut Builder<'_>,
    l: &Bufs,
    w: &Layer,
    m: &Dims,
    (k_cache, v_cache): (&wgpu::Buffer, &wgpu::Buffer),
    shared: &Shared,
) -> GpuResult<Vec<Op>> {
    let (rows, step, eps) = (l.rows, &shared.step, m.eps);
    let pre = Input::Normed { x: &l.x, weight: &w.norm, eps, h: &l.h };
    let mut ops = Vec::new();
    match &w.mixer {
        Mixer::Conv { taps, in_proj, out_proj } => {
            ops.push(ops::rms_norm(b, &l.x, &w.norm, &l.h, m.d, 1, eps, false).await?);
            ops.extend(linear_ops(b, in_proj, &l.h, &l.bcx, step, rows, None).await?);
            let store = uniform(b.gpu, "shortconv store", &[m.d as u32]);
            ops.push(b.op(Kernel::ShortConvStore, &[&store, &l.bcx, k_cache, step], Grid::Tokens([(m.d as u32 / 2).div_ceil(64), 1])).await?);
            let conv = uniform(b.gpu, "shortconv", &[m.d as u32, m.taps as u32]);
            ops.push(b.op(Kernel::ShortConv, &[&conv, &l.bcx, k_cache, taps, &l.att, step], Grid::Tokens([(m.d as u32).div_ceil(64), 1])).await?);
            ops.extend(linear_ops(b, out_proj, &l.att, &l.x, step, rows, Some(1.0)).await?);
        }
        Mixer::Attention { n_kv_head, qkv, qk_norm, wo } => {
            let s = AttnShape { n_head: m.n_head, n_kv_head: *n_kv_head, head_dim: m.hd, window: m.window, scale: 1.0 / (m.hd as f32).sqrt(), softcap: 0.0 };
            ops.extend(qkv_ops(b, qkv, pre, [&l.q, &l.k, &l.v], None, step, rows).await?);
            let prep = PrepBuffers {
                q_raw: &l.q,
                k_raw: &l.k,
                v: &l.v,
                q: &l.q_roped,
                k_cache,
                v_cache,
                table: &shared.rope_table,
                norms: Some(qk_norm),
                step,
            };
            ops.push(prep_op(b, &s, prep, &RopeArgs { neox: true, table_off: 0, dims: m.rope_dims, mscale: 1.0 }, eps).await?);
            let bufs = AttnBuffers { q: &l.q_roped, k: &l.k, v: &l.v, k_cache, v_cache, scores: &l.scores, out: &l.att, step };
            ops.extend(attend_ops(b, &s, bufs, m.cap).await?);
            ops.extend(linear_ops(b, wo, &l.att, &l.x, step, rows, Some(1.0)).await?);
        }
    }
    let pre_ffn = Input::Normed { x: &l.x, weight: &w.ffn_norm, eps, h: &l.h };
    ops.extend(glu_ops(b, &w.gate_up, pre_ffn, &l.gate, &l.up, Gate::Silu, step, rows).await?);
    ops.extend(linear_ops(b, &w.down, &l.gate, &l.x, step, rows, Some(1.0)).await?);
    Ok(ops)
}
