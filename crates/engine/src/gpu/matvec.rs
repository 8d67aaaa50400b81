//! Decode mat-vec, prefill mat-mul and embedding lookup over GGUF-block
//! weights.
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
use super::error::{GpuError, GpuResult};
use super::graph::{grid_2d, Builder, Grid, Op};
use super::kernels::{Kernel, Layout};

/// The mat-vec layout for a matrix of `rows` rows, measured on an H100
/// (README, GPU benchmarks): a 64-thread workgroup a row for short
/// matrices (more threads a row, more rows a thread or two slots a loop
/// turn, each with its own sum, were slower or no faster); for tall ones 16 threads a row, two rows
/// a thread (Gemma's 262,144-row Q8_0 head 204 -> 94 us).
/// `KINDRED_GPU_MATVEC=RxTxW,RxTxW` (tall, then short: rows a thread x
/// threads a row group x workgroup size) overrides it
/// without a rebuild.
pub fn layout(rows: usize) -> Layout {
    let tall = rows >= 4096;
    if let Some(l) = layout_override(tall) {
        return l;
    }
    if tall {
        Layout { rpt: 2, tpr: 16, wg: 64 }
    } else {
        Layout { rpt: 1, tpr: 64, wg: 64 }
    }
}

/// The layout of the gate/up mat-vec of `rows` rows a half: as `layout`,
/// but one row a thread when tall (two rows, each read twice over for
/// gate and up, were slower: Qwen 920 -> 1,141 us a token).
pub fn glu_layout(rows: usize) -> Layout {
    let tall = rows >= 4096;
    match layout_override(tall) {
        Some(l) => l,
        None if tall => Layout { rpt: 1, tpr: 16, wg: 64 },
        None => layout(rows),
    }
}

fn layout_override(tall: bool) -> Option<Layout> {
    let v = std::env::var("KINDRED_GPU_MATVEC").ok()?;
    let part = v.split(',').nth(if tall { 0 } else { 1 })?;
    let n: Vec<u32> = part.split('x').map(|v| v.trim().parse().ok()).collect::<Option<_>>()?;
    let [rpt, tpr, wg] = n[..] else { return None };
    let l = Layout { rpt, tpr, wg };
    let ok = (1..=4).contains(&rpt) && tpr.is_power_of_two() && wg.is_power_of_two() && tpr <= wg && wg <= 256;
    ok.then_some(l)
}

/// `y[r] = W[r] . x` (or `y[r] += s * W[r] . x` with `add` Some(s)) for every row of `w`, in the `forced` workgroup
/// layout if given, else in the one `layout` picks for each chunk.
pub async fn matvec_ops(
    b: &mut Builder<'_>,
    w: &GpuWeight,
    x: &wgpu::Buffer,
    y: &wgpu::Buffer,
    add: Option<f32>,
    forced: Option<Layout>,
) -> GpuResult<Vec<Op>> {
    let mut ops = Vec::with_capacity(w.chunks.len());
    for c in &w.chunks {
        let rpw = forced.unwrap_or_else(|| layout(c.rows));
        let grid = grid_2d(b.gpu, (c.rows as u32).div_ceil(rpw.rows()))?;
        let params = uniform(
            b.gpu,
            &format!("{} params", w.name),
            &[c.rows as u32, w.cols as u32, w.row_bytes as u32, c.row0 as u32, add_word(add), grid[0]],
        );
        ops.push(b.op(Kernel::MatVec(w.qtype, rpw), &[&params, &c.buffer, x, y], Grid::Fixed(grid)).await?);
    }
    Ok(ops)
}

/// `y[t][r] (+)= W[r] . x[t]` for the `step.n` tokens of a chunk
/// (rows of `w.cols` floats in `x`, of `w.rows` in `y`): the tiled kernel.
pub async fn matmul_ops(
    b: &mut Builder<'_>,
    w: &GpuWeight,
    x: &wgpu::Buffer,
    y: &wgpu::Buffer,
    step: &wgpu::Buffer,
    add: Option<f32>,
) -> GpuResult<Vec<Op>> {
    let mut ops = Vec::with_capacity(w.chunks.len());
    for c in &w.chunks {
        let tiles = (c.rows as u32).div_ceil(MATMUL_TILE);
        if tiles > b.gpu.max_workgroups_per_dim() {
            return Err(GpuError::Unsupported(format!("{} rows of `{}` in one mat-mul", c.rows, w.name)));
        }
        let params = uniform(
            b.gpu,
            &format!("{} matmul", w.name),
            &[c.rows as u32, w.cols as u32, w.row_bytes as u32, c.row0 as u32, add_word(add), w.rows as u32, 0],
        );
        let grid = Grid::TokenTiles { xy: [tiles, 1], tile: MATMUL_TILE };
        ops.push(b.op(Kernel::MatMul(w.qtype), &[&params, &c.buffer, x, y, step], grid).await?);
    }
    Ok(ops)
}

