//! Q3_K: 256 elements in 110 bytes: 32 bytes of high bits (hmask), 64
//! bytes of 2-bit values, 12 bytes of packed 6-bit scales (one per 16
//! elements, offset 32), f16 d at +108. Group g = 8n + 2j + h (elements
//! 16g..16g + 16) takes bits 2j, 2j + 1 of bytes 32 + 32n + 16h + (0..16)
//! and bit 4n + j of hmask bytes 16h + (0..16); value = d * scale * (q - 4)
//! where that high bit is clear, d * scale * q where it is set.

use super::f16_at;

pub const BLOCK_BYTES: usize = 110;

/// The 16 signed group scales (already less their offset of 32): low 4
/// bits from the nibbles of bytes 0..8, top 2 bits from bytes 8..12.
#[inline(always)]
pub fn scales(b: &[u8]) -> [i8; 16] {
    let s = &b[96..108];
    let mut out = [0i8; 16];
    for (g, o) in out.iter_mut().enumerate() {
        let low = (s[g % 8] >> (4 * (g / 8))) & 15;
        let top = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
        *o = (low | top << 4) as i8 - 32;
    }
    out
}

/// Byte offsets of group `g`'s 16 value bytes and 16 hmask bytes, the
/// shift of its value bits and the bit of its hmask.
#[inline(always)]
pub fn group_bytes(g: usize) -> (usize, usize, u32, u32) {
    let (n, j, h) = (g / 8, (g % 8) / 2, g % 2);
    (32 + 32 * n + 16 * h, 16 * h, 2 * j as u32, (4 * n + j) as u32)
}

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 108);
    let sc = scales(b);
    for (g, y) in out.chunks_exact_mut(16).enumerate() {
        let dl = d * sc[g] as f32;
        let (qa, ha, sh, bit) = group_bytes(g);
        for ((o, &q), &h) in y.iter_mut().zip(&b[qa..qa + 16]).zip(&b[ha..ha + 16]) {
            let v = ((q >> sh) & 3) as i32 - if (h >> bit) & 1 == 1 { 0 } else { 4 };
            *o = dl * v as f32;
        }
    }
}
