//! A whole model on the GPU: weights, KV cache and the recorded ops of a
//! decode step; `forward` runs tokens one at a time, one compute pass and
//! one submit per token, and reads back the last token's logits (or only
//! its argmax).

use super::attention::{GpuKvCache, MAX_HEAD_DIM};
use super::buffers::{scratch, staging, u32_bytes, f32_bytes, upload_f32, GpuWeight};
use super::device::{Gpu, GpuOptions, GpuReport};
use super::error::{GpuError, GpuResult};
use super::graph::{encode, Builder, Op};
use super::kernels::Kernels;
use super::matvec::{embed_chunk, EmbedChunk};
use super::{gemma3, llama, ops, readback};
use crate::error::Error;
use crate::gguf::Gguf;
use crate::models::Config;

#[derive(Debug, Clone, Default)]
pub struct GpuModelOptions {
    pub gpu: GpuOptions,
    /// Positions the KV cache holds (default: the model's context length,
    /// at most `DEFAULT_CONTEXT`).
    pub context: Option<usize>,
}

pub const DEFAULT_CONTEXT: usize = 4096;

/// Buffers every architecture's ops read.
pub(crate) struct Shared {
    /// `[pos, embed_row, 0, 0]` of the token being run.
    pub step: wgpu::Buffer,
    /// Up to two RoPE tables (`[cos | sin]`, `head_dim` floats each) for
    /// the current position.
    pub rope_table: wgpu::Buffer,
    pub context: Option<usize>,
}

/// What an architecture builds at load.
pub(crate) struct Plan {
    pub config: Config,
    pub embed: Vec<EmbedChunk>,
    /// Everything from the embedded token to the final residual.
    pub body: Vec<Op>,
    /// Final norm and LM head into `logits`.
    pub head: Vec<Op>,
    /// RoPE inverse frequencies, one set per table.
    pub inv_freqs: Vec<Vec<f32>>,
    pub logits: wgpu::Buffer,
    pub cache: GpuKvCache,
    pub weight_bytes: u64,
}

pub struct GpuModel {
    gpu: Gpu,
    plan: Plan,
    shared: Shared,
    argmax: Op,
    argmax_out: wgpu::Buffer,
    logits_staging: wgpu::Buffer,
    token_staging: wgpu::Buffer,
    pos: usize,
}

enum Output {
    Logits,
    Argmax,
}

impl GpuModel {
    /// Opens a device and uploads the model's weights.
    pub async fn load_async(g: &Gguf, opts: &GpuModelOptions) -> GpuResult<GpuModel> {
        let gpu = Gpu::new(&opts.gpu).await?;
        let oom = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let built = Self::build(gpu, g, opts).await;
        let oom = oom.pop().await;
        let model = built?;
        if let Some(e) = oom {
            return Err(GpuError::OutOfMemory(e.to_string()));
        }
        model.gpu.check()?;
        Ok(model)
    }

    async fn build(gpu: Gpu, g: &Gguf, opts: &GpuModelOptions) -> GpuResult<GpuModel> {
        let mut kernels = Kernels::default();
        let shared = Shared {
            step: super::buffers::uniform(&gpu, "step", &[0, 0, 0, 0]),
            rope_table: scratch(&gpu, "rope table", 2 * MAX_HEAD_DIM)?,
            context: opts.context,
        };
        let mut b = Builder { gpu: &gpu, kernels: &mut kernels };
        let plan = match g.architecture()?.as_str() {
            "gemma3" => gemma3::build(g, &mut b, &shared).await?,
            "llama" | "qwen2" => llama::build(g, &mut b, &shared).await?,
            other => return Err(Error::UnsupportedArchitecture(other.into()).into()),
        };
        let argmax_out = scratch(&gpu, "argmax", 1)?;
        let argmax = ops::argmax(&mut b, &plan.logits, &argmax_out, plan.config.n_vocab).await?;
        let logits_staging = staging(&gpu, "logits readback", plan.config.n_vocab as u64 * 4);
        let token_staging = staging(&gpu, "token readback", 4);
        Ok(GpuModel { gpu, plan, shared, argmax, argmax_out, logits_staging, token_staging, pos: 0 })
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
        self.pos = self.pos.min(len);
    }

    /// Destroys the device, as a driver reset or a reclaimed GPU would:
    /// every later call fails with a `GpuError`. For tests of the fallback.
    pub fn destroy_device(&self) {
        self.gpu.device.destroy();
    }

