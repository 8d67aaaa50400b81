//! A whole model on the GPU: weights, KV cache and the recorded ops of two
//! lanes over the same weights: a decode step (one token, mat-vec kernels)
//! and a prefill chunk (up to `prefill_chunk` tokens, the tiled mat-mul).
//! `forward` reads a prompt chunk by chunk, one compute pass and a few
//! submits per chunk, and reads back the last token's logits (or only the
//! token picked from them). `decode_async` can queue the step after a pick
//! before reading the pick back, the next step taking its input token from
//! where the pick left it on the GPU: the GPU then never waits for the CPU
//! between reply tokens.

use super::attention::GpuKvCache;
use super::buffers::{scratch, staging, u32_bytes, f32_bytes, upload_f32, GpuWeight};
use super::device::{Gpu, GpuOptions, GpuReport};
use super::error::{GpuError, GpuResult};
use super::graph::{encode_profiled, Builder, Op};
use super::profile::{Profiler, Stopwatch};
use super::kernels::Kernels;
use super::ops::ROPE_TABLE_STRIDE;
use super::sample::{GpuSampler, SampleParams};
use super::{gemma3, lfm2, llama, ops, readback};
use crate::error::Error;
use crate::gguf::Gguf;
use crate::models::Config;

#[derive(Debug, Clone, Default)]
pub struct GpuModelOptions {
    pub gpu: GpuOptions,
    /// Positions the KV cache holds (default: the model's context length,
    /// at most `DEFAULT_CONTEXT`).
    pub context: Option<usize>,
    /// Most prompt tokens one prefill submit reads (default
    /// `DEFAULT_PREFILL_CHUNK`; 0 or 1 reads a prompt token by token).
    pub prefill_chunk: Option<usize>,
}

pub const DEFAULT_CONTEXT: usize = 4096;

/// Four mat-mul token tiles: on an H100 a 1,024-token prompt read 3.2x
/// faster (Gemma 3 270M) and 2.7x (Qwen2.5 1.5B) in chunks of 256 than of
/// 64, the row tiles alone leaving most of the GPU idle. The chunk's
/// buffers (scores: heads x context floats a token) grow with it.
pub const DEFAULT_PREFILL_CHUNK: usize = 256;

/// Dispatches recorded into each submit of a step: few in the first, so
/// the GPU starts early, then more (each submit costs the CPU too). The GPU
/// is idle while the CPU records the first part of a token; with the parts
/// even (~110 dispatches each for a 1.5B model) decode ran 4-8% slower
/// on an H100 (README, GPU benchmarks).
const SUBMIT_OPS: [usize; 4] = [8, 24, 64, 128];

/// `ops` cut into the submits of one step (the last size repeats).
fn submit_parts(ops: &[Op]) -> impl Iterator<Item = &[Op]> {
    let mut rest = ops;
    let mut k = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = SUBMIT_OPS[k.min(SUBMIT_OPS.len() - 1)];
        k += 1;
        let (part, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        Some(part)
    })
}

/// Buffers every architecture's ops read.
pub(crate) struct Shared {
    /// `[pos, 0, n, 0]`: the chunk of `n` tokens at `pos..pos + n` being run.
    pub step: wgpu::Buffer,
    /// The chunk's token ids.
    pub tokens: wgpu::Buffer,
    /// Per token of the chunk (`ROPE_TABLE_STRIDE` floats), up to two RoPE
    /// tables (`[cos | sin]`, `head_dim` floats each) for its position.
    pub rope_table: wgpu::Buffer,
    pub context: Option<usize>,
    /// Tokens a prefill lane may take (at least 1).
    pub prefill: usize,
}

/// The ops of `rows` tokens, from the embedding lookup to the final
/// residual in `x` (`rows` rows of `d_model`).
pub(crate) struct Lane {
    pub rows: usize,
    pub ops: Vec<Op>,
    pub x: wgpu::Buffer,
}

/// Rows of the lanes to build: the decode lane (1), then a prefill lane
/// when chunks are enabled, as many tokens as fit the scores buffer
/// (`scores_per_token` floats a token) in one storage binding.
pub(crate) fn lane_rows(gpu: &Gpu, shared: &Shared, scores_per_token: usize) -> Vec<usize> {
    let fit = (gpu.max_binding as usize / 4).saturating_sub(1) / scores_per_token.max(1);
    let rows = shared.prefill.min(fit);
    if rows > 1 {
        vec![1, rows]
    } else {
        vec![1]
    }
}

