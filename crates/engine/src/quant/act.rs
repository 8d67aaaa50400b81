//! Activations quantized to 8 bits, as llama.cpp does before every
//! quantized dot product: Q8_0-style (one f16-rounded scale per 32 values)
//! against Q4_0/Q5_0/Q8_0 weights, Q8_K-style (one f32 scale per 256 values)
//! against K-quant weights. Integer dot products are both faster than f32
//! ones and the way to reproduce llama.cpp's numbers.

/// One activation row in 8 bits, with its scale repeated per 16-value group
/// (so every weight type finds it the same way) and the sum of the
/// quantized values of each group (K-quant mins need it), also as i16 (at
/// most 16 * 127 in magnitude), the form the SIMD kernels multiply.
#[derive(Debug, Clone, Default)]
pub struct QuantizedActs {
    pub qs: Vec<i8>,
    pub group_scale: Vec<f32>,
    pub group_sum: Vec<i32>,
    pub group_sum16: Vec<i16>,
    /// Values regrouped for the kernels that take them (Q8_0-style for
    /// AVX-512 natively and relaxed SIMD in wasm, Q8_K-style for AVX-512's
    /// Q4_K; empty elsewhere): per `LANE_GROUPS`
    /// groups of 16 values, 4 registers (of 4 bytes a group) whose i32 lane
    /// `g` holds 4 values of group `g`, the `k`-th four in register `k`
    /// (`lanes[4 LANE_GROUPS k + 4g + j] = qs[16g + 4k + j]`). Summed into
    /// one register, each lane is then a whole group's sum, where the
    /// natural order leaves every group spread over 4 lanes to be gathered
    /// for each token.
    pub lanes: Vec<i8>,
}

/// Groups a register of `QuantizedActs::lanes` spans: 8 in AVX-512's 256
/// bits (two registers a product, on 512 bits), 4 in wasm's 128.
#[cfg(target_arch = "x86_64")]
pub const LANE_GROUPS: usize = 8;
#[cfg(target_arch = "wasm32")]
pub const LANE_GROUPS: usize = 4;

/// Which activation format a weight type pairs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActFormat {
    /// 32 values per scale, scale rounded to f16.
    Q8_0,
    /// 256 values per scale, f32 scale.
    Q8K,
}

impl QuantizedActs {
    pub fn quantize(x: &[f32], format: ActFormat) -> Self {
        let mut a = QuantizedActs::default();
        a.requantize(x, format);
        a
    }

    /// Quantizes `x` (a multiple of 32, or of 256 for Q8K) into `self`,
    /// reusing its buffers.
    pub fn requantize(&mut self, x: &[f32], format: ActFormat) {
        let n = x.len();
        self.qs.resize(n, 0);
        self.group_scale.resize(n / 16, 0.0);
        self.group_sum.resize(n / 16, 0);
        self.group_sum16.resize(n / 16, 0);
        match format {
            ActFormat::Q8_0 => {
                for (b, xb) in x.chunks_exact(32).enumerate() {
                    let amax = xb.iter().fold(0f32, |m, v| m.max(v.abs()));
                    let d = amax / 127.0;
                    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                    let q = &mut self.qs[b * 32..b * 32 + 32];
                    for (qi, v) in q.iter_mut().zip(xb) {
                        *qi = round_i8(v * id);
                    }
                    let d16 = half::f16::from_f32(d).to_f32();
                    self.group_scale[2 * b] = d16;
                    self.group_scale[2 * b + 1] = d16;
                }
            }
            ActFormat::Q8K => {
                for (b, xb) in x.chunks_exact(256).enumerate() {
                    // The signed value of largest magnitude maps to -127, as in llama.cpp.
                    let max = xb.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
                    let q = &mut self.qs[b * 256..b * 256 + 256];
                    let d = if max == 0.0 {
                        q.fill(0);
                        0.0
                    } else {
                        let iscale = -127.0 / max;
                        for (qi, v) in q.iter_mut().zip(xb) {
                            *qi = round_i8(iscale * v);
                        }
                        1.0 / iscale
                    };
                    self.group_scale[16 * b..16 * b + 16].fill(d);
                }
            }
        }
        self.lanes.clear();
        #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
        if format == ActFormat::Q8_0 || (cfg!(target_arch = "x86_64") && format == ActFormat::Q8K) {
            let chunk = 16 * LANE_GROUPS;
            self.lanes.resize(n / chunk * chunk, 0);
            for (l, q) in self.lanes.chunks_exact_mut(chunk).zip(self.qs.chunks_exact(chunk)) {
                for (i, four) in l.chunks_exact_mut(4).enumerate() {
                    let (k, g) = (i / LANE_GROUPS, i % LANE_GROUPS);
                    four.copy_from_slice(&q[16 * g + 4 * k..16 * g + 4 * k + 4]);
                }
            }
        }
        for ((s, s16), g) in self.group_sum.iter_mut().zip(&mut self.group_sum16).zip(self.qs.chunks_exact(16)) {
            *s = g.iter().map(|&v| v as i32).sum();
            *s16 = *s as i16;
        }
    }
}

/// `x.round() as i8`: to nearest, halves away from zero, saturating, NaN to
/// 0. Without a call to libm's `roundf` (x86_64's baseline and wasm have no
/// instruction for this rounding) or a saturating conversion, so the loops
/// above vectorise: the fraction `x - trunc(x)` is exact in the clamped range.
#[inline]
fn round_i8(x: f32) -> i8 {
    #[allow(clippy::eq_op)] // NaN is the one value not equal to itself
    let x = if x == x { x.clamp(-256.0, 256.0) } else { 0.0 };
    // SAFETY: finite and within i32 (`as i32` would add a scalar check a value).
    let t: i32 = unsafe { x.to_int_unchecked() };
    let f = x - t as f32;
    (t + (f >= 0.5) as i32 - (f <= -0.5) as i32).clamp(-128, 127) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every f32 from -300 to 300 in steps of 1/64 (each half among them),
    /// the floats next to halves, and the odd values.
    #[test]
    fn round_i8_is_round_as_i8() {
        let mut xs: Vec<f32> = (-300 * 64..=300 * 64).map(|i| i as f32 / 64.0).collect();
        for h in -260..260 {
            let half = h as f32 + 0.5;
            xs.extend([half.next_down(), half, half.next_up()]);
        }
        xs.extend([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN, 1e-40, -1e-40, -0.0, 0.49999997, -0.49999997]);
        for x in xs {
            assert_eq!(round_i8(x), x.round() as i8, "{x:e}");
        }
    }
}
