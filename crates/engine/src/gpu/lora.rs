//! A LoRA adapter's part of a matrix product on the GPU, `y += s B (A x)`,
//! as two small products after the weight's own: A (rank x cols) into a
//! rank-wide scratch row per token, then B (rows x rank) added into the
//! output with the scale. The model's weights stay as uploaded; an adapted
//! weight is never stacked with others, so every product that reads it is
//! one `linear_ops` call and takes its adapter there.

use super::buffers::{scratch, GpuWeight};
use super::device::Gpu;
use super::error::GpuResult;
use super::graph::{Builder, Op};
use super::matvec::{matmul_ops, matvec_ops};
use crate::gguf::Gguf;

pub struct GpuLora {
    a: GpuWeight,
    b: GpuWeight,
    scale: f32,
}

impl GpuLora {
    /// The adapter of rows `row0..row0 + rows` of matrix `name`, uploaded,
    /// when the model has one on it.
    pub fn load(gpu: &Gpu, g: &Gguf, name: &str, row0: usize, rows: usize, total: &mut u64) -> GpuResult<Option<Box<GpuLora>>> {
        let Some(lora) = g.lora(name, row0) else { return Ok(None) };
        let p = lora.parts(rows);
        let a = GpuWeight::upload(gpu, &format!("{name}.lora_a"), p.a_type, p.rank, p.cols, p.a)?;
        let b = GpuWeight::upload(gpu, &format!("{name}.lora_b[{row0}..]"), p.b_type, rows, p.rank, p.b)?;
        *total += (p.a.len() + p.b.len()) as u64;
        Ok(Some(Box::new(GpuLora { a, b, scale: p.scale })))
    }

    /// The adapter's ops after `y (+)= f W x` for a lane of `lane_rows`
    /// tokens (`add` is `f`, or None where `y` was stored).
    pub async fn ops(
        &self,
        b: &mut Builder<'_>,
        x: &wgpu::Buffer,
        y: &wgpu::Buffer,
        step: &wgpu::Buffer,
        lane_rows: usize,
        add: Option<f32>,
    ) -> GpuResult<Vec<Op>> {
        // A buffer of its own per product and lane: a few KiB each.
        let ax = scratch(b.gpu, &format!("{} x", self.a.name), self.a.rows * lane_rows.max(1))?;
        let s = Some(self.scale * add.unwrap_or(1.0));
        let mut ops = Vec::new();
        if lane_rows <= 1 {
            ops.extend(matvec_ops(b, &self.a, x, &ax, None, None).await?);
            ops.extend(matvec_ops(b, &self.b, &ax, y, s, None).await?);
        } else {
            ops.extend(matmul_ops(b, &self.a, x, &ax, step, None).await?);
            ops.extend(matmul_ops(b, &self.b, &ax, y, step, s).await?);
        }
        Ok(ops)
    }
}
