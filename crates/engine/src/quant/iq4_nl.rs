//! IQ4_NL: 32 elements in 18 bytes: f16 d, 16 bytes of nibbles laid out as
//! Q4_0's (byte j holds element j low, j + 16 high); a nibble indexes
//! `VALUES`, a non-linear grid denser near zero. Value = d * VALUES[n].

use super::f16_at;

pub const BLOCK_BYTES: usize = 18;

/// The grid both IQ4 types index (llama.cpp's `kvalues_iq4nl`).
pub const VALUES: [i8; 16] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for (j, &n) in b[2..18].iter().enumerate() {
        out[j] = d * VALUES[(n & 15) as usize] as f32;
        out[j + 16] = d * VALUES[(n >> 4) as usize] as f32;
    }
}

/// The index of the grid value nearest `x` (in grid units).
pub fn nearest(x: f32) -> u8 {
    (0..16u8).min_by(|&a, &b| (VALUES[a as usize] as f32 - x).abs().total_cmp(&(VALUES[b as usize] as f32 - x).abs())).unwrap()
}

/// 32 values into `out` (one block): the value of largest magnitude on
/// the grid's end, each value at its nearest grid point. Plain rounding,
/// for files the engine writes itself (tests, benchmarks); llama.cpp's
/// quantizer searches the scale further.
pub fn quantize(x: &[f32], out: &mut [u8]) {
    let max = x.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
    let d = max / VALUES[0] as f32;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out[..2].copy_from_slice(&half::f16::from_f32(d).to_bits().to_le_bytes());
    for j in 0..16 {
        out[2 + j] = nearest(x[j] * id) | nearest(x[j + 16] * id) << 4;
    }
}
