//! A weight matrix stored as GGUF blocks inside the model file, and the two
//! products the models need: mat-vec (decode) and mat-mul (prefill).

use crate::error::{Error, Result};
use crate::gguf::{Gguf, TensorRef};
use crate::par;
use crate::quant::act::{ActFormat, QuantizedActs};
use crate::quant::dot::{self, act_format, Isa};
use crate::quant::{dequantize_row, dot_f32, dot_row, QType};

#[derive(Debug, Clone)]
pub struct Weight {
    pub name: String,
    pub qtype: QType,
    pub rows: usize,
    pub cols: usize,
    offset: usize,
    row_bytes: usize,
    /// A LoRA adapter's `s B (A x)`, added to every product.
    lora: Option<crate::lora::Lora>,
}

impl Weight {
    /// A `[rows, cols]` matrix; `cols` is the input width.
    pub fn load(g: &Gguf, name: &str, rows: usize, cols: usize) -> Result<Self> {
        let t = g.tensor(name)?;
        Ok(Weight { lora: g.lora(name, 0), ..Self::from_ref(t, rows, cols)? })
    }

    /// A tensor of several matrices stacked by rows (Phi-3's fused q/k/v
    /// and gate/up), as one weight per part: `parts` rows each.
    pub fn load_parts(g: &Gguf, name: &str, parts: &[usize], cols: usize) -> Result<Vec<Self>> {
        let whole = Self::load(g, name, parts.iter().sum(), cols)?;
        let mut r0 = 0;
        Ok(parts
            .iter()
            .map(|&rows| {
                let w = Weight { rows, offset: whole.offset + r0 * whole.row_bytes, lora: g.lora(name, r0), ..whole.clone() };
                r0 += rows;
                w
            })
            .collect())
    }

    pub fn from_ref(t: &TensorRef, rows: usize, cols: usize) -> Result<Self> {
        let ok = match t.dims.as_slice() {
            [r, c] => *r == rows && *c == cols,
            _ => false,
        };
        if !ok {
            return Err(Error::BadShape { tensor: t.name.clone(), found: t.dims.clone(), expected: vec![rows, cols] });
        }
        Ok(Weight {
            name: t.name.clone(),
            qtype: t.qtype,
            rows,
            cols,
            offset: t.offset,
            row_bytes: t.qtype.row_bytes(cols),
            lora: None,
        })
    }

