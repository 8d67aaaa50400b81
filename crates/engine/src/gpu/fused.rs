//! Stacked projections for decode: q, k and v in one weight binding (and
//! gate and up in another), so a decode step runs one mat-vec dispatch
//! for the three attention projections (with Qwen2's biases) and one for
//! the whole gated feed-forward, where it ran three and three (six with
//! the bias additions). Measured on an H100, a decode step's time was
//! mostly fixed cost per dispatch (~10 us each, 400-530 of them a token),
//! not weight reads.
//!
//! Weights stack only when they share a type and fit one binding; files
//! that mix types (Q4_K_M often gives v a different type from q and k)
//! keep separate weights and dispatches. The prefill lane reads the parts
//! of a stack through `matmul_part_ops`.

use super::buffers::{scratch, uniform, upload_f32, GpuWeight};
use super::device::Gpu;
use super::error::GpuResult;
use super::graph::{grid_2d, Builder, Grid, Op};
use super::kernels::Kernel;
use super::matvec::{glu_layout, layout, linear_ops, matmul_part_ops};
use super::model::weight;
use super::ops::{self, Gate};
use crate::gguf::Gguf;

/// Several `[rows_i, cols]` weights, stacked when they can be.
pub enum Proj {
    Stacked { w: GpuWeight, rows: Vec<usize> },
    Separate(Vec<GpuWeight>),
}

impl Proj {
    /// Loads `names` (`rows` rows each, `cols` columns).
    pub fn load(gpu: &Gpu, g: &Gguf, names: &[String], rows: &[usize], cols: usize, total: &mut u64) -> GpuResult<Proj> {
        let tensors = names.iter().map(|n| g.tensor(n)).collect::<Result<Vec<_>, _>>()?;
        let same_type = tensors.windows(2).all(|p| p[0].qtype == p[1].qtype);
        // An adapted weight keeps its own products, each with its adapter.
        let adapted = names.iter().any(|n| g.lora(n, 0).is_some());
        let shapes_ok = tensors.iter().zip(rows).all(|(t, &r)| t.dims.as_slice() == [r, cols]);
        let bytes: usize = tensors.iter().map(|t| t.len).sum();
        if same_type && shapes_ok && !adapted && (bytes as u64) + 8 <= gpu.max_binding {
            let stack = || {
                let mut data = Vec::with_capacity(bytes);
                for t in &tensors {
                    data.extend_from_slice(g.data(t));
                }
                data
            };
            let name = format!("{} (stacked)", names[0]);
            let w = GpuWeight::upload_kept(gpu, &name, tensors[0].qtype, rows.iter().sum(), cols, stack)?;
            *total += bytes as u64;
            return Ok(Proj::Stacked { w, rows: rows.to_vec() });
        }
        let mut ws = Vec::with_capacity(names.len());
        for (n, &r) in names.iter().zip(rows) {
            ws.push(weight(gpu, g, n, r, cols, total)?);
        }
        Ok(Proj::Separate(ws))
    }

    /// One tensor whose rows are the parts already stacked (Phi-3's
    /// `attn_qkv` and `ffn_up`): one binding when it fits, else the parts
    /// uploaded apart.
    pub fn load_fused(gpu: &Gpu, g: &Gguf, name: &str, rows: &[usize], cols: usize, total: &mut u64) -> GpuResult<Proj> {
        let t = g.tensor(name)?;
        let all: usize = rows.iter().sum();
        if t.dims.as_slice() != [all, cols] {
            return Err(crate::error::Error::BadShape { tensor: name.into(), found: t.dims.clone(), expected: vec![all, cols] }.into());
        }
        let data = g.data(t);
        *total += t.len as u64;
        if (t.len as u64) + 8 <= gpu.max_binding && g.lora(name, 0).is_none() {
            let w = GpuWeight::upload_kept(gpu, name, t.qtype, all, cols, || data)?;
            return Ok(Proj::Stacked { w, rows: rows.to_vec() });
        }
        let row_bytes = t.qtype.row_bytes(cols);
        let mut r0 = 0;
        let mut ws = Vec::with_capacity(rows.len());
        for &r in rows {
            let part = &data[r0 * row_bytes..(r0 + r) * row_bytes];
            let mut w = GpuWeight::upload_kept(gpu, &format!("{name}[{r0}..]"), t.qtype, r, cols, || part)?;
            w.lora = super::lora::GpuLora::load(gpu, g, name, r0, r, total)?;
            ws.push(w);
            r0 += r;
        }
        Ok(Proj::Separate(ws))
    }

