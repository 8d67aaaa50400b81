//! Llama-family decoders on the GPU, the graph of `models::llama`: Llama
//! 2/3 (NORM RoPE, optional `rope_freqs`), Qwen2 (q/k/v biases, NEOX
//! RoPE), Qwen3 (QK-norm, NEOX RoPE), SmolLM3 (layers without RoPE) and
//! Phi-3 (fused tensors, RoPE over part of a head with LongRoPE's
//! factors) and Granite (its multipliers: the embedding op's scale, the
//! projections' factor into the residual, the scores' scale, the logits'
//! divisor in the last norm); pre-norm blocks whose projections add straight into the residual,
//! SwiGLU, untied or tied LM head. The layers are recorded twice over the
//! same weights: for one decode token and for a prefill chunk.

use super::attention::{attend_ops, prep_op, AttnBuffers, AttnShape, GpuKvCache, PrepBuffers, RopeArgs};
use super::buffers::{scratch, upload_f32, GpuWeight};
use super::device::Gpu;
use super::error::{GpuError, GpuResult};
use super::fused::{glu_ops, qkv_ops, Input, Proj, QkvBias};
use super::graph::{Builder, Op};
use super::matvec::{embed_ops, linear_ops};
use super::model::{capacity, head_ops, lane_rows, vector, weight, Lane, Plan, Shared};
use super::ops::Gate;
use crate::gguf::Gguf;
use crate::models::Hparams;
use crate::ops::RopeStyle;
use super::gemma3::qk_norms;

