//! Decode mat-vec and embedding lookup over GGUF-block weights.
//!
//! Layout choice: weights stay in their GGUF bytes and the shaders read
//! bytes out of u32 words (funnel-shifting two words where a block is not
//! 4-byte aligned: Q8_0's 34-byte and Q6_K's 210-byte blocks, Qwen's
//! 7,350-byte Q6_K rows). Repacking into aligned struct-of-arrays segments
//! at load would save a second word read per unaligned u32, but costs a
//! full extra copy of the weights on the CPU at load (in a browser tab that
//! doubles peak memory) and a second layout to keep in step with the CPU
//! kernels. Decode is bound by memory bandwidth, and the extra word is
//! almost always in the same cache line as the first, so the unaligned
//! reads cost ALU work the kernel has to spare. Measure on real hardware
//! before revisiting (this choice has so far only run on lavapipe).
//!
//! A weight split into chunks (see `buffers`) becomes one dispatch per
//! chunk, each writing its rows' slice of the output.

use super::buffers::{uniform, GpuWeight};
use super::error::GpuResult;
use super::graph::{grid_2d, Builder, Grid, Op};
use super::kernels::Kernel;

/// `y[y_off + r] (+)= W[r] . x` for every row of `w`.
pub async fn matvec_ops(
    b: &mut Builder<'_>,
    w: &GpuWeight,
    x: &wgpu::Buffer,
    y: &wgpu::Buffer,
    y_off: usize,
    accumulate: bool,
) -> GpuResult<Vec<Op>> {
    let mut ops = Vec::with_capacity(w.chunks.len());
    for c in &w.chunks {
        let grid = grid_2d(b.gpu, c.rows as u32)?;
        let params = uniform(
            b.gpu,
            &format!("{} params", w.name),
            &[c.rows as u32, w.cols as u32, w.row_bytes as u32, (y_off + c.row0) as u32, accumulate as u32, grid[0]],
        );
        ops.push(b.op(Kernel::MatVec(w.qtype), &[&params, &c.buffer, x, y], Grid::Fixed(grid)).await?);
    }
    Ok(ops)
}

/// Embedding lookup, one op per chunk of the table: the caller runs the op
/// of the chunk holding the token, with the token's row within that chunk
/// in the step uniform.
pub struct EmbedChunk {
    pub row0: usize,
    pub rows: usize,
    pub op: Op,
}

pub async fn embed_ops(
    b: &mut Builder<'_>,
    w: &GpuWeight,
    out: &wgpu::Buffer,
    step: &wgpu::Buffer,
    scale: f32,
) -> GpuResult<Vec<EmbedChunk>> {
    let mut chunks = Vec::with_capacity(w.chunks.len());
    for c in &w.chunks {
        let params = uniform(b.gpu, &format!("{} embed", w.name), &[w.cols as u32, w.row_bytes as u32, scale.to_bits()]);
        let grid = Grid::Fixed([(w.cols as u32).div_ceil(64), 1, 1]);
        let op = b.op(Kernel::Embed(w.qtype), &[&params, &c.buffer, out, step], grid).await?;
        chunks.push(EmbedChunk { row0: c.row0, rows: c.rows, op });
    }
    Ok(chunks)
}

/// The chunk holding `token`, and the token's row inside it.
pub fn embed_chunk(chunks: &[EmbedChunk], token: usize) -> Option<(&EmbedChunk, usize)> {
    chunks.iter().find(|c| token >= c.row0 && token < c.row0 + c.rows).map(|c| (c, token - c.row0))
}