/// `y[t][r] (+)= W[lo + r] . x[t]` for rows `lo..lo + rows` of a weight
/// held in one binding (a part of stacked weights), `rows` floats a token
/// in `y`.
#[allow(clippy::too_many_arguments)]
pub async fn matmul_part_ops(
    b: &mut Builder<'_>,
    w: &GpuWeight,
    lo: usize,
    rows: usize,
    x: &wgpu::Buffer,
    y: &wgpu::Buffer,
    step: &wgpu::Buffer,
    add: Option<f32>,
) -> GpuResult<Op> {
    let ([c], true) = (w.chunks.as_slice(), lo + rows <= w.rows) else {
        return Err(GpuError::Unsupported(format!("rows {lo}..{} of `{}` as one part", lo + rows, w.name)));
    };
    let tiles = (rows as u32).div_ceil(MATMUL_TILE);
    if tiles > b.gpu.max_workgroups_per_dim() {
        return Err(GpuError::Unsupported(format!("{rows} rows of `{}` in one mat-mul", w.name)));
    }
    let w_off = (lo * w.row_bytes) as u32;
    let params = uniform(
        b.gpu,
        &format!("{}[{lo}..] matmul", w.name),
        &[rows as u32, w.cols as u32, w.row_bytes as u32, 0, add_word(add), rows as u32, w_off],
    );
    let grid = Grid::TokenTiles { xy: [tiles, 1], tile: MATMUL_TILE };
    b.op(Kernel::MatMul(w.qtype), &[&params, &c.buffer, x, y, step], grid).await
}

/// The kernels' `accumulate` word: 0 stores the product, any other float
/// is the factor it is added with (1, or Granite's residual multiplier).
fn add_word(add: Option<f32>) -> u32 {
    add.map_or(0, f32::to_bits)
}

/// Rows and tokens of one mat-mul workgroup's tile (matmul.wgsl).
pub const MATMUL_TILE: u32 = 64;

/// A linear layer for a lane of `rows` tokens: the mat-vec when decoding
/// one token, the tiled mat-mul for a prefill chunk; then the weight's
/// adapter, if it has one.
pub async fn linear_ops(
    b: &mut Builder<'_>,
    w: &GpuWeight,
    x: &wgpu::Buffer,
    y: &wgpu::Buffer,
    step: &wgpu::Buffer,
    rows: usize,
    add: Option<f32>,
) -> GpuResult<Vec<Op>> {
    let mut ops = if rows <= 1 { matvec_ops(b, w, x, y, add, None).await? } else { matmul_ops(b, w, x, y, step, add).await? };
    if let Some(lora) = &w.lora {
        ops.extend(lora.ops(b, x, y, step, rows, add).await?);
    }
    Ok(ops)
}

/// Embedding lookup of a chunk's tokens (ids in `tokens`), one op per chunk
/// of the table; each op writes the tokens whose rows it holds.
pub async fn embed_ops(
    b: &mut Builder<'_>,
    w: &GpuWeight,
    out: &wgpu::Buffer,
    tokens: &wgpu::Buffer,
    scale: f32,
) -> GpuResult<Vec<Op>> {
    let mut ops = Vec::with_capacity(w.chunks.len());
    for c in &w.chunks {
        let params = uniform(
            b.gpu,
            &format!("{} embed", w.name),
            &[w.cols as u32, w.row_bytes as u32, scale.to_bits(), c.row0 as u32, c.rows as u32],
        );
        let grid = Grid::Tokens([(w.cols as u32).div_ceil(64), 1]);
        ops.push(b.op(Kernel::Embed(w.qtype), &[&params, &c.buffer, out, tokens], grid).await?);
    }
    Ok(ops)
}
