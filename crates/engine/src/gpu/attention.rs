//! The KV cache on the GPU and decode attention over it.
//!
//! Keys and values are stored as packed f16 pairs (llama.cpp's cache
//! precision, half the memory of f32), one buffer per layer, sized for the
//! context the caller asked for. Attention is two dispatches: scores
//! (q . k for the visible keys), then softmax and the probability-weighted
//! sum of values, each over the query tokens of the chunk in grid z (a causal
//! mask: token t sees positions up to `pos + t`, whose keys the store
//! before it wrote). Sliding-window layers see only the
//! last `window` positions.

use super::buffers::{scratch, uniform};
use super::device::Gpu;
use super::error::{GpuError, GpuResult};
use super::graph::{Builder, Grid, Op};
use super::kernels::Kernel;

pub struct GpuKvCache {
    pub k: Vec<wgpu::Buffer>,
    pub v: Vec<wgpu::Buffer>,
    pub capacity: usize,
}

impl GpuKvCache {
    /// `n_layers` layers of `kv_dim`-wide keys and values.
    pub fn new(gpu: &Gpu, n_layers: usize, kv_dim: usize, capacity: usize) -> GpuResult<Self> {
        Self::with_widths(gpu, &vec![(kv_dim, kv_dim); n_layers], capacity)
    }

    /// A layer's (key, value) widths as `Hparams::cache_widths` gives them
    /// (an LFM2 convolution layer keeps its input as keys, and no values).
    pub fn with_widths(gpu: &Gpu, widths: &[(usize, usize)], capacity: usize) -> GpuResult<Self> {
        let words = |w: usize, what: &str, il: usize| -> GpuResult<wgpu::Buffer> {
            if !w.is_multiple_of(2) {
                return Err(GpuError::Unsupported(format!("an odd KV width ({w})")));
            }
            let n = capacity
                .checked_mul(w / 2)
                .ok_or_else(|| GpuError::Unsupported(format!("a KV cache of {capacity} positions")))?;
            scratch(gpu, &format!("{what} cache {il}"), n.max(1))
        };
        let mut k = Vec::with_capacity(widths.len());
        let mut v = Vec::with_capacity(widths.len());
        for (il, &(kw, vw)) in widths.iter().enumerate() {
            k.push(words(kw, "k", il)?);
            v.push(words(vw, "v", il)?);
        }
        Ok(GpuKvCache { k, v, capacity })
    }

    pub fn bytes(&self) -> u64 {
        self.k.iter().chain(&self.v).map(|b| b.size()).sum()
    }
}

pub struct AttnShape {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    /// 0: every earlier position is visible.
    pub window: usize,
    pub scale: f32,
    /// Gemma 2's cap on the scores (`cap * tanh(s / cap)`), 0 for none.
    pub softcap: f32,
}

/// Dims of a head one `attn_softmax_values.wgsl` workgroup sums.
const SV_DIMS: u32 = 16;

/// Largest head the scores kernel keeps in workgroup memory.
pub const MAX_HEAD_DIM: usize = 256;

pub struct AttnBuffers<'a> {
    pub q: &'a wgpu::Buffer,
    pub k: &'a wgpu::Buffer,
    pub v: &'a wgpu::Buffer,
    pub k_cache: &'a wgpu::Buffer,
    pub v_cache: &'a wgpu::Buffer,
    /// `n_head * capacity` f32 per token of the chunk.
    pub scores: &'a wgpu::Buffer,
    pub out: &'a wgpu::Buffer,
    pub step: &'a wgpu::Buffer,
}

fn check_shape(s: &AttnShape) -> GpuResult<()> {
    if s.head_dim > MAX_HEAD_DIM || !s.head_dim.is_multiple_of(8) || s.n_kv_head == 0 || !s.n_head.is_multiple_of(s.n_kv_head) {
        return Err(GpuError::Unsupported(format!(
            "attention with {} heads, {} KV heads of {} dims",
            s.n_head, s.n_kv_head, s.head_dim
        )));
    }
    Ok(())
}