/// What an architecture builds at load.
pub(crate) struct Plan {
    pub config: Config,
    /// The decode lane first, then the prefill lane if there is one.
    pub lanes: Vec<Lane>,
    /// Final norm and LM head of the decode lane's `x` into `logits`.
    pub head: Vec<Op>,
    /// RoPE inverse frequencies, one set per table.
    pub inv_freqs: Vec<Vec<f32>>,
    pub logits: wgpu::Buffer,
    pub cache: GpuKvCache,
    pub weight_bytes: u64,
}

pub struct GpuModel {
    gpu: Gpu,
    opts: GpuModelOptions,
    plan: Plan,
    shared: Shared,
    argmax: Vec<Op>,
    argmax_out: wgpu::Buffer,
    sampler: GpuSampler,
    logits_staging: wgpu::Buffer,
    /// Two, so a step queued ahead has its own while this one's is read.
    token_staging: [wgpu::Buffer; 2],
    pos: usize,
    /// The session's count of cache edits (`Session::cache_edits`) that
    /// this cache mirrors; a different count means its positions no
    /// longer hold the session's tokens.
    pub(crate) mirrors_edits: u64,
    read_logits: bool,
    ahead: Option<Ahead>,
    /// Steps taken from the queue since load.
    taken_ahead: u64,
    profiler: Option<Profiler>,
}

/// How a step picks the token after its input.
#[derive(Debug, Clone, Copy)]
pub enum Pick<'a> {
    Argmax,
    Sample(&'a SampleParams),
}

/// The buffer a step's picked token lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Picked {
    Argmax,
    Sample,
}

impl Pick<'_> {
    fn picked(self) -> Picked {
        match self {
            Pick::Argmax => Picked::Argmax,
            Pick::Sample(_) => Picked::Sample,
        }
    }
}

/// A step submitted before the CPU read its input token: the token the
/// step before it picked, copied on the GPU (`decode_async`).
struct Ahead {
    /// Its position: `pos` once the step before it is counted.
    pos: usize,
    /// Its token staging buffer.
    slot: usize,
    picked: Picked,
    /// Its input, once the CPU has read it back.
    input: Option<u32>,
    done: Option<wgpu::SubmissionIndex>,
}

/// Where a step's tokens come from.
enum Input<'a> {
    Host(&'a [u32]),
    /// The one token the step before picked, still on the GPU.
    Picked(Picked),
}

enum Output<'a> {
    Logits,
    Pick(Pick<'a>),
    /// Nothing read back: a prompt chunk whose logits nobody needs.
    Nothing,
}

impl GpuModel {
    /// Opens a device and uploads the model's weights.
    pub async fn load_async(g: &Gguf, opts: &GpuModelOptions) -> GpuResult<GpuModel> {
        Self::assemble(Gpu::new(&opts.gpu).await?, g, opts).await
    }

    /// The model built again on the same device with the same options over
    /// `g`: the same file with another adapter on it, or none. The weights
    /// already on the device stay there (only what the adapter changes is
    /// uploaded: its matrices, and the weights it keeps apart from their
    /// stacks); the KV cache starts empty.
    pub async fn rebuild(self, g: &Gguf) -> GpuResult<GpuModel> {
        let (gpu, opts) = self.into_device();
        Self::assemble(gpu, g, &opts).await
    }

    /// The device and options; the rest (the KV cache, the ops and the
    /// weights only they held) goes as this returns.
    fn into_device(self) -> (Gpu, GpuModelOptions) {
        let GpuModel { gpu, opts, .. } = self;
        (gpu, opts)
    }

    async fn assemble(gpu: Gpu, g: &Gguf, opts: &GpuModelOptions) -> GpuResult<GpuModel> {
        let oom = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let built = Self::build(gpu, g, opts).await;
        let oom = oom.pop().await;
        let model = built?;
        if let Some(e) = oom {
            return Err(GpuError::OutOfMemory(e.to_string()));
        }
        model.gpu.kept.lock().unwrap_or_else(|e| e.into_inner()).keep_used();
        model.gpu.check()?;
        Ok(model)
    }

