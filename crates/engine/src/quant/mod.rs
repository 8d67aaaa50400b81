//! GGUF quantized blocks: one file per type, each with its block layout
//! (see ../shared/notes/webgpu-kernels.md, section 1) and a dequantizer.
//!
//! Quantized rows are multiplied by `dot`'s fused kernels, which read the
//! blocks where they lie and dot them with 8-bit activations (`act`); no
//! f32 copy of a weight matrix ever exists. Float rows, and the tests'
//! reference, use the dequantizers here.

pub mod act;
pub mod dot;
pub mod f16;
pub mod iq4_nl;
pub mod iq4_xs;
pub mod q2_k;
pub mod q3_k;
pub mod q4_0;
pub mod q4_1;
pub mod q4_k;
pub mod q5_0;
pub mod q5_1;
pub mod q5_k;
pub mod q6_k;
pub mod q8_0;

use candle_core::quantized::GgmlDType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
    IQ4NL,
    IQ4XS,
}

/// Largest block, in elements: the stack buffer size for one block.
pub const MAX_BLOCK: usize = 256;

impl QType {
    /// Every type the engine computes with.
    pub const ALL: &'static [QType] = &[
        QType::F32,
        QType::F16,
        QType::BF16,
        QType::Q4_0,
        QType::Q4_1,
        QType::Q5_0,
        QType::Q5_1,
        QType::Q8_0,
        QType::Q2K,
        QType::Q3K,
        QType::Q4K,
        QType::Q5K,
        QType::Q6K,
        QType::IQ4NL,
        QType::IQ4XS,
    ];

    /// The block-quantized ones among `ALL`.
    pub fn quantized() -> impl Iterator<Item = QType> {
        QType::ALL.iter().copied().filter(|q| q.block_elems() > 1)
    }

    /// The type's name as GGUF tools print it (`Q4_K`).
    pub fn name(self) -> &'static str {
        match self {
            QType::F32 => "F32",
            QType::F16 => "F16",
            QType::BF16 => "BF16",
            QType::Q4_0 => "Q4_0",
            QType::Q4_1 => "Q4_1",
            QType::Q5_0 => "Q5_0",
            QType::Q5_1 => "Q5_1",
            QType::Q8_0 => "Q8_0",
            QType::Q2K => "Q2_K",
            QType::Q3K => "Q3_K",
            QType::Q4K => "Q4_K",
            QType::Q5K => "Q5_K",
            QType::Q6K => "Q6_K",
            QType::IQ4NL => "IQ4_NL",
            QType::IQ4XS => "IQ4_XS",
        }
    }

    /// The type of a `name` (any case).
    pub fn named(name: &str) -> Option<QType> {
        QType::ALL.iter().copied().find(|q| q.name().eq_ignore_ascii_case(name))
    }

    /// Byte offsets of a block's f16 fields (scales, mins): the bytes a
    /// block of random bits must keep finite to be one a file could hold.
    pub fn f16_fields(self) -> &'static [usize] {
        match self {
            QType::F32 | QType::F16 | QType::BF16 => &[],
            QType::Q4_0 | QType::Q5_0 | QType::Q8_0 | QType::IQ4NL | QType::IQ4XS => &[0],
            QType::Q4_1 | QType::Q5_1 | QType::Q4K | QType::Q5K => &[0, 2],
            QType::Q2K => &[80, 82],
            QType::Q3K => &[108],
            QType::Q6K => &[208],
        }
    }

    /// The ggml type id a GGUF tensor table names this type by.
    pub fn ggml_id(self) -> u32 {
        match self {
            QType::F32 => 0,
            QType::F16 => 1,
            QType::Q4_0 => 2,
            QType::Q4_1 => 3,
            QType::Q5_0 => 6,
            QType::Q5_1 => 7,
            QType::Q8_0 => 8,
            QType::Q2K => 10,
            QType::Q3K => 11,
            QType::Q4K => 12,
            QType::Q5K => 13,
            QType::Q6K => 14,
            QType::BF16 => 30,
            QType::IQ4NL => 20,
            QType::IQ4XS => 23,
        }
    }

    pub fn from_ggml_id(id: u32) -> Option<Self> {
        QType::ALL.iter().copied().find(|q| q.ggml_id() == id)
    }

    /// candle's name for the type, where candle knows it (the tests
    /// quantize with candle, an independent implementation).
    pub fn to_ggml(self) -> Option<GgmlDType> {
        Some(match self {
            QType::F32 => GgmlDType::F32,
            QType::F16 => GgmlDType::F16,
            QType::BF16 => GgmlDType::BF16,
            QType::Q4_0 => GgmlDType::Q4_0,
            QType::Q4_1 => GgmlDType::Q4_1,
            QType::Q5_0 => GgmlDType::Q5_0,
            QType::Q5_1 => GgmlDType::Q5_1,
            QType::Q8_0 => GgmlDType::Q8_0,
            QType::Q2K => GgmlDType::Q2K,
            QType::Q3K => GgmlDType::Q3K,
            QType::Q4K => GgmlDType::Q4K,
            QType::Q5K => GgmlDType::Q5K,
            QType::Q6K => GgmlDType::Q6K,
            QType::IQ4NL | QType::IQ4XS => return None,
        })
    }

    pub fn block_elems(self) -> usize {
        match self {
            QType::F32 | QType::F16 | QType::BF16 => 1,
            QType::Q4_0 | QType::Q4_1 | QType::Q5_0 | QType::Q5_1 | QType::Q8_0 | QType::IQ4NL => 32,
            QType::Q2K | QType::Q3K | QType::Q4K | QType::Q5K | QType::Q6K | QType::IQ4XS => 256,
        }
    }

    pub fn block_bytes(self) -> usize {
        match self {
            QType::F32 => 4,
            QType::F16 | QType::BF16 => 2,
            QType::Q4_0 => q4_0::BLOCK_BYTES,
            QType::Q4_1 => q4_1::BLOCK_BYTES,
            QType::Q5_0 => q5_0::BLOCK_BYTES,
            QType::Q5_1 => q5_1::BLOCK_BYTES,
            QType::Q8_0 => q8_0::BLOCK_BYTES,
            QType::Q2K => q2_k::BLOCK_BYTES,
            QType::Q3K => q3_k::BLOCK_BYTES,
            QType::Q4K => q4_k::BLOCK_BYTES,
            QType::Q5K => q5_k::BLOCK_BYTES,
            QType::Q6K => q6_k::BLOCK_BYTES,
            QType::IQ4NL => iq4_nl::BLOCK_BYTES,
            QType::IQ4XS => iq4_xs::BLOCK_BYTES,
        }
    }

    pub fn row_bytes(self, cols: usize) -> usize {
        cols / self.block_elems() * self.block_bytes()
    }
}