    #[inline]
    pub fn row<'a>(&self, file: &'a [u8], r: usize) -> &'a [u8] {
        let start = self.offset + r * self.row_bytes;
        &file[start..start + self.row_bytes]
    }

    /// Rows `r..r + n`, contiguous in the file.
    #[inline]
    pub(crate) fn rows_bytes<'a>(&self, file: &'a [u8], r: usize, n: usize) -> &'a [u8] {
        let start = self.offset + r * self.row_bytes;
        &file[start..start + n * self.row_bytes]
    }

    /// Dequantizes row `r` (an embedding lookup).
    pub fn row_f32(&self, file: &[u8], r: usize, out: &mut [f32]) {
        dequantize_row(self.qtype, self.row(file, r), &mut out[..self.cols]);
    }

    /// `out[t][r] = sum_c W[r][c] * x[t][c]` for `t` tokens.
    pub fn matmul(&self, file: &[u8], x: &[f32], t: usize, out: &mut [f32]) {
        self.matmul_base(file, x, t, out);
        self.add_lora(x, t, 0, self.rows, out);
    }

    /// An adapter's part of the product, where one is set.
    fn add_lora(&self, x: &[f32], t: usize, r0: usize, n: usize, out: &mut [f32]) {
        if let Some(lora) = &self.lora {
            lora.add(x, t, r0, n, out);
        }
    }

    fn matmul_base(&self, file: &[u8], x: &[f32], t: usize, out: &mut [f32]) {
        debug_assert_eq!(x.len(), t * self.cols);
        debug_assert_eq!(out.len(), t * self.rows);
        if let Some(format) = act_format(self.qtype) {
            self.matmul_quantized(file, &quantize_rows(x, self.cols, format), 0, self.rows, out);
            return;
        }
        if t == 1 {
            self.matvec_base(file, x, 0, self.rows, out);
            return;
        }
        // Row-major over weights: each weight row is dequantized once and
        // reused for all tokens, so prefill reads the weights once.
        let mut by_row = vec![0f32; self.rows * t];
        let rows_per_task = rows_per_task(self.rows);
        par::for_chunks(&mut by_row, rows_per_task * t, |first, chunk| {
            let r0 = first / t;
            let mut w = vec![0f32; self.cols];
            for (i, out_r) in chunk.chunks_exact_mut(t).enumerate() {
                dequantize_row(self.qtype, self.row(file, r0 + i), &mut w);
                for (tok, o) in out_r.iter_mut().enumerate() {
                    *o = dot_f32(&w, &x[tok * self.cols..(tok + 1) * self.cols]);
                }
            }
        });
        transpose(&by_row, self.rows, t, out);
    }

    /// `matmul` of one input `x` by several weights (q, k and v; gate and
    /// up), quantizing `x` once for all those that take the same
    /// activation format (per product it was 4-5% of a prefill).
    pub fn matmul_each<const M: usize>(file: &[u8], x: &[f32], t: usize, products: [(&Weight, &mut [f32]); M]) {
        let mut quantized: Vec<(ActFormat, Vec<QuantizedActs>)> = Vec::new();
        for (w, out) in products {
            let Some(format) = act_format(w.qtype) else {
                w.matmul(file, x, t, out);
                continue;
            };
            let at = match quantized.iter().position(|(f, _)| *f == format) {
                Some(i) => i,
                None => {
                    quantized.push((format, quantize_rows(x, w.cols, format)));
                    quantized.len() - 1
                }
            };
            w.matmul_quantized(file, &quantized[at].1, 0, w.rows, out);
            w.add_lora(x, t, 0, w.rows, out);
        }
    }

    /// Rows `r0..r0+n` against every token's quantized activations;
    /// `out[t][r - r0]`.
    fn matmul_quantized(&self, file: &[u8], acts: &[QuantizedActs], r0: usize, n: usize, out: &mut [f32]) {
        let (t, isa, q) = (acts.len(), Isa::best(), self.qtype);
        let per = rows_per_task(n);
        if t == 1 {
            par::for_chunks(&mut out[..n], per, |first, chunk| {
                dot::dot_rows(isa, q, self.rows_bytes(file, r0 + first, chunk.len()), self.row_bytes, acts, chunk);
            });
            return;
        }
        // Prefill: each task takes a band of rows, small enough to stay in
        // cache while every group of tokens passes over it, and writes the
        // group's results into the token rows of `out` itself (a transpose
        // of the whole product afterwards, on one thread, was 6% of a long
        // prompt's time).
        let shared = Disjoint::new(&mut out[..t * n]);
        par::for_each(n.div_ceil(per), |band| {
            let (first, rows) = (band * per, per.min(n - band * per));
            let bytes = self.rows_bytes(file, r0 + first, rows);
            let mut by_row = vec![0f32; rows * dot::MAX_TOKENS];
            for (g, group) in acts.chunks(dot::MAX_TOKENS).enumerate() {
                let m = group.len();
                dot::dot_rows(isa, q, bytes, self.row_bytes, group, &mut by_row[..rows * m]);
                for k in 0..m {
                    // SAFETY: bands are disjoint row ranges, so no two tasks
                    // take the same element of a token's row.
                    let dst = unsafe { shared.slice((g * dot::MAX_TOKENS + k) * n + first, rows) };
                    for (o, r) in dst.iter_mut().zip(by_row.chunks_exact(m)) {
                        *o = r[k];
                    }
                }
            }
        });
    }

    /// Mat-vec over rows `r0..r0+n` only (the LM head is computed in vocab
    /// chunks by callers that want it).
    pub fn matvec_rows(&self, file: &[u8], x: &[f32], r0: usize, n: usize, out: &mut [f32]) {
        self.matvec_base(file, x, r0, n, out);
        self.add_lora(x, 1, r0, n, out);
    }

    fn matvec_base(&self, file: &[u8], x: &[f32], r0: usize, n: usize, out: &mut [f32]) {
        if let Some(format) = act_format(self.qtype) {
            let acts = [QuantizedActs::quantize(x, format)];
            self.matmul_quantized(file, &acts, r0, n, out);
            return;
        }
        let per = rows_per_task(n);
        par::for_chunks(&mut out[..n], per, |first, chunk| {
            for (i, o) in chunk.iter_mut().enumerate() {
                *o = dot_row(self.qtype, self.row(file, r0 + first + i), x);
            }
        });
    }
}

/// Each token's row of `x` (`cols` wide) quantized, the tokens in parallel
/// (on one thread it was 8% of a 2-thread prefill).
fn quantize_rows(x: &[f32], cols: usize, format: ActFormat) -> Vec<QuantizedActs> {
    par::map(x.len() / cols, |i| QuantizedActs::quantize(&x[i * cols..(i + 1) * cols], format))
}

/// `out[c][r] = m[r][c]` for an `r x c` matrix `m`, in tiles that stay in
/// cache on both sides.
fn transpose(m: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    const TILE: usize = 16;
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = m[r * cols + c];
                }
            }
        }
    }
}

/// A slice that parallel tasks write in disjoint pieces too interleaved for
/// `chunks_mut` (a band of rows of a token-major product).
struct Disjoint<'a> {
    ptr: *mut f32,
    len: usize,
    _out: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: tasks reach the memory only through `slice`, whose callers promise
// disjoint ranges.
unsafe impl Sync for Disjoint<'_> {}

impl<'a> Disjoint<'a> {
    fn new(out: &'a mut [f32]) -> Self {
        Disjoint { ptr: out.as_mut_ptr(), len: out.len(), _out: std::marker::PhantomData }
    }

    /// Elements `at..at + n`.
    ///
    /// # Safety
    /// No other live slice from this `Disjoint` overlaps the range.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, at: usize, n: usize) -> &mut [f32] {
        assert!(at + n <= self.len);
        std::slice::from_raw_parts_mut(self.ptr.add(at), n)
    }
}

fn rows_per_task(rows: usize) -> usize {
    // Enough tasks to balance threads, few enough that scheduling is free.
    (rows / (par::threads() * 8)).clamp(16, 4096)
}

/// A vector (norm weight, bias) dequantized to f32 at load.
pub fn load_vector(g: &Gguf, name: &str, len: usize) -> Result<Vec<f32>> {
    let t = g.tensor(name)?;
    if t.elems() != len {
        return Err(Error::BadShape { tensor: name.into(), found: t.dims.clone(), expected: vec![len] });
    }
    let mut v = vec![0f32; len];
    dequantize_row(t.qtype, g.data(t), &mut v);
    Ok(v)
}