pub(crate) async fn build(g: &Gguf, hp: &Hparams, b: &mut Builder<'_>, shared: &Shared) -> GpuResult<Plan> {
    let (d, n_layers, ffn, n_head, n_kv_head, hd, eps) = (hp.d, hp.n_layers, hp.ffn, hp.n_head, hp.n_kv_head, hp.head_dim, hp.eps);
    let (n_vocab, context_length) = (hp.n_vocab, hp.context_length);
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
        ops.push(embed_ops(b, &embed, &l.x, &shared.tokens, hp.embedding_scale).await?);
    }
    let shape = AttnShape { n_head, n_kv_head, head_dim: hd, window: 0, softcap: 0.0, scale: hp.attn_scale };
    let dims = Dims { eps, cap, neox: hp.rope_style == RopeStyle::Neox, rope_dims: hp.rope_dims, mscale: hp.rope_mscale, residual: hp.residual_scale };
    let has = |name: String| g.has_tensor(&name);
    for il in 0..n_layers {
        let p = |s: &str| format!("blk.{il}.{s}.weight");
        let bias = |s: &str| format!("blk.{il}.{s}.bias");
        let biases = if hp.qkv_bias {
            let names = [bias("attn_q"), bias("attn_k"), bias("attn_v")];
            Some(QkvBias::load(gpu, g, names, [qd, kvd, kvd], &mut bytes)?)
        } else {
            None
        };
        let w = Layer {
            qkv: if has(p("attn_qkv")) {
                Proj::load_fused(gpu, g, &p("attn_qkv"), &[qd, kvd, kvd], d, &mut bytes)?
            } else {
                Proj::load(gpu, g, &[p("attn_q"), p("attn_k"), p("attn_v")], &[qd, kvd, kvd], d, &mut bytes)?
            },
            wo: weight(gpu, g, &p("attn_output"), d, qd, &mut bytes)?,
            gate_up: if has(p("ffn_gate")) {
                Proj::load(gpu, g, &[p("ffn_gate"), p("ffn_up")], &[ffn, ffn], d, &mut bytes)?
            } else {
                Proj::load_fused(gpu, g, &p("ffn_up"), &[ffn, ffn], d, &mut bytes)?
            },
            wd: weight(gpu, g, &p("ffn_down"), d, ffn, &mut bytes)?,
            attn_norm: vector(gpu, g, &p("attn_norm"), d, &mut bytes)?,
            ffn_norm: vector(gpu, g, &p("ffn_norm"), d, &mut bytes)?,
            biases,
            qk_norm: if hp.qk_norm { Some(qk_norms(gpu, g, &p("attn_q_norm"), &p("attn_k_norm"), hd, &mut bytes)?) } else { None },
        };
        // A layer without RoPE reads the all-zero table after the first: no rotation.
        let table = if hp.uses_rope(il) { 0 } else { hp.rope_dims };
        for (l, lane_ops) in lanes.iter().zip(ops.iter_mut()) {
            let kv = (&cache.k[il], &cache.v[il]);
            lane_ops.extend(layer_ops(b, l, &w, &shape, &dims, table, kv, shared).await?);
        }
    }
    // Granite's logit divisor, folded into the last norm's weight as on the CPU.
    let output_norm: Vec<f32> = crate::matrix::load_vector(g, "output_norm.weight", d)?.into_iter().map(|w| w / hp.logit_scale).collect();
    bytes += 4 * d as u64;
    let output_norm = upload_f32(gpu, "output_norm.weight", &output_norm)?;
    let Some(decode) = lanes.first() else {
        return Err(GpuError::Unsupported("no decode lane".into()));
    };
    let head = head_ops(b, g, &embed, &output_norm, (&decode.x, &decode.h), &logits, shared, eps, &mut bytes).await?;
    let lanes = lanes.into_iter().zip(ops).map(|(l, ops)| Lane { rows: l.rows, ops, x: l.x }).collect();
    Ok(Plan {
        config: hp.config(),
        lanes,
        head,
        inv_freqs: vec![hp.inv_freq(g)?, vec![0.0; hp.rope_dims / 2]],
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
    q: wgpu::Buffer,
    /// q after RoPE (qk_prep reads q and writes here).
    q_roped: wgpu::Buffer,
    k: wgpu::Buffer,
    v: wgpu::Buffer,
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
            q: f("q", qd)?,
            q_roped: f("q roped", qd)?,
            k: f("k", kvd)?,
            v: f("v", kvd)?,
            att: f("att", qd)?,
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
    ffn_norm: wgpu::Buffer,
    /// q, k, v biases (Qwen2).
    biases: Option<QkvBias>,
    /// Per-head q and k norms (Qwen3), as `prep_op` reads them.
    qk_norm: Option<wgpu::Buffer>,
}

struct Dims {
    eps: f32,
    cap: usize,
    neox: bool,
    rope_dims: usize,
    mscale: f32,
    /// The factor on each block's output into the residual (Granite's).
    residual: f32,
}

#[allow(clippy::too_many_arguments)]
async fn layer_ops(
    b: &mut Builder<'_>,
    l: &Bufs,
    w: &Layer,
    s: &AttnShape,
    m: &Dims,
    table: usize,
    (k_cache, v_cache): (&wgpu::Buffer, &wgpu::Buffer),
    shared: &Shared,
) -> GpuResult<Vec<Op>> {
    let (eps, rows, step) = (m.eps, l.rows, &shared.step);
    let pre_attn = Input::Normed { x: &l.x, weight: &w.attn_norm, eps, h: &l.h };
    let mut ops = qkv_ops(b, &w.qkv, pre_attn, [&l.q, &l.k, &l.v], w.biases.as_ref(), step, rows).await?;
    let prep = PrepBuffers {
        q_raw: &l.q,
        k_raw: &l.k,
        v: &l.v,
        q: &l.q_roped,
        k_cache,
        v_cache,
        table: &shared.rope_table,
        norms: w.qk_norm.as_ref(),
        step,
    };
    // The all-zero table turns nothing, so nothing is scaled either.
    let mscale = if table == 0 { m.mscale } else { 1.0 };
    let rope = RopeArgs { neox: m.neox, table_off: table, dims: m.rope_dims, mscale };
    ops.push(prep_op(b, s, prep, &rope, eps).await?);
    let bufs = AttnBuffers { q: &l.q_roped, k: &l.k, v: &l.v, k_cache, v_cache, scores: &l.scores, out: &l.att, step };
    ops.extend(attend_ops(b, s, bufs, m.cap).await?);
    ops.extend(linear_ops(b, &w.wo, &l.att, &l.x, step, rows, Some(m.residual)).await?);

    let pre_ffn = Input::Normed { x: &l.x, weight: &w.ffn_norm, eps, h: &l.h };
    ops.extend(glu_ops(b, &w.gate_up, pre_ffn, &l.gate, &l.up, Gate::Silu, step, rows).await?);
    ops.extend(linear_ops(b, &w.wd, &l.gate, &l.x, step, rows, Some(m.residual)).await?);
    Ok(ops)
}
