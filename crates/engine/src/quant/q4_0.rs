//! Q4_0: 32 elements in 18 bytes: f16 scale, then 16 bytes of nibbles
//! (low nibbles are elements 0..16, high nibbles 16..32), offset 8.

use super::f16_at;

pub const BLOCK_BYTES: usize = 18;

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    let qs = &b[2..18];
    for j in 0..16 {
        out[j] = ((qs[j] & 15) as i32 - 8) as f32 * d;
        out[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
    }
}
