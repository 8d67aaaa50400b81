//! The WebGPU backend: the decode step of gemma3 and llama/qwen2 models as
//! WGSL compute kernels, run through wgpu (Vulkan, Metal or DX12 natively,
//! the browser's WebGPU on wasm32).
//!
//! - `device`: adapter, limits, and a report of why the GPU is (not) used.
//! - `buffers`: weights uploaded as raw GGUF bytes, split into row chunks
//!   where a tensor exceeds one storage binding.
//! - `kernels`: pipelines from `shaders/*.wgsl` (one kernel or one quant
//!   format a file).
//! - `matvec`, `ops`, `attention`: the ops of a step; `graph` records them.
//! - `gemma3`, `llama`, `lfm2`: one file per architecture; `model`: `GpuModel`.
//! - `lora`: a LoRA adapter's part of the products of the weights it adapts.
//! - `sample`: the CPU sampler's rule on the GPU, reading back a token id.
//! - `session`: a chat session's steps on the GPU, with the CPU to fall back on.
//!
//! Nothing here panics on a missing adapter, a lost device or an
//! allocation the GPU refuses: each is a `GpuError`, and the caller falls
//! back to the CPU backend.

pub mod attention;
pub mod buffers;
pub mod device;
pub mod error;
mod fused;
mod gemma3;
pub mod graph;
pub mod kernels;
mod lfm2;
mod llama;
mod lora;
pub mod matvec;
pub mod model;
pub mod oneshot;
pub mod ops;
pub mod profile;
pub mod readback;
pub mod sample;
pub mod session;

pub use device::{Gpu, GpuOptions, GpuReport};
pub use error::{GpuError, GpuResult};
pub use model::{GpuModel, GpuModelOptions, Pick};
pub use oneshot::Oneshot;
pub use sample::SampleParams;
pub use session::GpuStep;
