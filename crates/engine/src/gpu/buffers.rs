//! GPU buffers: weights as raw GGUF bytes, activations as f32, small
//! uniform parameter blocks.
//!
//! A weight is uploaded byte for byte as the GGUF file stores it, viewed
//! by the shaders as `array<u32>`. A tensor larger than one storage binding
//! (Gemma 3's 178 MB tied embedding / LM head against WebGPU's default
//! 128 MiB) is split into chunks of whole rows, one buffer each; a mat-vec
//! then runs once per chunk, writing its slice of the output.

use wgpu::util::DeviceExt;

use super::device::Gpu;
use super::error::{GpuError, GpuResult};
use crate::quant::QType;

/// Rows `row0..row0 + rows` of a weight, in their own buffer.
#[derive(Clone)]
pub struct WeightChunk {
    pub buffer: wgpu::Buffer,
    pub row0: usize,
    pub rows: usize,
}

/// A `[rows, cols]` matrix in GGUF blocks on the GPU.
pub struct GpuWeight {
    pub name: String,
    pub qtype: QType,
    pub rows: usize,
    pub cols: usize,
    pub row_bytes: usize,
    pub chunks: Vec<WeightChunk>,
    /// A LoRA adapter's part of every product (`linear_ops` adds it).
    pub lora: Option<Box<super::lora::GpuLora>>,
}

/// Every shader may read one word past the last byte it needs (an
/// unaligned u32 read spans two words), so buffers carry a spare word.
const PAD: usize = 4;

impl GpuWeight {
    /// Uploads `bytes` (exactly `rows * row_bytes` of type `qtype`).
    pub fn upload(gpu: &Gpu, name: &str, qtype: QType, rows: usize, cols: usize, bytes: &[u8]) -> GpuResult<Self> {
        if !cols.is_multiple_of(qtype.block_elems()) || rows == 0 || cols == 0 {
            return Err(GpuError::Unsupported(format!("tensor `{name}`: {cols} columns of {qtype:?}")));
        }
        let row_bytes = qtype.row_bytes(cols);
        if rows.checked_mul(row_bytes) != Some(bytes.len()) {
            return Err(GpuError::Unsupported(format!(
                "tensor `{name}`: {} bytes for {rows} rows of {row_bytes}",
                bytes.len()
            )));
        }
        let budget = (gpu.max_binding as usize).saturating_sub(PAD);
        let per_chunk = budget / row_bytes;
        if per_chunk == 0 {
            return Err(GpuError::Unsupported(format!(
                "tensor `{name}`: one row of {row_bytes} bytes exceeds the {}-byte storage binding",
                gpu.max_binding
            )));
        }
        let mut chunks = Vec::new();
        let mut row0 = 0;
        while row0 < rows {
            let n = per_chunk.min(rows - row0);
            let data = bytes.get(row0 * row_bytes..(row0 + n) * row_bytes).unwrap_or_default();
            let buffer = upload_bytes(gpu, &format!("{name}[{row0}..]"), data, wgpu::BufferUsages::STORAGE)?;
            chunks.push(WeightChunk { buffer, row0, rows: n });
            row0 += n;
        }
        Ok(GpuWeight { name: name.into(), qtype, rows, cols, row_bytes, chunks, lora: None })
    }

    /// `upload` of one of the model file's own weights (`name` names the
    /// bytes: a tensor, a part of one, or a stack of them), or the copy
    /// already on the device from an earlier build of the model. `bytes`
    /// is asked for only when there is none (a stack is a copy to make).
    pub fn upload_kept<B: AsRef<[u8]>>(
        gpu: &Gpu,
        name: &str,
        qtype: QType,
        rows: usize,
        cols: usize,
        bytes: impl FnOnce() -> B,
    ) -> GpuResult<Self> {
        let mut kept = gpu.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.used.insert(name.to_string());
        if let Some(w) = kept.weights.get(name).filter(|w| (w.qtype, w.rows, w.cols) == (qtype, rows, cols)) {
            return Ok(w.share());
        }
        let bytes = bytes();
        let w = Self::upload(gpu, name, qtype, rows, cols, bytes.as_ref())?;
        kept.uploaded += bytes.as_ref().len() as u64;
        kept.weights.insert(name.to_string(), w.share());
        Ok(w)
    }

