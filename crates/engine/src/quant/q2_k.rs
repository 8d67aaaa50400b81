//! Q2_K: 256 elements in 84 bytes: 16 bytes of 4-bit scales (low nibble)
//! and mins (high nibble), one pair per 16 elements, 64 bytes of 2-bit
//! values, f16 d at +80, f16 dmin at +82. Group g = 8n + 2j + h (elements
//! 16g..16g + 16) takes bits 2j, 2j + 1 of bytes 16 + 32n + 16h + (0..16).
//! Value = d*scale*q - dmin*min.

use super::f16_at;

pub const BLOCK_BYTES: usize = 84;

/// Byte offset of group `g`'s 16 value bytes and the shift of its bits.
#[inline(always)]
pub fn group_bytes(g: usize) -> (usize, u32) {
    (16 + 32 * (g / 8) + 16 * (g % 2), 2 * ((g % 8) / 2) as u32)
}

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (f16_at(b, 80), f16_at(b, 82));
    for (g, y) in out.chunks_exact_mut(16).enumerate() {
        let (dl, ml) = (d * (b[g] & 15) as f32, dmin * (b[g] >> 4) as f32);
        let (at, sh) = group_bytes(g);
        for (o, &q) in y.iter_mut().zip(&b[at..at + 16]) {
            *o = dl * ((q >> sh) & 3) as f32 - ml;
        }
    }
}
