//! A recorded dispatch: pipeline, bind group (built once at load) and how
//! many workgroups to launch. A step replays a fixed list of them in one
//! compute pass over a chunk of `n` tokens (1 when decoding); the grids of
//! per-token ops grow with `n` in z, the attention grids with the position.

use super::device::Gpu;
use super::error::{GpuError, GpuResult};
use super::kernels::{Kernel, Kernels};

#[derive(Debug, Clone, Copy)]
pub enum Grid {
    Fixed([u32; 3]),
    /// `[x, y]` once per token of the chunk (z = n).
    Tokens([u32; 2]),
    /// `[x, y]` once per `tile` tokens of the chunk.
    TokenTiles { xy: [u32; 2], tile: u32 },
    /// One workgroup per 64 visible keys (x) per head (y); keys are the
    /// positions `lo..=pos`, `lo` set by the sliding window (0 = none);
    /// z is the token of the chunk, x covers the last token's keys (the
    /// most any token of the chunk sees).
    Keys { window: u32, heads: u32 },
}

impl Grid {
    /// The grid for a chunk of `n` tokens at positions `pos..pos + n`.
    pub fn at(self, pos: u32, n: u32) -> [u32; 3] {
        match self {
            Grid::Fixed(g) => g,
            Grid::Tokens([x, y]) => [x, y, n],
            Grid::TokenTiles { xy: [x, y], tile } => [x, y, n.div_ceil(tile.max(1))],
            Grid::Keys { window, heads } => {
                let last = pos + n.max(1) - 1;
                let keys = if window != 0 { (last + 1).min(window) } else { last + 1 };
                [keys.div_ceil(64), heads, n]
            }
        }
    }
}

pub struct Op {
    pub kernel: Kernel,
    pub pipeline: wgpu::ComputePipeline,
    pub bind: wgpu::BindGroup,
    pub grid: Grid,
}

/// Workgroup counts for `n` workgroups: x up to the per-dimension limit,
/// the rest in y (kernels number them `y * grid_x + x` and skip the excess).
pub fn grid_2d(gpu: &Gpu, n: u32) -> GpuResult<[u32; 3]> {
    let max = gpu.max_workgroups_per_dim();
    let x = n.clamp(1, max);
    let y = n.div_ceil(x).max(1);
    if y > max {
        return Err(GpuError::Unsupported(format!("{n} workgroups exceed the adapter's {max} x {max} grid")));
    }
    Ok([x, y, 1])
}

/// Builds ops: the device, its compiled kernels, and the step uniform that
/// position-dependent kernels read.
pub struct Builder<'a> {
    pub gpu: &'a Gpu,
    pub kernels: &'a mut Kernels,
}

impl Builder<'_> {
    pub async fn op(&mut self, k: Kernel, buffers: &[&wgpu::Buffer], grid: Grid) -> GpuResult<Op> {
        let pipeline = self.kernels.get(self.gpu, k).await?;
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        let scope = self.gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let bind = self.gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&format!("{k:?}")),
            layout: &layout,
            entries: &entries,
        });
        if let Some(e) = scope.pop().await {
            return Err(GpuError::Validation(format!("bind group of {k:?}: {e}")));
        }
        Ok(Op { kernel: k, pipeline, bind, grid })
    }
}

pub fn encode(pass: &mut wgpu::ComputePass<'_>, ops: &[Op], pos: u32, n: u32) {
    encode_profiled(pass, ops, pos, n, None);
}

/// `encode`, with a timestamp after each dispatch when profiling.
pub fn encode_profiled(
    pass: &mut wgpu::ComputePass<'_>,
    ops: &[Op],
    pos: u32,
    n: u32,
    mut profile: Option<&mut super::profile::Profiler>,
) {
    for op in ops {
        let [x, y, z] = op.grid.at(pos, n);
        if x == 0 || y == 0 || z == 0 {
            continue;
        }
        if let Some(p) = profile.as_deref_mut() {
            p.mark(pass, op.kernel);
        }
        pass.set_pipeline(&op.pipeline);
        pass.set_bind_group(0, &op.bind, &[]);
        pass.dispatch_workgroups(x, y, z);
    }
}