    /// The same buffers, without an adapter.
    fn share(&self) -> Self {
        GpuWeight {
            name: self.name.clone(),
            qtype: self.qtype,
            rows: self.rows,
            cols: self.cols,
            row_bytes: self.row_bytes,
            chunks: self.chunks.clone(),
            lora: None,
        }
    }
}

/// The weights a model build uploaded (`GpuWeight::upload_kept`); after a
/// build, those it did not ask for are let go (`keep_used`).
#[derive(Default)]
pub struct KeptWeights {
    weights: std::collections::HashMap<String, GpuWeight>,
    used: std::collections::HashSet<String>,
    /// Bytes uploaded since the device opened.
    pub uploaded: u64,
}

impl KeptWeights {
    /// Lets go of the weights the last build did not use (a stack that an
    /// adapter now keeps apart, say), so the device frees them with the
    /// old build.
    pub fn keep_used(&mut self) {
        let used = std::mem::take(&mut self.used);
        self.weights.retain(|name, _| used.contains(name));
    }
}

/// A buffer holding `data`, padded with zeros to a whole word plus `PAD`.
pub fn upload_bytes(gpu: &Gpu, label: &str, data: &[u8], usage: wgpu::BufferUsages) -> GpuResult<wgpu::Buffer> {
    let size = (data.len() + PAD).next_multiple_of(4) as u64;
    if size > gpu.limits.max_buffer_size {
        return Err(GpuError::Unsupported(format!("buffer `{label}` of {size} bytes exceeds the adapter's maximum")));
    }
    let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: true,
    });
    {
        let mut view = buffer
            .get_mapped_range_mut(..)
            .map_err(|e| GpuError::OutOfMemory(format!("mapping `{label}` of {size} bytes: {e}")))?;
        if view.len() < data.len() {
            return Err(GpuError::OutOfMemory(format!("mapping `{label}` returned {} bytes", view.len())));
        }
        view.slice(..data.len()).copy_from_slice(data);
    }
    buffer.unmap();
    Ok(buffer)
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A read-only f32 vector (norm weights, biases, RoPE factors).
/// Floats are padded to whole vec4s: the mat-vec kernels read x as vec4s.
pub fn upload_f32(gpu: &Gpu, label: &str, v: &[f32]) -> GpuResult<wgpu::Buffer> {
    let mut bytes = f32_bytes(v);
    bytes.resize(bytes.len().next_multiple_of(16), 0);
    upload_bytes(gpu, label, &bytes, wgpu::BufferUsages::STORAGE)
}

/// A zeroed read-write f32 buffer of `len` elements (activations, caches).
pub fn scratch(gpu: &Gpu, label: &str, len: usize) -> GpuResult<wgpu::Buffer> {
    let size = len
        .max(1)
        .checked_mul(4)
        .and_then(|b| b.checked_add(PAD))
        .map(|b| b.next_multiple_of(16))
        .ok_or_else(|| GpuError::Unsupported(format!("buffer `{label}` of {len} floats")))? as u64;
    if size > gpu.max_binding.max(gpu.limits.max_storage_buffer_binding_size.min(gpu.limits.max_buffer_size)) {
        return Err(GpuError::Unsupported(format!("buffer `{label}` of {size} bytes exceeds the storage binding limit")));
    }
    Ok(gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    }))
}

/// A uniform block of u32/f32 words, fixed for the model's lifetime (the
/// shape of one dispatch).
pub fn uniform(gpu: &Gpu, label: &str, words: &[u32]) -> wgpu::Buffer {
    let mut bytes = u32_bytes(words);
    // Uniform blocks are sized in 16-byte units.
    bytes.resize(bytes.len().next_multiple_of(16).max(16), 0);
    gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: &bytes,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    })
}

/// A buffer the CPU can read back after copying `size` bytes into it.
pub fn staging(gpu: &Gpu, label: &str, size: u64) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(4).next_multiple_of(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}