    async fn build(gpu: Gpu, g: &Gguf, opts: &GpuModelOptions) -> GpuResult<GpuModel> {
        let mut kernels = Kernels::default();
        let prefill = opts.prefill_chunk.unwrap_or(DEFAULT_PREFILL_CHUNK).max(1);
        let shared = Shared {
            step: super::buffers::uniform(&gpu, "step", &[0, 0, 1, 0]),
            tokens: super::buffers::upload_bytes(
                &gpu,
                "tokens",
                &u32_bytes(&vec![0; prefill]),
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            )?,
            rope_table: scratch(&gpu, "rope table", prefill * ROPE_TABLE_STRIDE)?,
            context: opts.context,
            prefill,
        };
        let mut b = Builder { gpu: &gpu, kernels: &mut kernels };
        let hp = crate::models::Hparams::read(g)?;
        let plan = match hp.arch.as_str() {
            "gemma2" | "gemma3" => gemma3::build(g, &hp, &mut b, &shared).await?,
            "lfm2" => lfm2::build(g, &hp, &mut b, &shared).await?,
            "qwen35" => return Err(GpuError::Unsupported("Qwen3.5's DeltaNet layers (this model runs on the CPU)".into())),
            _ => llama::build(g, &hp, &mut b, &shared).await?,
        };
        let argmax_out = scratch(&gpu, "argmax", 1)?;
        let argmax = ops::argmax(&mut b, &plan.logits, &argmax_out, plan.config.n_vocab).await?;
        let sampler = GpuSampler::new(&mut b, &plan.logits, &shared.tokens, plan.config.n_vocab).await?;
        let logits_staging = staging(&gpu, "logits readback", plan.config.n_vocab as u64 * 4);
        let token_staging = [staging(&gpu, "token readback", 4), staging(&gpu, "token readback ahead", 4)];
        let profiler = Profiler::new(&gpu);
        Ok(GpuModel {
            gpu,
            opts: opts.clone(),
            plan,
            shared,
            argmax,
            argmax_out,
            sampler,
            logits_staging,
            token_staging,
            pos: 0,
            mirrors_edits: 0,
            read_logits: false,
            ahead: None,
            taken_ahead: 0,
            profiler,
        })
    }

    /// Blocking `load_async` with default options, for native callers.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(g: &Gguf) -> GpuResult<GpuModel> {
        pollster::block_on(Self::load_async(g, &GpuModelOptions::default()))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_with(g: &Gguf, opts: &GpuModelOptions) -> GpuResult<GpuModel> {
        pollster::block_on(Self::load_async(g, opts))
    }

    pub fn config(&self) -> &Config {
        &self.plan.config
    }

    pub fn report(&self) -> &GpuReport {
        &self.gpu.report
    }

