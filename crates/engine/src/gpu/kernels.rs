//! Compute pipelines, built from the WGSL files in `shaders/` on first use.
//!
//! Kernels that read weights (mat-vec, embedding lookup) are one entry
//! point composed with one quant format file: `bytes.wgsl` (byte reads out
//! of u32 words) + `q8_0.wgsl` (the block layout: `slot_dot`, `dequant`) +
//! `matvec.wgsl` (or `matmul.wgsl`, `embed.wgsl`). Each format is written
//! once and shared by every kernel.

use std::collections::HashMap;

use super::device::Gpu;
use super::error::{GpuError, GpuResult};
use crate::quant::QType;

const BYTES: &str = include_str!("shaders/bytes.wgsl");
const MATVEC_CORE: &str = include_str!("shaders/matvec_core.wgsl");
const MATVEC_X: &str = include_str!("shaders/matvec_x.wgsl");
const MATVEC_X_NORM: &str = include_str!("shaders/matvec_x_norm.wgsl");
const ACT: &str = include_str!("shaders/act.wgsl");
const ARGMAX_REDUCE: &str = include_str!("shaders/argmax_reduce.wgsl");

/// How a mat-vec workgroup of `wg` threads splits its rows
/// (matvec_core.wgsl): `tpr` threads share `rpt` rows (at most 4), each
/// thread taking its slots of all of them. `tpr` and `wg` are powers of
/// two, `tpr <= wg <= 256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    pub rpt: u32,
    pub tpr: u32,
    pub wg: u32,
}

impl Layout {
    /// Rows a workgroup takes.
    pub fn rows(self) -> u32 {
        self.rpt * (self.wg / self.tpr)
    }

