//! Sampling on the GPU: the logits of the last token never leave it; only
//! the chosen token id (4 bytes) is read back. The rule is the CPU
//! sampler's (`crate::sampler`), with the uniform number drawn by the CPU's
//! seeded generator and passed in, so a seed gives the same run:
//! penalties, temperature, then argmax when greedy, or top-k (at most
//! `MAX_CANDIDATES`), min-p, top-p and the inverse-CDF draw.

use super::buffers::{f32_bytes, scratch, u32_bytes, uniform, upload_bytes};
use super::error::GpuResult;
use super::graph::{grid_2d, Builder, Grid, Op};
use super::kernels::Kernel;
use crate::sampler::SamplerOptions;

/// Most candidates the GPU keeps after top-k: a `top_k` of 0 or above this
/// acts as this (min-p and top-p then cut as usual), since the survivors
/// are sorted in workgroup memory.
pub const MAX_CANDIDATES: usize = 1024;

/// Logits a workgroup of `sample_candidates.wgsl` screens.
const CANDIDATE_SLICE: u32 = 2048;

/// Most distinct recent tokens the penalties can take.
pub const MAX_RECENT: usize = 4096;

/// Most tokens one step's `biases` can move.
pub const MAX_BIASES: usize = 1024;

/// One sampling step's settings.
#[derive(Debug, Clone)]
pub struct SampleParams {
    pub temperature: f32,
    pub top_k: usize,
    pub top_p: f32,
    pub min_p: f32,
    pub repeat_penalty: f32,
    pub frequency_penalty: f32,
    pub presence_penalty: f32,
    /// Distinct recent tokens and how often each occurred.
    pub recent: Vec<(u32, u32)>,
    /// The step's input token counts as one more recent token (it is not
    /// in `recent`): a step queued before the CPU read that token back.
    pub count_input: bool,
    /// The CPU generator's draw in [0, 1); unused when greedy.
    pub uniform: f32,
    /// Added to single logits after the penalties, distinct tokens: the
    /// end-of-turn raise (`end_bias`) and DRY's penalties, both worked out
    /// on the CPU.
    pub biases: Vec<(u32, f32)>,
    /// Tokens never picked (`SamplerOptions::suppress`).
    pub suppressed: std::sync::Arc<[u32]>,
}

impl SampleParams {
    /// `recent`: the tokens the penalties look at (already cut to
    /// `penalty_last_n`, as the CPU sampler does).
    pub fn new(o: &SamplerOptions, recent: &[u32], uniform: f32) -> Self {
        Self::window(o, recent, o.penalty_last_n, false, uniform)
    }

    /// The settings of a step whose input token the GPU sampled and the CPU
    /// has not read yet: `known` are the recent tokens before it, and the
    /// GPU counts the input itself as the window's newest.
    pub fn after_pending(o: &SamplerOptions, known: &[u32], uniform: f32) -> Self {
        let counted = o.penalty_last_n > 0;
        Self::window(o, known, o.penalty_last_n.saturating_sub(1), counted, uniform)
    }

    fn window(o: &SamplerOptions, recent: &[u32], last_n: usize, count_input: bool, uniform: f32) -> Self {
        let tail = &recent[recent.len().saturating_sub(last_n)..];
        let mut counts: Vec<(u32, u32)> = Vec::new();
        let mut sorted = tail.to_vec();
        sorted.sort_unstable();
        for t in sorted {
            match counts.last_mut() {
                Some((last, n)) if *last == t => *n += 1,
                _ => counts.push((t, 1)),
            }
        }
        SampleParams {
            temperature: o.temperature,
            top_k: o.top_k,
            top_p: o.top_p,
            min_p: o.min_p,
            repeat_penalty: o.repeat_penalty,
            frequency_penalty: o.frequency_penalty,
            presence_penalty: o.presence_penalty,
            recent: counts,
            count_input,
            uniform,
            biases: Vec::new(),
            suppressed: o.suppress.clone(),
        }
    }

    /// Raises `ends` by `bias` (the CPU sampler's `end_bias`).
    pub fn with_end_bias(self, ends: &[u32], bias: f32) -> Self {
        if bias == 0.0 {
            return self;
        }
        self.with_biases(ends.iter().map(|&t| (t, bias)))
    }

    /// Adds to single logits (DRY's penalties); a token listed twice gets both.
    pub fn with_biases(mut self, add: impl IntoIterator<Item = (u32, f32)>) -> Self {
        for (t, b) in add {
            match self.biases.iter_mut().find(|(u, _)| *u == t) {
                Some((_, have)) => *have += b,
                None => self.biases.push((t, b)),
            }
        }
        self
    }

    pub fn greedy(&self) -> bool {
        self.temperature <= 0.0
    }

    fn penalties_active(&self) -> bool {
        self.repeat_penalty != 1.0 || self.frequency_penalty != 0.0 || self.presence_penalty != 0.0
    }

    /// Whether the GPU can take these settings (else sample on the CPU).
    pub fn fits(&self) -> bool {
        self.recent.len() <= MAX_RECENT && self.biases.len() <= MAX_BIASES
    }
}

/// The sampling ops over a model's logits, built once at load.
pub struct GpuSampler {
    n_vocab: usize,
    prep_params: wgpu::Buffer,
    pick_params: wgpu::Buffer,
    recent: wgpu::Buffer,
    suppressed: wgpu::Buffer,
    biases: wgpu::Buffer,
    /// The list `suppressed` holds: a reply's stays the same (the same
    /// allocation) over its steps, so it is uploaded once.
    uploaded: std::sync::Mutex<Option<std::sync::Arc<[u32]>>>,
    prep: Op,
    penalize: Op,
    argmax: Vec<Op>,
    candidates: Op,
    pick: Op,
    pub out: wgpu::Buffer,
}

