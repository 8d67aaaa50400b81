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

/// Rotates `n_heads` heads of each token of `v` in place with table
/// `table_off` of the token's `ROPE_TABLE_STRIDE` floats.
pub async fn rope(
    b: &mut Builder<'_>,
    v: &wgpu::Buffer,
    table: &wgpu::Buffer,
    n_heads: usize,
    head_dim: usize,
    neox: bool,
    table_off: usize,
) -> GpuResult<Op> {
    let half = head_dim / 2;
    let p = uniform(b.gpu, "rope", &[n_heads as u32, head_dim as u32, half as u32, neox as u32, table_off as u32, ROPE_TABLE_STRIDE as u32]);
    b.op(Kernel::Rope, &[&p, v, table], Grid::Tokens([((n_heads * half) as u32).div_ceil(64), 1])).await
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

/// `result[0] = argmax(logits[..n])`.
pub async fn argmax(b: &mut Builder<'_>, logits: &wgpu::Buffer, result: &wgpu::Buffer, n: usize) -> GpuResult<Op> {
    let p = uniform(b.gpu, "argmax", &[n as u32]);
    b.op(Kernel::Argmax, &[&p, logits, result], Grid::Fixed([1, 1, 1])).await
}