    /// Bytes of weights and KV cache held on the GPU.
    pub fn gpu_bytes(&self) -> u64 {
        self.plan.weight_bytes + self.plan.cache.bytes()
    }

    /// Runs `tokens` at positions `len()..`, returns the last one's logits.
    pub async fn forward_async(&mut self, tokens: &[u32]) -> GpuResult<Vec<f32>> {
        self.run(tokens, Output::Logits).await?;
        let bytes = readback::read(&self.gpu, &self.logits_staging, self.plan.config.n_vocab as u64 * 4).await?;
        Ok(readback::f32s(&bytes))
    }

    /// Runs `tokens`, returns the argmax of the last one's logits: greedy
    /// decoding with a 4-byte readback.
    pub async fn forward_argmax_async(&mut self, tokens: &[u32]) -> GpuResult<u32> {
        self.run(tokens, Output::Argmax).await?;
        let bytes = readback::read(&self.gpu, &self.token_staging, 4).await?;
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

    async fn run(&mut self, tokens: &[u32], out: Output) -> GpuResult<()> {
        let c = &self.plan.config;
        if tokens.is_empty() {
            return Err(Error::InvalidOption("forward called with no tokens".into()).into());
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= c.n_vocab) {
            return Err(Error::BadToken { id: bad, vocab: c.n_vocab }.into());
        }
        if self.pos + tokens.len() > self.plan.cache.capacity {
            return Err(Error::ContextFull(self.plan.cache.capacity).into());
        }
        self.gpu.check()?;
        for (i, &tok) in tokens.iter().enumerate() {
            let pos = self.pos + i;
            let last = i + 1 == tokens.len();
            let (chunk, row) = embed_chunk(&self.plan.embed, tok as usize)
                .ok_or_else(|| GpuError::from(Error::BadToken { id: tok, vocab: c.n_vocab }))?;
            self.gpu.queue.write_buffer(&self.shared.step, 0, &u32_bytes(&[pos as u32, row as u32, 0, 0]));
            self.gpu.queue.write_buffer(&self.shared.rope_table, 0, &f32_bytes(&rope_table(&self.plan.inv_freqs, pos)));
            let mut enc = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("token") });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("decode"), timestamp_writes: None });
                encode(&mut pass, std::slice::from_ref(&chunk.op), pos as u32);
                encode(&mut pass, &self.plan.body, pos as u32);
                if last {
                    encode(&mut pass, &self.plan.head, pos as u32);
                    if matches!(out, Output::Argmax) {
                        encode(&mut pass, std::slice::from_ref(&self.argmax), pos as u32);
                    }
                }
            }
            if last {
                match out {
                    Output::Logits => {
                        enc.copy_buffer_to_buffer(&self.plan.logits, 0, &self.logits_staging, 0, c.n_vocab as u64 * 4)
                    }
                    Output::Argmax => enc.copy_buffer_to_buffer(&self.argmax_out, 0, &self.token_staging, 0, 4),
                }
            }
            self.gpu.queue.submit([enc.finish()]);
        }
        self.pos += tokens.len();
        self.gpu.check()
    }
}

/// `[cos | sin]` of `pos * f` for every table, computed as the CPU backend
/// does (f32 angle, then an accurate sin/cos).
fn rope_table(inv_freqs: &[Vec<f32>], pos: usize) -> Vec<f32> {
    let p = pos as f32;
    let mut t = Vec::new();
    for inv in inv_freqs {
        let (c, s): (Vec<f32>, Vec<f32>) = inv.iter().map(|f| {
            let (s, c) = (p * f).sin_cos();
            (c, s)
        }).unzip();
        t.extend(c);
        t.extend(s);
    }
    t
}

/// A `[rows, cols]` weight from the file, uploaded.
pub(crate) fn weight(gpu: &Gpu, g: &Gguf, name: &str, rows: usize, cols: usize, total: &mut u64) -> GpuResult<GpuWeight> {
    let t = g.tensor(name)?;
    if t.dims.as_slice() != [rows, cols] {
        return Err(Error::BadShape { tensor: name.into(), found: t.dims.clone(), expected: vec![rows, cols] }.into());
    }
    let w = GpuWeight::upload(gpu, name, t.qtype, rows, cols, g.data(t))?;
    *total += t.len as u64;
    Ok(w)
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