/// `x` (a whole number of blocks) quantized to `q`: by candle where it
/// knows the type, by the engine's own plain rounding for the IQ4 types
/// (files the engine writes itself: tests, benchmarks).
pub fn quantize(q: QType, x: &[f32]) -> Vec<u8> {
    match q {
        QType::IQ4NL | QType::IQ4XS => {
            let mut out = vec![0u8; q.row_bytes(x.len())];
            let quantize_block = if q == QType::IQ4NL { iq4_nl::quantize } else { iq4_xs::quantize };
            for (b, xb) in out.chunks_exact_mut(q.block_bytes()).zip(x.chunks_exact(q.block_elems())) {
                quantize_block(xb, b);
            }
            out
        }
        _ => {
            let t = candle_core::Tensor::from_slice(x, x.len(), &candle_core::Device::Cpu).expect("a 1-D tensor");
            let dtype = q.to_ggml().expect("candle knows every other type");
            let qt = candle_core::quantized::QTensor::quantize(&t, dtype).expect("a whole number of blocks");
            qt.data().expect("CPU data").into_owned()
        }
    }
}

/// Dequantizes a whole row (`out.len()` elements) of type `q`.
pub fn dequantize_row(q: QType, row: &[u8], out: &mut [f32]) {
    match q {
        QType::F32 => {
            for (o, c) in out.iter_mut().zip(row.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        QType::F16 => f16::dequantize_f16(row, out),
        QType::BF16 => f16::dequantize_bf16(row, out),
        _ => {
            let (be, bb) = (q.block_elems(), q.block_bytes());
            for (o, b) in out.chunks_exact_mut(be).zip(row.chunks_exact(bb)) {
                dequantize_block(q, b, o);
            }
        }
    }
}

fn dequantize_block(q: QType, b: &[u8], out: &mut [f32]) {
    match q {
        QType::Q4_0 => q4_0::dequantize(b, out),
        QType::Q4_1 => q4_1::dequantize(b, out),
        QType::Q5_0 => q5_0::dequantize(b, out),
        QType::Q5_1 => q5_1::dequantize(b, out),
        QType::Q8_0 => q8_0::dequantize(b, out),
        QType::Q2K => q2_k::dequantize(b, out),
        QType::Q3K => q3_k::dequantize(b, out),
        QType::Q4K => q4_k::dequantize(b, out),
        QType::Q5K => q5_k::dequantize(b, out),
        QType::Q6K => q6_k::dequantize(b, out),
        QType::IQ4NL => iq4_nl::dequantize(b, out),
        QType::IQ4XS => iq4_xs::dequantize(b, out),
        QType::F32 | QType::F16 | QType::BF16 => dequantize_row(q, b, out),
    }
}

/// Dot product of one quantized row with `x` (same length), fused: each
/// block is dequantized into registers/stack and consumed at once.
pub fn dot_row(q: QType, row: &[u8], x: &[f32]) -> f32 {
    match q {
        QType::F32 => {
            let mut acc = [0f32; 8];
            let mut xs = x.chunks_exact(8);
            let mut ws = row.chunks_exact(32);
            for (xc, wc) in (&mut xs).zip(&mut ws) {
                for i in 0..8 {
                    let w = f32::from_le_bytes([wc[4 * i], wc[4 * i + 1], wc[4 * i + 2], wc[4 * i + 3]]);
                    acc[i] += w * xc[i];
                }
            }
            let mut s: f32 = acc.iter().sum();
            for (xv, wc) in xs.remainder().iter().zip(ws.remainder().chunks_exact(4)) {
                s += xv * f32::from_le_bytes([wc[0], wc[1], wc[2], wc[3]]);
            }
            s
        }
        _ => {
            // Float rows are walked 32 elements at a time, quantized ones a block at a time.
            let be = q.block_elems().clamp(32, MAX_BLOCK);
            let mut buf = [0f32; MAX_BLOCK];
            let mut acc = [0f32; 8];
            let step_bytes = q.row_bytes(be);
            for (b, xc) in row.chunks_exact(step_bytes).zip(x.chunks_exact(be)) {
                let w = &mut buf[..be];
                dequantize_row(q, b, w);
                for (wc, xc8) in w.chunks_exact(8).zip(xc.chunks_exact(8)) {
                    for i in 0..8 {
                        acc[i] += wc[i] * xc8[i];
                    }
                }
            }
            let mut s: f32 = acc.iter().sum();
            // Float rows whose length is not a multiple of 32.
            let done = x.len() / be * be;
            if done < x.len() {
                let tail = &mut buf[..x.len() - done];
                dequantize_row(q, &row[q.row_bytes(done)..], tail);
                s += tail.iter().zip(&x[done..]).map(|(a, b)| a * b).sum::<f32>();
            }
            s
        }
    }
}

/// Dot of two f32 slices with 8 independent accumulators, so the compiler
/// vectorises it without reassociating a single sum.
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut ac = a.chunks_exact(8);
    let mut bc = b.chunks_exact(8);
    for (x, y) in (&mut ac).zip(&mut bc) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ac.remainder().iter().zip(bc.remainder()) {
        s += x * y;
    }
    s
}

#[inline]
pub(crate) fn f16_at(b: &[u8], i: usize) -> f32 {
    half::f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}