    /// Columns (the input width).
    pub fn cols(&self) -> usize {
        match self {
            Proj::Stacked { w, .. } => w.cols,
            Proj::Separate(ws) => ws.first().map_or(0, |w| w.cols),
        }
    }

    /// Rows of each part.
    pub fn part_rows(&self) -> Vec<usize> {
        match self {
            Proj::Stacked { rows, .. } => rows.clone(),
            Proj::Separate(ws) => ws.iter().map(|w| w.rows).collect(),
        }
    }

    /// `outs[i] = W_i . x` for a lane of `lane_rows` tokens.
    async fn parts(
        &self,
        b: &mut Builder<'_>,
        x: &wgpu::Buffer,
        outs: &[&wgpu::Buffer],
        step: &wgpu::Buffer,
        lane_rows: usize,
    ) -> GpuResult<Vec<Op>> {
        let mut ops = Vec::new();
        match self {
            Proj::Separate(ws) => {
                for (w, y) in ws.iter().zip(outs) {
                    ops.extend(linear_ops(b, w, x, y, step, lane_rows, None).await?);
                }
            }
            Proj::Stacked { w, rows } => {
                let mut lo = 0;
                for (&r, y) in rows.iter().zip(outs) {
                    if lane_rows <= 1 {
                        // Not reached by the decode lane, which has its fused kernels.
                        return Err(super::GpuError::Unsupported("a stacked weight's part as a mat-vec".into()));
                    }
                    ops.push(matmul_part_ops(b, w, lo, r, x, y, step, None).await?);
                    lo += r;
                }
            }
        }
        Ok(ops)
    }
}

/// Qwen2's q, k and v biases, apart (for the prefill lane's additions)
/// and stacked (for the fused decode kernel).
pub struct QkvBias {
    pub parts: [wgpu::Buffer; 3],
    pub stacked: wgpu::Buffer,
}

impl QkvBias {
    pub fn load(gpu: &Gpu, g: &Gguf, names: [String; 3], lens: [usize; 3], total: &mut u64) -> GpuResult<QkvBias> {
        let mut all = Vec::new();
        let mut parts = Vec::with_capacity(3);
        for (n, len) in names.iter().zip(lens) {
            let v = crate::matrix::load_vector(g, n, len)?;
            *total += len as u64 * 4;
            parts.push(upload_f32(gpu, n, &v)?);
            all.extend(v);
        }
        let stacked = upload_f32(gpu, "qkv bias (stacked)", &all)?;
        let [a, b, c]: [wgpu::Buffer; 3] =
            parts.try_into().map_err(|_| super::GpuError::Unsupported("three biases".into()))?;
        Ok(QkvBias { parts: [a, b, c], stacked })
    }
}

/// What a projection reads: a ready input, or the residual stream `x`
/// under a pre-norm (`h = rms_norm(x) * weight`). The fused decode kernels
/// normalise as they read; otherwise an RMS-norm op fills `h` first.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    Ready(&'a wgpu::Buffer),
    Normed { x: &'a wgpu::Buffer, weight: &'a wgpu::Buffer, eps: f32, h: &'a wgpu::Buffer },
}