impl GpuSampler {
    /// `tokens`: the step's input tokens (the first is the one
    /// `count_input` counts).
    pub async fn new(b: &mut Builder<'_>, logits: &wgpu::Buffer, tokens: &wgpu::Buffer, n_vocab: usize) -> GpuResult<Self> {
        let gpu = b.gpu;
        let z = scratch(gpu, "sampling logits", n_vocab)?;
        let out = scratch(gpu, "sampled token", 1)?;
        let prep_params = uniform(gpu, "sampling prep", &[n_vocab as u32, 1f32.to_bits(), 0, 1f32.to_bits(), 0, 0, 0, 0, 0]);
        let pick_params = uniform(gpu, "sampling", &[n_vocab as u32, 0, 1f32.to_bits(), 0, 0]);
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let recent = upload_bytes(gpu, "recent tokens", &vec![0u8; MAX_RECENT * 8], usage)?;
        let suppressed = upload_bytes(gpu, "suppressed tokens", &vec![0u8; n_vocab.max(1) * 4], usage)?;
        let biases = upload_bytes(gpu, "logit biases", &vec![0u8; MAX_BIASES * 8], usage)?;
        let grid = grid_2d(gpu, (n_vocab as u32).div_ceil(256))?;
        let prep = b.op(Kernel::SamplePrep, &[&prep_params, logits, &z], Grid::Fixed(grid)).await?;
        let penalize =
            b.op(Kernel::SamplePenalize, &[&prep_params, logits, &z, &recent, tokens, &suppressed, &biases], Grid::Fixed([1, 1, 1])).await?;
        let argmax = super::ops::argmax(b, &z, &out, n_vocab).await?;
        let cv = scratch(gpu, "sampling candidates", n_vocab)?;
        let ci = scratch(gpu, "sampling candidate ids", n_vocab)?;
        let count = scratch(gpu, "sampling candidate count", 1)?;
        let slices = (n_vocab as u32).div_ceil(CANDIDATE_SLICE);
        if slices > gpu.max_workgroups_per_dim() {
            return Err(super::GpuError::Unsupported(format!("a vocabulary of {n_vocab} to sample from")));
        }
        let candidates =
            b.op(Kernel::SampleCandidates, &[&pick_params, &z, &cv, &ci, &count], Grid::Fixed([slices, 1, 1])).await?;
        let pick = b.op(Kernel::Sample, &[&pick_params, &cv, &ci, &count, &out], Grid::Fixed([1, 1, 1])).await?;
        let uploaded = std::sync::Mutex::new(None);
        Ok(GpuSampler { n_vocab, prep_params, pick_params, recent, suppressed, biases, uploaded, prep, penalize, argmax, candidates, pick, out })
    }

    /// Writes this step's settings; returns the ops to run after the logits.
    pub fn ops(&self, queue: &wgpu::Queue, s: &SampleParams) -> Vec<&Op> {
        let inv_temp = if s.greedy() { 1.0 } else { 1.0 / s.temperature };
        let active = s.penalties_active();
        let penalised = if active { s.recent.len().min(MAX_RECENT) } else { 0 };
        let count_input = active && s.count_input;
        let n_suppressed = s.suppressed.len().min(self.n_vocab);
        let n_biases = s.biases.len().min(MAX_BIASES);
        let prep = [
            self.n_vocab as u32,
            inv_temp.to_bits(),
            penalised as u32,
            s.repeat_penalty.to_bits(),
            s.frequency_penalty.to_bits(),
            s.presence_penalty.to_bits(),
            count_input as u32,
            n_biases as u32,
            n_suppressed as u32,
        ];
        queue.write_buffer(&self.prep_params, 0, &u32_bytes(&prep));
        if n_biases > 0 {
            let pairs: Vec<u32> = s.biases.iter().take(n_biases).flat_map(|&(t, b)| [t, b.to_bits()]).collect();
            queue.write_buffer(&self.biases, 0, &u32_bytes(&pairs));
        }
        if n_suppressed > 0 {
            let mut uploaded = self.uploaded.lock().unwrap_or_else(|e| e.into_inner());
            if !uploaded.as_ref().is_some_and(|u| std::sync::Arc::ptr_eq(u, &s.suppressed)) {
                queue.write_buffer(&self.suppressed, 0, &u32_bytes(&s.suppressed[..n_suppressed]));
                *uploaded = Some(s.suppressed.clone());
            }
        }
        if penalised > 0 {
            let pairs: Vec<u32> = s.recent.iter().take(penalised).flat_map(|&(t, n)| [t, n]).collect();
            queue.write_buffer(&self.recent, 0, &u32_bytes(&pairs));
        }
        let mut ops = vec![&self.prep];
        if penalised > 0 || count_input || n_biases > 0 || n_suppressed > 0 {
            ops.push(&self.penalize);
        }
        if s.greedy() {
            ops.extend(&self.argmax);
        } else {
            let pick = [self.n_vocab as u32, s.top_k.min(u32::MAX as usize) as u32];
            let mut bytes = u32_bytes(&pick);
            bytes.extend(f32_bytes(&[s.top_p, s.min_p, s.uniform]));
            queue.write_buffer(&self.pick_params, 0, &bytes);
            ops.push(&self.candidates);
            ops.push(&self.pick);
        }
        ops
    }
}
