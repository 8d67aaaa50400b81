//! The quantized row kernel: a weight row is unpacked into 8-bit values
//! with a scale and a min per 16-value group, then dotted with 8-bit
//! activations in integers, group by group. Every GGUF quant type reduces
//! to this one shape, so one hot loop serves them all.
//!
//! The hot loops are plain Rust written for the vectoriser; natively they
//! are compiled twice, once for AVX2 (picked at run time), once for the
//! baseline. The wasm build enables simd128 for the whole crate.

use super::act::{ActFormat, QuantizedActs};
use super::QType;

/// Per-thread buffers for one unpacked row.
#[derive(Default)]
pub struct Scratch {
    qs: Vec<i8>,
    scale: Vec<f32>,
    min: Vec<f32>,
    sums: Vec<i32>,
}

pub fn act_format(q: QType) -> Option<ActFormat> {
    match q {
        QType::Q4_0 | QType::Q5_0 | QType::Q8_0 => Some(ActFormat::Q8_0),
        QType::Q4K | QType::Q5K | QType::Q6K => Some(ActFormat::Q8K),
        QType::F32 | QType::F16 | QType::BF16 => None,
    }
}

impl Scratch {
    /// Unpacks one row of a quantized type.
    pub fn unpack(&mut self, q: QType, row: &[u8], cols: usize) {
        self.qs.resize(cols, 0);
        self.scale.resize(cols / 16, 0.0);
        self.min.resize(cols / 16, 0.0);
        self.sums.resize(cols / 16, 0);
        let (be, bb) = (q.block_elems(), q.block_bytes());
        let g = be / 16;
        for (i, b) in row.chunks_exact(bb).enumerate() {
            let (qs, scale, min) = (
                &mut self.qs[i * be..(i + 1) * be],
                &mut self.scale[i * g..(i + 1) * g],
                &mut self.min[i * g..(i + 1) * g],
            );
            match q {
                QType::Q4_0 => super::q4_0::unpack(b, qs, scale, min),
                QType::Q5_0 => super::q5_0::unpack(b, qs, scale, min),
                QType::Q8_0 => super::q8_0::unpack(b, qs, scale, min),
                QType::Q4K => super::q4_k::unpack(b, qs, scale, min),
                QType::Q5K => super::q5_k::unpack(b, qs, scale, min),
                QType::Q6K => super::q6_k::unpack(b, qs, scale, min),
                QType::F32 | QType::F16 | QType::BF16 => {}
            }
        }
    }

    /// Dot of the unpacked row with quantized activations.
    pub fn dot(&mut self, x: &QuantizedActs) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { dot_avx2(&self.qs, &self.scale, &self.min, &mut self.sums, x) };
            }
        }
        dot_body(&self.qs, &self.scale, &self.min, &mut self.sums, x)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(qs: &[i8], scale: &[f32], min: &[f32], sums: &mut [i32], x: &QuantizedActs) -> f32 {
    dot_body(qs, scale, min, sums, x)
}

#[inline(always)]
fn dot_body(qs: &[i8], scale: &[f32], min: &[f32], sums: &mut [i32], x: &QuantizedActs) -> f32 {
    for ((s, w), a) in sums.iter_mut().zip(qs.chunks_exact(16)).zip(x.qs.chunks_exact(16)) {
        let mut acc = 0i32;
        for i in 0..16 {
            acc += w[i] as i32 * a[i] as i32;
        }
        *s = acc;
    }
    let mut total = [0f32; 4];
    let n = sums.len();
    for g in 0..n {
        let v = x.group_scale[g] * (scale[g] * sums[g] as f32 - min[g] * x.group_sum[g] as f32);
        total[g & 3] += v;
    }
    total[0] + total[1] + total[2] + total[3]
}