impl<'a> Input<'a> {
    /// The norm as an op of its own when needed (for `cols`-wide rows), and
    /// the buffer the projection then reads.
    async fn apart(self, b: &mut Builder<'_>, cols: usize, ops: &mut Vec<Op>) -> GpuResult<&'a wgpu::Buffer> {
        match self {
            Input::Ready(x) => Ok(x),
            Input::Normed { x, weight, eps, h } => {
                ops.push(ops::rms_norm(b, x, weight, h, cols, 1, eps, false).await?);
                Ok(h)
            }
        }
    }

    /// The fused kernel's x, its norm weights (if any) and epsilon.
    fn fused(self) -> (&'a wgpu::Buffer, Option<&'a wgpu::Buffer>, f32) {
        match self {
            Input::Ready(x) => (x, None, 0.0),
            Input::Normed { x, weight, eps, .. } => (x, Some(weight), eps),
        }
    }
}

/// q, k and v (`outs`, token after token) from the input, plus their biases.
pub async fn qkv_ops(
    b: &mut Builder<'_>,
    proj: &Proj,
    input: Input<'_>,
    outs: [&wgpu::Buffer; 3],
    bias: Option<&QkvBias>,
    step: &wgpu::Buffer,
    lane_rows: usize,
) -> GpuResult<Vec<Op>> {
    let dims = [outs[0], outs[1], outs[2]];
    match proj {
        Proj::Stacked { w, rows } if lane_rows <= 1 && rows.len() == 3 => {
            let Some(c) = w.chunks.first() else {
                return Err(super::GpuError::Unsupported("an empty stacked weight".into()));
            };
            let rpw = layout(w.rows);
            let grid = grid_2d(b.gpu, (w.rows as u32).div_ceil(rpw.rows()))?;
            let (r1, r2) = (rows[0], rows[0] + rows[1]);
            let (x, nw, eps) = input.fused();
            let words = [w.rows as u32, w.cols as u32, w.row_bytes as u32, r1 as u32, r2 as u32, bias.is_some() as u32, grid[0], eps.to_bits()];
            let params = uniform(b.gpu, &format!("{} qkv", w.name), &words);
            let none;
            let bias_buf = match bias {
                Some(bb) => &bb.stacked,
                None => {
                    none = scratch(b.gpu, "no bias", 1)?;
                    &none
                }
            };
            let mut bufs = vec![&params, &c.buffer, x, dims[0], dims[1], dims[2], bias_buf];
            bufs.extend(nw);
            let op = b.op(Kernel::MatVecQkv(w.qtype, rpw, nw.is_some()), &bufs, Grid::Fixed(grid)).await?;
            Ok(vec![op])
        }
        _ => {
            let mut ops = Vec::new();
            let x = input.apart(b, proj.cols(), &mut ops).await?;
            ops.extend(proj.parts(b, x, &dims, step, lane_rows).await?);
            if let Some(bb) = bias {
                for ((dst, src), n) in dims.iter().zip(&bb.parts).zip(proj.part_rows()) {
                    ops.push(ops::add(b, dst, src, n).await?);
                }
            }
            Ok(ops)
        }
    }
}

/// `gate = act(W_gate . x) * W_up . x` (`ffn` floats a token; `up` is
/// scratch for the prefill lane), x the input.
#[allow(clippy::too_many_arguments)]
pub async fn glu_ops(
    b: &mut Builder<'_>,
    proj: &Proj,
    input: Input<'_>,
    gate: &wgpu::Buffer,
    up: &wgpu::Buffer,
    kind: Gate,
    step: &wgpu::Buffer,
    lane_rows: usize,
) -> GpuResult<Vec<Op>> {
    match proj {
        Proj::Stacked { w, rows } if lane_rows <= 1 && rows.len() == 2 && rows[0] == rows[1] => {
            let Some(c) = w.chunks.first() else {
                return Err(super::GpuError::Unsupported("an empty stacked weight".into()));
            };
            let rpw = glu_layout(rows[0]);
            let grid = grid_2d(b.gpu, (rows[0] as u32).div_ceil(rpw.rows()))?;
            let (x, nw, eps) = input.fused();
            let words = [rows[0] as u32, w.cols as u32, w.row_bytes as u32, (kind == Gate::Silu) as u32, grid[0], eps.to_bits()];
            let params = uniform(b.gpu, &format!("{} glu", w.name), &words);
            let mut bufs = vec![&params, &c.buffer, x, gate];
            bufs.extend(nw);
            Ok(vec![b.op(Kernel::MatVecGlu(w.qtype, rpw, nw.is_some()), &bufs, Grid::Fixed(grid)).await?])
        }
        _ => {
            let mut ops = Vec::new();
            let x = input.apart(b, proj.cols(), &mut ops).await?;
            ops.extend(proj.parts(b, x, &[gate, up], step, lane_rows).await?);
            ops.push(ops::glu(b, gate, up, proj.part_rows()[0], kind).await?);
            Ok(ops)
        }
    }
}
