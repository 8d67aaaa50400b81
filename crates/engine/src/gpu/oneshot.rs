//! Single kernels run once on host data: how tests check each kernel
//! against the CPU backend, and a quick way to probe a device.

use super::attention::{attention_ops, AttnBuffers, AttnShape};
use super::buffers::{scratch, staging, upload_f32, GpuWeight};
use super::device::{Gpu, GpuOptions};
use super::error::GpuResult;
use super::graph::{encode, Builder, Op};
use super::kernels::{Kernels, Layout};
use super::matvec::{embed_ops, matmul_ops, matvec_ops};
use super::{ops, readback};

pub struct Oneshot {
    pub gpu: Gpu,
    kernels: Kernels,
}

impl Oneshot {
    pub async fn new(opts: &GpuOptions) -> GpuResult<Self> {
        Ok(Oneshot { gpu: Gpu::new(opts).await?, kernels: Kernels::default() })
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(opts: &GpuOptions) -> GpuResult<Self> {
        pollster::block_on(Self::new(opts))
    }

    pub fn upload(&self, name: &str, qtype: crate::quant::QType, rows: usize, cols: usize, bytes: &[u8]) -> GpuResult<GpuWeight> {
        GpuWeight::upload(&self.gpu, name, qtype, rows, cols, bytes)
    }

    /// `W . x` through the fused mat-vec kernel of `w`'s type.
    pub async fn matvec(&mut self, w: &GpuWeight, x: &[f32]) -> GpuResult<Vec<f32>> {
        self.matvec_with(w, x, None).await
    }

    /// `matvec` in the given workgroup layout instead of the one chosen
    /// for `w`'s shape.
    pub async fn matvec_with(&mut self, w: &GpuWeight, x: &[f32], layout: Option<Layout>) -> GpuResult<Vec<f32>> {
        let xb = upload_f32(&self.gpu, "x", x)?;
        let y = scratch(&self.gpu, "y", w.rows)?;
        let mut b = Builder { gpu: &self.gpu, kernels: &mut self.kernels };
        let ops = matvec_ops(&mut b, w, &xb, &y, None, layout).await?;
        self.run(&ops, 0, 1, &y, w.rows).await
    }

    /// `x . W^T` for `x` holding `n` rows of `w.cols`, through the tiled
    /// mat-mul kernel: `n` rows of `w.rows`.
    pub async fn matmul(&mut self, w: &GpuWeight, x: &[f32], n: usize) -> GpuResult<Vec<f32>> {
        if x.len() != n * w.cols || n == 0 {
            return Err(super::GpuError::Unsupported(format!("{} inputs for {n} rows of {}", x.len(), w.cols)));
        }
        let xb = upload_f32(&self.gpu, "x", x)?;
        let y = scratch(&self.gpu, "y", n * w.rows)?;
        let step = super::buffers::uniform(&self.gpu, "step", &[0, 0, n as u32, 0]);
        let mut b = Builder { gpu: &self.gpu, kernels: &mut self.kernels };
        let ops = matmul_ops(&mut b, w, &xb, &y, &step, None).await?;
        self.run(&ops, 0, n as u32, &y, n * w.rows).await
    }

    /// Row `row` of `w`, dequantized and scaled, through the embedding kernel.
    pub async fn embed(&mut self, w: &GpuWeight, row: usize, scale: f32) -> GpuResult<Vec<f32>> {
        if row >= w.rows {
            return Err(super::GpuError::Unsupported(format!("row {row} of {}", w.rows)));
        }
        let out = scratch(&self.gpu, "out", w.cols)?;
        let tokens = super::buffers::upload_bytes(&self.gpu, "tokens", &(row as u32).to_le_bytes(), wgpu::BufferUsages::STORAGE)?;
        let mut b = Builder { gpu: &self.gpu, kernels: &mut self.kernels };
        let ops = embed_ops(&mut b, w, &out, &tokens, scale).await?;
        self.run(&ops, 0, 1, &out, w.cols).await
    }

    /// Index of the largest value, lowest on ties.
    pub async fn argmax(&mut self, v: &[f32]) -> GpuResult<u32> {
        let vb = upload_f32(&self.gpu, "logits", v)?;
        let out = scratch(&self.gpu, "argmax", 1)?;
        let mut b = Builder { gpu: &self.gpu, kernels: &mut self.kernels };
        let ops = ops::argmax(&mut b, &vb, &out, v.len()).await?;
        let r = self.run(&ops, 0, 1, &out, 1).await?;
        Ok(r.first().map_or(0, |f| f.to_bits()))
    }

    /// The token the GPU sampler picks from `logits` with `params`.
    pub async fn sample(&mut self, logits: &[f32], params: &super::SampleParams) -> GpuResult<u32> {
        self.sample_after(logits, params, 0).await
    }

    /// `sample` as the step after `input` (which `params.count_input`
    /// counts as a recent token).
    pub async fn sample_after(&mut self, logits: &[f32], params: &super::SampleParams, input: u32) -> GpuResult<u32> {
        if !params.fits() || logits.is_empty() {
            return Err(super::GpuError::Unsupported("sampling settings the GPU cannot take".into()));
        }
        let lb = upload_f32(&self.gpu, "logits", logits)?;
        let tokens = super::buffers::upload_bytes(&self.gpu, "input", &input.to_le_bytes(), wgpu::BufferUsages::STORAGE)?;
        let mut b = Builder { gpu: &self.gpu, kernels: &mut self.kernels };
        let sampler = super::sample::GpuSampler::new(&mut b, &lb, &tokens, logits.len()).await?;
        let ops: Vec<&Op> = sampler.ops(&self.gpu.queue, params);
        let st = staging(&self.gpu, "token", 4);
        let mut enc = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("sample") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            for op in ops {
                encode(&mut pass, std::slice::from_ref(op), 0, 1);
            }
        }
        enc.copy_buffer_to_buffer(&sampler.out, 0, &st, 0, 4);
        self.gpu.queue.submit([enc.finish()]);
        let bytes = readback::read(&self.gpu, &st, 4).await?;
        match bytes.get(..4) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => Err(super::GpuError::Readback("short token readback".into())),
        }
    }

    /// Decode attention of one query row at position `pos` over keys and
    /// values `0..=pos` (`kv_dim`-wide f32 rows, stored as f16 the way the
    /// KV cache keeps them).
    pub async fn attention(&mut self, q: &[f32], k: &[f32], v: &[f32], pos: usize, s: &AttnShape) -> GpuResult<Vec<f32>> {
        let kv_dim = s.n_kv_head * s.head_dim;
        let positions = pos + 1;
        if k.len() != positions * kv_dim || v.len() != positions * kv_dim || q.len() != s.n_head * s.head_dim {
            return Err(super::GpuError::Unsupported("attention inputs of mismatched sizes".into()));
        }
        let pack = |rows: &[f32]| -> Vec<u8> {
            rows.chunks_exact(2)
                .flat_map(|p| {
                    let lo = half::f16::from_f32(p[0]).to_bits() as u32;
                    let hi = half::f16::from_f32(p[1]).to_bits() as u32;
                    (lo | hi << 16).to_le_bytes()
                })
                .collect()
        };
        let usage = wgpu::BufferUsages::STORAGE;
        let kc = super::buffers::upload_bytes(&self.gpu, "k cache", &pack(k), usage)?;
        let vc = super::buffers::upload_bytes(&self.gpu, "v cache", &pack(v), usage)?;
        let qb = upload_f32(&self.gpu, "q", q)?;
        let scores = scratch(&self.gpu, "scores", s.n_head * positions)?;
        let out = scratch(&self.gpu, "out", s.n_head * s.head_dim)?;
        let (kb, vb) = (scratch(&self.gpu, "k", kv_dim)?, scratch(&self.gpu, "v", kv_dim)?);
        let step = super::buffers::uniform(&self.gpu, "step", &[pos as u32, 0, 0, 0]);
        let mut b = Builder { gpu: &self.gpu, kernels: &mut self.kernels };
        let bufs = AttnBuffers { q: &qb, k: &kb, v: &vb, k_cache: &kc, v_cache: &vc, scores: &scores, out: &out, step: &step };
        let ops = attention_ops(&mut b, s, bufs, positions).await?;
        // Skip the store: the cache was uploaded whole.
        self.run(ops.get(1..).unwrap_or_default(), pos as u32, 1, &out, s.n_head * s.head_dim).await
    }

    async fn run(&mut self, ops: &[Op], pos: u32, tokens: u32, out: &wgpu::Buffer, n: usize) -> GpuResult<Vec<f32>> {
        let st = staging(&self.gpu, "readback", n as u64 * 4);
        let mut enc = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("oneshot") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            encode(&mut pass, ops, pos, tokens);
        }
        enc.copy_buffer_to_buffer(out, 0, &st, 0, n as u64 * 4);
        self.gpu.queue.submit([enc.finish()]);
        let bytes = readback::read(&self.gpu, &st, n as u64 * 4).await?;
        Ok(readback::f32s(&bytes))
    }
}
