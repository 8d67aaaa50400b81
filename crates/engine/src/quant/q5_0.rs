//! Q5_0: 32 elements in 22 bytes: f16 scale, a u32 of fifth bits (bit j
//! belongs to element j), 16 bytes of nibbles; offset 16. Gemma 3's most
//! common weight type (its K=640 rows are not a multiple of 256).

use super::f16_at;

pub const BLOCK_BYTES: usize = 22;

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    for j in 0..16 {
        let lo = (qs[j] & 15) as u32 | ((qh >> j) & 1) << 4;
        let hi = (qs[j] >> 4) as u32 | ((qh >> (j + 16)) & 1) << 4;
        out[j] = (lo as i32 - 16) as f32 * d;
        out[j + 16] = (hi as i32 - 16) as f32 * d;
    }
}