    fn consts(self) -> String {
        format!(
            "const RPT: u32 = {}u;\nconst TPR: u32 = {}u;\nconst WG: u32 = {}u;\n",
            self.rpt, self.tpr, self.wg
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    MatVec(QType, Layout),
    /// Stacked gate and up rows, activated: the decode feed-forward; with
    /// `true`, x is RMS-normalised on the way in (matvec_x_norm.wgsl).
    MatVecGlu(QType, Layout, bool),
    /// Stacked q, k and v rows (and biases) into three outputs; the bool
    /// as for `MatVecGlu`.
    MatVecQkv(QType, Layout, bool),
    MatMul(QType),
    Embed(QType),
    RmsNorm,
    NormResidual,
    KvStore,
    QkPrep,
    AttnScores,
    AttnSoftmaxValues,
    Glu,
    /// LFM2's short convolution: its input stored, then convolved and gated.
    ShortConvStore,
    ShortConv,
    Add,
    SoftCap,
    ArgmaxBlocks,
    Argmax,
    SamplePrep,
    SamplePenalize,
    SampleCandidates,
    Sample,
}

fn format_source(q: QType) -> &'static str {
    match q {
        QType::F32 => include_str!("shaders/f32.wgsl"),
        QType::F16 => include_str!("shaders/f16.wgsl"),
        QType::BF16 => include_str!("shaders/bf16.wgsl"),
        QType::Q4_0 => include_str!("shaders/q4_0.wgsl"),
        QType::Q4_1 => include_str!("shaders/q4_1.wgsl"),
        QType::Q5_0 => include_str!("shaders/q5_0.wgsl"),
        QType::Q5_1 => include_str!("shaders/q5_1.wgsl"),
        QType::Q2K => include_str!("shaders/q2_k.wgsl"),
        QType::Q3K => include_str!("shaders/q3_k.wgsl"),
        QType::Q8_0 => include_str!("shaders/q8_0.wgsl"),
        QType::Q4K => include_str!("shaders/q4_k.wgsl"),
        QType::Q5K => include_str!("shaders/q5_k.wgsl"),
        QType::Q6K => include_str!("shaders/q6_k.wgsl"),
        QType::IQ4NL => concat!(include_str!("shaders/iq4_grid.wgsl"), include_str!("shaders/iq4_nl.wgsl")),
        QType::IQ4XS => concat!(include_str!("shaders/iq4_grid.wgsl"), include_str!("shaders/iq4_xs.wgsl")),
    }
}

impl Kernel {
    fn source(self) -> String {
        match self {
            Kernel::MatVec(q, r) => {
                [r.consts().as_str(), BYTES, format_source(q), MATVEC_X, MATVEC_CORE, include_str!("shaders/matvec.wgsl")].join("\n")
            }
            Kernel::MatVecGlu(q, r, norm) => {
                let x = if norm { MATVEC_X_NORM } else { MATVEC_X };
                [r.consts().as_str(), BYTES, format_source(q), x, MATVEC_CORE, ACT, include_str!("shaders/matvec_glu.wgsl")].join("\n")
            }
            Kernel::MatVecQkv(q, r, norm) => {
                let x = if norm { MATVEC_X_NORM } else { MATVEC_X };
                [r.consts().as_str(), BYTES, format_source(q), x, MATVEC_CORE, include_str!("shaders/matvec_qkv.wgsl")].join("\n")
            }
            Kernel::MatMul(q) => [BYTES, format_source(q), include_str!("shaders/matmul.wgsl")].join("\n"),
            Kernel::Embed(q) => [BYTES, format_source(q), include_str!("shaders/embed.wgsl")].join("\n"),
            Kernel::RmsNorm => include_str!("shaders/rms_norm.wgsl").into(),
            Kernel::NormResidual => include_str!("shaders/norm_residual.wgsl").into(),
            Kernel::KvStore => include_str!("shaders/kv_store.wgsl").into(),
            Kernel::QkPrep => include_str!("shaders/qk_prep.wgsl").into(),
            Kernel::AttnScores => include_str!("shaders/attn_scores.wgsl").into(),
            Kernel::AttnSoftmaxValues => include_str!("shaders/attn_softmax_values.wgsl").into(),
            Kernel::Glu => [ACT, include_str!("shaders/glu.wgsl")].join("\n"),
            Kernel::ShortConvStore => include_str!("shaders/shortconv_store.wgsl").into(),
            Kernel::ShortConv => include_str!("shaders/shortconv.wgsl").into(),
            Kernel::Add => include_str!("shaders/add.wgsl").into(),
            Kernel::SoftCap => include_str!("shaders/soft_cap.wgsl").into(),
            Kernel::ArgmaxBlocks => [ARGMAX_REDUCE, include_str!("shaders/argmax_blocks.wgsl")].join("\n"),
            Kernel::Argmax => [ARGMAX_REDUCE, include_str!("shaders/argmax.wgsl")].join("\n"),
            Kernel::SamplePrep => include_str!("shaders/sample_prep.wgsl").into(),
            Kernel::SamplePenalize => include_str!("shaders/sample_penalize.wgsl").into(),
            Kernel::SampleCandidates => include_str!("shaders/sample_candidates.wgsl").into(),
            Kernel::Sample => include_str!("shaders/sample.wgsl").into(),
        }
    }
}

#[derive(Default)]
pub struct Kernels {
    pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
}

impl Kernels {
    /// The pipeline of `k`, compiled the first time it is asked for. A
    /// shader the device rejects is an error, not a panic.
    pub async fn get(&mut self, gpu: &Gpu, k: Kernel) -> GpuResult<wgpu::ComputePipeline> {
        if let Some(p) = self.pipelines.get(&k) {
            return Ok(p.clone());
        }
        let label = format!("{k:?}");
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(&label),
            source: wgpu::ShaderSource::Wgsl(k.source().into()),
        });
        let pipeline = gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            cache: None,
        });
        if let Some(e) = scope.pop().await {
            return Err(GpuError::Validation(format!("kernel {label}: {e}")));
        }
        self.pipelines.insert(k, pipeline.clone());
        Ok(pipeline)
    }
}
