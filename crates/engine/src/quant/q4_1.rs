//! Q4_1: 32 elements in 20 bytes: f16 d, f16 m, 16 bytes of nibbles laid
//! out as Q4_0's (byte j holds element j low, j + 16 high). Value = d*q + m.

use super::f16_at;

pub const BLOCK_BYTES: usize = 20;

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    for (j, &n) in b[4..20].iter().enumerate() {
        out[j] = (n & 15) as f32 * d + m;
        out[j + 16] = (n >> 4) as f32 * d + m;
    }
}
