//! Q8_0: 32 elements in 34 bytes: f16 scale, then 32 signed bytes.
//! Gemma 3's tied embedding / LM head, the largest read per token.

use super::f16_at;

pub const BLOCK_BYTES: usize = 34;

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for (o, &q) in out[..32].iter_mut().zip(&b[2..34]) {
        *o = (q as i8) as f32 * d;
    }
}
