//! The element-wise and normalisation kernels of a block, as ops. Each runs
//! once per token of the chunk (grid z), on rows laid out token after token.

use super::buffers::uniform;
use super::error::GpuResult;
use super::graph::{grid_2d, Builder, Grid, Op};
use super::attention::MAX_HEAD_DIM;
use super::kernels::Kernel;

/// Floats of RoPE table a token: up to two tables of `[cos | sin]`.
pub const ROPE_TABLE_STRIDE: usize = 2 * MAX_HEAD_DIM;

/// `dst (+)= rms_norm(src) * weight`, per `width`-wide row, `rows` rows a token.
#[allow(clippy::too_many_arguments)]
pub async fn rms_norm(
    b: &mut Builder<'_>,
    src: &wgpu::Buffer,
    weight: &wgpu::Buffer,
    dst: &wgpu::Buffer,
    width: usize,
    rows: usize,
    eps: f32,
    accumulate: bool,
) -> GpuResult<Op> {
    let p = uniform(b.gpu, "rms_norm", &[width as u32, rows as u32, eps.to_bits(), accumulate as u32]);
    b.op(Kernel::RmsNorm, &[&p, src, weight, dst], Grid::Tokens([rows as u32, 1])).await
}

/// `x += rms_norm(o) * post; h = rms_norm(x) * pre` over `width` floats a
/// token (Gemma's post-norm into the residual, then the next pre-norm).
#[allow(clippy::too_many_arguments)]
pub async fn norm_residual(
    b: &mut Builder<'_>,
    o: &wgpu::Buffer,
    post: &wgpu::Buffer,
    x: &wgpu::Buffer,
    pre: &wgpu::Buffer,
    h: &wgpu::Buffer,
    width: usize,
    eps: f32,
) -> GpuResult<Op> {
    let p = uniform(b.gpu, "norm_residual", &[width as u32, eps.to_bits()]);
    b.op(Kernel::NormResidual, &[&p, o, post, x, pre, h], Grid::Tokens([1, 1])).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    GeluTanh,
    Silu,
}

/// `gate = act(gate) * up` over `n` elements a token.
pub async fn glu(b: &mut Builder<'_>, gate: &wgpu::Buffer, up: &wgpu::Buffer, n: usize, kind: Gate) -> GpuResult<Op> {
    let p = uniform(b.gpu, "glu", &[n as u32, (kind == Gate::Silu) as u32]);
    let grid = grid_2d(b.gpu, (n as u32).div_ceil(64))?;
    b.op(Kernel::Glu, &[&p, gate, up], Grid::Tokens([grid[0], grid[1]])).await
}

/// `dst += src` over `n` elements of each token's row.
pub async fn add(b: &mut Builder<'_>, dst: &wgpu::Buffer, src: &wgpu::Buffer, n: usize) -> GpuResult<Op> {
    let p = uniform(b.gpu, "add", &[n as u32]);
    b.op(Kernel::Add, &[&p, dst, src], Grid::Tokens([(n as u32).div_ceil(64), 1])).await
}

/// `x = cap * tanh(x / cap)` over `n` values (Gemma 2's final logits).
pub async fn soft_cap(b: &mut Builder<'_>, x: &wgpu::Buffer, n: usize, cap: f32) -> GpuResult<Op> {
    let p = uniform(b.gpu, "soft cap", &[n as u32, cap.to_bits()]);
    b.op(Kernel::SoftCap, &[&p, x], Grid::Fixed([(n as u32).div_ceil(64), 1, 1])).await
}

/// Workgroups of the argmax's first pass: enough to spread a vocabulary's
/// reads over a large GPU, few enough for one workgroup to finish.
const ARGMAX_GROUPS: usize = 128;

/// `result[0] = argmax(logits[..n])`, in two passes.
pub async fn argmax(b: &mut Builder<'_>, logits: &wgpu::Buffer, result: &wgpu::Buffer, n: usize) -> GpuResult<Vec<Op>> {
    let groups = n.div_ceil(256).clamp(1, ARGMAX_GROUPS);
    let partial = super::buffers::scratch(b.gpu, "argmax partial", 2 * groups)?;
    let p = uniform(b.gpu, "argmax blocks", &[n as u32]);
    let first = b.op(Kernel::ArgmaxBlocks, &[&p, logits, &partial], Grid::Fixed([groups as u32, 1, 1])).await?;
    let p = uniform(b.gpu, "argmax", &[groups as u32]);
    let second = b.op(Kernel::Argmax, &[&p, &partial, result], Grid::Fixed([1, 1, 1])).await?;
    Ok(vec![first, second])
}