/// Stores the chunk's k/v rows at `step.pos..`, then attends each token's
/// `q` over the cache up to its own position.
pub async fn attention_ops(b: &mut Builder<'_>, s: &AttnShape, buf: AttnBuffers<'_>, capacity: usize) -> GpuResult<Vec<Op>> {
    check_shape(s)?;
    let kv_dim = s.n_kv_head * s.head_dim;
    let store_p = uniform(b.gpu, "kv_store", &[kv_dim as u32]);
    let store = b
        .op(
            Kernel::KvStore,
            &[&store_p, buf.k, buf.v, buf.k_cache, buf.v_cache, buf.step],
            Grid::Tokens([(kv_dim as u32 / 2).div_ceil(64), 1]),
        )
        .await?;
    let mut ops = vec![store];
    ops.extend(attend_ops(b, s, buf, capacity).await?);
    Ok(ops)
}

/// The raw q, k and v of a chunk and where `prep_op` puts them.
pub struct PrepBuffers<'a> {
    pub q_raw: &'a wgpu::Buffer,
    pub k_raw: &'a wgpu::Buffer,
    pub v: &'a wgpu::Buffer,
    pub q: &'a wgpu::Buffer,
    pub k_cache: &'a wgpu::Buffer,
    pub v_cache: &'a wgpu::Buffer,
    /// The chunk's RoPE tables (`ROPE_TABLE_STRIDE` floats a token).
    pub table: &'a wgpu::Buffer,
    /// QK-norm weights, q's then k's (`head_dim` each), or None.
    pub norms: Option<&'a wgpu::Buffer>,
    pub step: &'a wgpu::Buffer,
}

/// QK-norm (when given), RoPE with table `table_off`, and the store of k
/// and v into the cache, for every head of the chunk in one dispatch
/// (qk_prep.wgsl); the roped q lands in `q` for `attend_ops`.
/// How `prep_op` turns q and k: by the RoPE table at `table_off` (of the
/// step's tables), over each head's first `dims` dims, paired NEOX-style
/// or adjacent, the turned values times `mscale`.
pub struct RopeArgs {
    pub neox: bool,
    pub table_off: usize,
    pub dims: usize,
    pub mscale: f32,
}

pub async fn prep_op(b: &mut Builder<'_>, s: &AttnShape, buf: PrepBuffers<'_>, rope: &RopeArgs, eps: f32) -> GpuResult<Op> {
    check_shape(s)?;
    if rope.dims > s.head_dim || rope.dims % 2 != 0 {
        return Err(GpuError::Unsupported(format!("RoPE over {} of {} dims", rope.dims, s.head_dim)));
    }
    let words = [
        s.n_head as u32,
        s.n_kv_head as u32,
        s.head_dim as u32,
        rope.neox as u32,
        rope.table_off as u32,
        super::ops::ROPE_TABLE_STRIDE as u32,
        eps.to_bits(),
        buf.norms.is_some() as u32,
        (rope.dims / 2) as u32,
        rope.mscale.to_bits(),
    ];
    let p = uniform(b.gpu, "qk prep", &words);
    let none;
    let norms = match buf.norms {
        Some(n) => n,
        None => {
            none = scratch(b.gpu, "no qk norm", 1)?;
            &none
        }
    };
    let heads = (s.n_head + 2 * s.n_kv_head) as u32;
    b.op(
        Kernel::QkPrep,
        &[&p, buf.q_raw, buf.k_raw, buf.v, buf.q, buf.k_cache, buf.v_cache, buf.table, norms, buf.step],
        Grid::Tokens([heads, 1]),
    )
    .await
}

/// Attends each token's `q` over the cache up to its own position (the
/// chunk's k/v already stored).
pub async fn attend_ops(b: &mut Builder<'_>, s: &AttnShape, buf: AttnBuffers<'_>, capacity: usize) -> GpuResult<Vec<Op>> {
    check_shape(s)?;
    let attn_p = uniform(
        b.gpu,
        "attention",
        &[s.n_head as u32, s.n_kv_head as u32, s.head_dim as u32, s.window as u32, s.scale.to_bits(), capacity as u32, s.softcap.to_bits()],
    );
    let heads = s.n_head as u32;
    Ok(vec![
        b.op(Kernel::AttnScores, &[&attn_p, buf.q, buf.k_cache, buf.scores, buf.step], Grid::Keys { window: s.window as u32, heads })
            .await?,
        b.op(
            Kernel::AttnSoftmaxValues,
            &[&attn_p, buf.scores, buf.v_cache, buf.out, buf.step],
            Grid::Tokens([(s.head_dim as u32).div_ceil(SV_DIMS), heads]),
        )
        .await?,
    ])
}
