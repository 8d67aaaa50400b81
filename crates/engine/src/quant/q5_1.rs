//! Q5_1: 32 elements in 24 bytes: f16 d, f16 m, a u32 of fifth bits (bit j
//! belongs to element j), 16 bytes of nibbles as Q5_0's. Value = d*q + m.

use super::f16_at;

pub const BLOCK_BYTES: usize = 24;

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    for (j, &n) in b[8..24].iter().enumerate() {
        let lo = (n & 15) as u32 | ((qh >> j) & 1) << 4;
        let hi = (n >> 4) as u32 | ((qh >> (j + 16)) & 1) << 4;
        out[j] = lo as f32 * d + m;
        out[j + 16] = hi as f32 * d + m;
    }
}