    /// Positions in the KV cache.
    pub fn len(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Positions the KV cache can hold.
    pub fn capacity(&self) -> usize {
        self.plan.cache.capacity
    }

    /// Forgets positions from `len` on (prefix reuse: the kept keys and
    /// values stay valid, later ones are overwritten).
    pub fn truncate(&mut self, len: usize) {
        if len < self.pos {
            self.ahead = None;
        }
        self.pos = self.pos.min(len);
    }

    /// Destroys the device, as a driver reset or a reclaimed GPU would:
    /// every later call fails with a `GpuError`. For tests of the fallback.
    pub fn destroy_device(&self) {
        self.gpu.device.destroy();
    }

    /// Whether a session reads each step's logits back and samples on the
    /// CPU (for callers that inspect them) instead of sampling on the GPU.
    pub fn set_read_logits(&mut self, read: bool) {
        self.read_logits = read;
    }

    pub fn reads_logits(&self) -> bool {
        self.read_logits
    }

    /// Most tokens one prefill submit reads (1: token by token).
    pub fn prefill_chunk(&self) -> usize {
        self.plan.lanes.iter().map(|l| l.rows).max().unwrap_or(1)
    }

    /// GPU nanoseconds and dispatches per (section, kernel) since load, when
    /// profiling (`KINDRED_GPU_PROFILE`); None otherwise.
    pub fn profile(&self) -> Option<&std::collections::BTreeMap<(String, String), (f64, u64)>> {
        self.profiler.as_ref().map(|p| &p.totals)
    }

    pub fn reset_profile(&mut self) {
        if let Some(p) = self.profiler.as_mut() {
            p.totals.clear();
        }
    }

    /// Bytes of weights read per decoded token (every weight once).
    pub fn weight_bytes(&self) -> u64 {
        self.plan.weight_bytes
    }

    /// Bytes of the model file's weights uploaded since the device opened
    /// (a `rebuild` adds only what it did not find there).
    pub fn uploaded_bytes(&self) -> u64 {
        self.gpu.kept.lock().map_or(0, |k| k.uploaded)
    }

    /// Bytes of weights and KV cache held on the GPU.
    pub fn gpu_bytes(&self) -> u64 {
        self.plan.weight_bytes + self.plan.cache.bytes()
    }

    /// Runs `tokens` at positions `len()..`, returns the last one's logits.
    pub async fn forward_async(&mut self, tokens: &[u32]) -> GpuResult<Vec<f32>> {
        self.ahead = None;
        self.run(self.pos, Input::Host(tokens), Output::Logits, 0).await?;
        self.pos += tokens.len();
        let bytes = readback::read(&self.gpu, &self.logits_staging, self.plan.config.n_vocab as u64 * 4).await?;
        Ok(readback::f32s(&bytes))
    }

    /// Runs `tokens`, returns the argmax of the last one's logits: greedy
    /// decoding with a 4-byte readback.
    pub async fn forward_argmax_async(&mut self, tokens: &[u32]) -> GpuResult<u32> {
        self.decode_async(tokens, Some(Pick::Argmax), None).await
    }

    /// Runs `tokens`, then samples the next token from the last one's
    /// logits on the GPU (`SampleParams`: the CPU sampler's settings and
    /// uniform draw); reads back only the token id.
    pub async fn forward_sample_async(&mut self, tokens: &[u32], params: &SampleParams) -> GpuResult<u32> {
        self.decode_async(tokens, Some(Pick::Sample(params)), None).await
    }

    /// Runs `tokens` (a prompt chunk with more to come) and reads nothing back.
    pub async fn prefill_async(&mut self, tokens: &[u32]) -> GpuResult<()> {
        self.ahead = None;
        self.run(self.pos, Input::Host(tokens), Output::Nothing, 0).await?;
        self.pos += tokens.len();
        Ok(())
    }

    /// Whether the step for `tokens` at `len()` is already queued (by the
    /// last `decode_async`, with its `next` settings).
    pub fn has_ahead(&self, tokens: &[u32]) -> bool {
        self.ahead.as_ref().is_some_and(|a| a.pos == self.pos && a.input.is_some_and(|t| tokens == [t]))
    }

    /// How many steps `decode_async` took from the queue since load.
    pub fn taken_ahead(&self) -> u64 {
        self.taken_ahead
    }

    /// Runs `tokens` and picks the token after them with `pick`, or with
    /// `pick` None takes the step already queued for them (`has_ahead`).
    /// With `next`, queues the step after it before reading the picked
    /// token back: that token, still on the GPU, at the next position,
    /// picked with `next`. The GPU then works on it while the CPU takes
    /// this token and records nothing (a queued step nobody takes costs a
    /// step of GPU time and is overwritten; its position is not counted).
    /// Settings made by `SampleParams::after_pending` belong in `next` only:
    /// they count the step's first input token, the one a queued step has.
    pub async fn decode_async(&mut self, tokens: &[u32], pick: Option<Pick<'_>>, next: Option<Pick<'_>>) -> GpuResult<u32> {
        let fits = |p: &Pick<'_>| !matches!(p, Pick::Sample(params) if !params.fits());
        if let Some(Pick::Sample(params)) = pick.filter(|p| !fits(p)) {
            return Err(GpuError::Unsupported(format!("{} distinct recent tokens to penalise", params.recent.len())));
        }
        // Settings the GPU cannot take: the next step runs when asked for.
        let next = next.filter(fits);
        if pick.is_none() && !self.has_ahead(tokens) {
            return Err(GpuError::Unsupported("no step queued for these tokens".into()));
        }
        let (slot, picked, done) = match (pick, self.ahead.take()) {
            (None, Some(a)) => {
                self.taken_ahead += 1;
                (a.slot, a.picked, a.done)
            }
            (None, None) => return Err(GpuError::Unsupported("no step queued".into())),
            (Some(p), _) => {
                let done = self.run(self.pos, Input::Host(tokens), Output::Pick(p), 0).await?;
                (0, p.picked(), done)
            }
        };
        let after = self.pos + tokens.len();
        if let Some(n) = next.filter(|_| after < self.plan.cache.capacity) {
            let slot_next = 1 - slot;
            let done = self.run(after, Input::Picked(picked), Output::Pick(n), slot_next).await?;
            self.ahead = Some(Ahead { pos: after, slot: slot_next, picked: n.picked(), input: None, done });
        }
        let token = match self.read_token(slot, done).await {
            Ok(t) => t,
            Err(e) => {
                self.ahead = None;
                return Err(e);
            }
        };
        self.pos = after;
        if let Some(a) = self.ahead.as_mut() {
            a.input = Some(token);
        }
        Ok(token)
    }

    /// `n` greedy steps from `first`, each step's pick the next one's input,
    /// each queuing the next (`decode_async`) when `ahead`; the picked ids.
    pub async fn decode_greedy_async(&mut self, first: u32, n: usize, ahead: bool) -> GpuResult<Vec<u32>> {
        let mut ids = Vec::with_capacity(n);
        let mut next = first;
        for i in 0..n {
            let pick = if self.has_ahead(&[next]) { None } else { Some(Pick::Argmax) };
            let queue = (ahead && i + 1 < n).then_some(Pick::Argmax);
            next = self.decode_async(&[next], pick, queue).await?;
            ids.push(next);
        }
        Ok(ids)
    }

    /// Where a step's picked token lands.
    fn picked(&self, p: Picked) -> &wgpu::Buffer {
        match p {
            Picked::Argmax => &self.argmax_out,
            Picked::Sample => &self.sampler.out,
        }
    }

    async fn read_token(&self, slot: usize, done: Option<wgpu::SubmissionIndex>) -> GpuResult<u32> {
        let bytes = readback::read_after(&self.gpu, &self.token_staging[slot], 4, done).await?;
        match bytes.get(..4) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => Err(GpuError::Readback("short token readback".into())),
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn forward(&mut self, tokens: &[u32]) -> GpuResult<Vec<f32>> {
        pollster::block_on(self.forward_async(tokens))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn forward_argmax(&mut self, tokens: &[u32]) -> GpuResult<u32> {
        pollster::block_on(self.forward_argmax_async(tokens))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn forward_sample(&mut self, tokens: &[u32], params: &SampleParams) -> GpuResult<u32> {
        pollster::block_on(self.forward_sample_async(tokens, params))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn decode(&mut self, tokens: &[u32], pick: Option<Pick<'_>>, next: Option<Pick<'_>>) -> GpuResult<u32> {
        pollster::block_on(self.decode_async(tokens, pick, next))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn decode_greedy(&mut self, first: u32, n: usize, ahead: bool) -> GpuResult<Vec<u32>> {
        pollster::block_on(self.decode_greedy_async(first, n, ahead))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn prefill(&mut self, tokens: &[u32]) -> GpuResult<()> {
        pollster::block_on(self.prefill_async(tokens))
    }

    /// Submits the steps of `input` at positions `start..` (a prompt in
    /// chunks), the last one's pick copied to token staging `slot`; returns
    /// the last submission. The caller counts the positions.
    async fn run(&mut self, start: usize, input: Input<'_>, out: Output<'_>, slot: usize) -> GpuResult<Option<wgpu::SubmissionIndex>> {
        let c = &self.plan.config;
        let (tokens, picked): (&[u32], _) = match input {
            Input::Host(t) => (t, None),
            // Any id: the buffer holds the real one when the step runs.
            Input::Picked(p) => (&[0], Some(p)),
        };
        if tokens.is_empty() {
            return Err(Error::InvalidOption("forward called with no tokens".into()).into());
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= c.n_vocab) {
            return Err(Error::BadToken { id: bad, vocab: c.n_vocab }.into());
        }
        if start + tokens.len() > self.plan.cache.capacity {
            return Err(Error::ContextFull(self.plan.cache.capacity).into());
        }
        self.gpu.check()?;
        let d = c.d_model as u64 * 4;
        let mut done = None;
        let mut i = 0;
        while i < tokens.len() {
            // One token left: the decode lane's mat-vec reads each weight once.
            let lanes = &self.plan.lanes;
            let (Some(decode), Some(lane)) = (lanes.first(), if tokens.len() - i > 1 { lanes.last() } else { lanes.first() })
            else {
                return Err(GpuError::Unsupported("no lane to run a token".into()));
            };
            let n = lane.rows.min(tokens.len() - i);
            let pos = start + i;
            let last = i + n == tokens.len();
            self.gpu.queue.write_buffer(&self.shared.step, 0, &u32_bytes(&[pos as u32, 0, n as u32, 0]));
            if picked.is_none() {
                self.gpu.queue.write_buffer(&self.shared.tokens, 0, &u32_bytes(&tokens[i..i + n]));
            }
            let table = rope_table(&self.plan.inv_freqs, pos, n);
            self.gpu.queue.write_buffer(&self.shared.rope_table, 0, &f32_bytes(&table));
            // The layers go out in a few submits, so the GPU starts on the
            // first layers while the CPU still records the rest (recording
            // a dispatch costs wgpu a few microseconds: a 1.5B model's
            // ~500 a token took 1.2-1.7 ms on the CPU of an H100 machine,
            // all of it before the GPU began when sent as one submit).
            let mut parts = submit_parts(&lane.ops).peekable();
            let mut watch = Stopwatch::start();
            let mut first = true;
            let mut enc = loop {
                let mut enc = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("chunk") });
                if let Some(p) = picked.filter(|_| std::mem::take(&mut first)) {
                    enc.copy_buffer_to_buffer(self.picked(p), 0, &self.shared.tokens, 0, 4);
                }
                {
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("layers"), timestamp_writes: None });
                    if let Some(p) = self.profiler.as_mut() {
                        p.section = if std::ptr::eq(lane, decode) { "decode" } else { "prefill" };
                    }
                    if let Some(part) = parts.next() {
                        encode_profiled(&mut pass, part, pos as u32, n as u32, self.profiler.as_mut());
                    }
                    if let Some(p) = self.profiler.as_mut() {
                        p.end(&mut pass);
                    }
                }
                if parts.peek().is_none() {
                    break enc;
                }
                submit(&self.gpu, self.profiler.as_mut(), enc, watch).await?;
                watch = Stopwatch::start();
            };
            if last && !matches!(out, Output::Nothing) {
                if !std::ptr::eq(lane, decode) {
                    // The head reads the decode lane's x: only the last token's logits are needed.
                    enc.copy_buffer_to_buffer(&lane.x, (n as u64 - 1) * d, &decode.x, 0, d);
                }
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("head"), timestamp_writes: None });
                let at = (pos + n - 1) as u32;
                if let Some(p) = self.profiler.as_mut() {
                    p.section = "head";
                }
                encode_profiled(&mut pass, &self.plan.head, at, 1, self.profiler.as_mut());
                match out {
                    Output::Pick(Pick::Argmax) => {
                        encode_profiled(&mut pass, &self.argmax, at, 1, self.profiler.as_mut())
                    }
                    Output::Pick(Pick::Sample(params)) => {
                        for op in self.sampler.ops(&self.gpu.queue, params) {
                            encode_profiled(&mut pass, std::slice::from_ref(op), at, 1, self.profiler.as_mut());
                        }
                    }
                    Output::Logits | Output::Nothing => {}
                }
                if let Some(p) = self.profiler.as_mut() {
                    p.end(&mut pass);
                }
            }
            if last {
                match out {
                    Output::Logits => {
                        enc.copy_buffer_to_buffer(&self.plan.logits, 0, &self.logits_staging, 0, c.n_vocab as u64 * 4)
                    }
                    Output::Pick(p) => enc.copy_buffer_to_buffer(self.picked(p.picked()), 0, &self.token_staging[slot], 0, 4),
                    Output::Nothing => {}
                }
            }
            done = Some(submit(&self.gpu, self.profiler.as_mut(), enc, watch).await?);
            i += n;
        }
        self.gpu.check()?;
        Ok(done)
    }
}

/// Submits `enc`; when profiling, with its timestamps, and waits for them
/// (the CPU's recording time since `watch` counts too).
async fn submit(gpu: &Gpu, profiler: Option<&mut Profiler>, mut enc: wgpu::CommandEncoder, watch: Stopwatch) -> GpuResult<wgpu::SubmissionIndex> {
    let Some(p) = profiler else {
        return Ok(gpu.queue.submit([enc.finish()]));
    };
    p.resolve(&mut enc);
    let done = gpu.queue.submit([enc.finish()]);
    p.add_cpu("encode+submit", watch.nanos());
    p.collect(gpu).await?;
    Ok(done)
}

/// `[cos | sin]` of `p * f` for every table and each position `p` of
/// `pos..pos + n`, `ROPE_TABLE_STRIDE` floats a position, computed as the
/// CPU backend does (f32 angle, then an accurate sin/cos).
fn rope_table(inv_freqs: &[Vec<f32>], pos: usize, n: usize) -> Vec<f32> {
    let mut t = Vec::with_capacity(n * ROPE_TABLE_STRIDE);
    for i in 0..n {
        let p = (pos + i) as f32;
        let start = t.len();
        for inv in inv_freqs {
            let (c, s): (Vec<f32>, Vec<f32>) = inv.iter().map(|f| {
                let (s, c) = (p * f).sin_cos();
                (c, s)
            }).unzip();
            t.extend(c);
            t.extend(s);
        }
        t.resize(start + ROPE_TABLE_STRIDE, 0.0);
    }
    t
}

/// A `[rows, cols]` weight from the file, uploaded.
pub(crate) fn weight(gpu: &Gpu, g: &Gguf, name: &str, rows: usize, cols: usize, total: &mut u64) -> GpuResult<GpuWeight> {
    let t = g.tensor(name)?;
    if t.dims.as_slice() != [rows, cols] {
        return Err(Error::BadShape { tensor: name.into(), found: t.dims.clone(), expected: vec![rows, cols] }.into());
    }
    let mut w = GpuWeight::upload_kept(gpu, name, t.qtype, rows, cols, || g.data(t))?;
    *total += t.len as u64;
    w.lora = super::lora::GpuLora::load(gpu, g, name, 0, rows, total)?;
    Ok(w)
}

/// The decode lane's head: the last norm of its `x` into `h`, then the LM
/// head (`output.weight`, else the tied embedding) into `logits`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn head_ops(
    b: &mut super::graph::Builder<'_>,
    g: &Gguf,
    embed: &GpuWeight,
    norm: &wgpu::Buffer,
    (x, h): (&wgpu::Buffer, &wgpu::Buffer),
    logits: &wgpu::Buffer,
    shared: &Shared,
    eps: f32,
    total: &mut u64,
) -> GpuResult<Vec<Op>> {
    let (n_vocab, d) = (embed.rows, embed.cols);
    let lm_head = if g.has_tensor("output.weight") { Some(weight(b.gpu, g, "output.weight", n_vocab, d, total)?) } else { None };
    let mut head = vec![ops::rms_norm(b, x, norm, h, d, 1, eps, false).await?];
    head.extend(super::matvec::linear_ops(b, lm_head.as_ref().unwrap_or(embed), h, logits, &shared.step, 1, None).await?);
    Ok(head)
}

/// A vector (norm weight, bias) dequantized on the CPU and uploaded as f32.
pub(crate) fn vector(gpu: &Gpu, g: &Gguf, name: &str, len: usize, total: &mut u64) -> GpuResult<wgpu::Buffer> {
    let v = crate::matrix::load_vector(g, name, len)?;
    *total += len as u64 * 4;
    upload_f32(gpu, name, &v)
}

/// KV cache positions for a model whose context is `context_length`.
pub(crate) fn capacity(shared: &Shared, context_length: usize) -> usize {
    shared.context.unwrap_or(DEFAULT_CONTEXT).min(context_length).max(1)
}
