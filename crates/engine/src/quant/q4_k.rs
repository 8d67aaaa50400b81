//! Q4_K: 256 elements in 144 bytes: f16 d, f16 dmin, 12 bytes of packed
//! 6-bit scales and mins for 8 sub-blocks of 32, then 128 bytes of nibbles.
//! Value = d*scale*q - dmin*min.

use super::f16_at;

pub const BLOCK_BYTES: usize = 144;

/// The 6-bit scale and min of sub-block `j` from the 12 packed bytes.
#[inline]
pub fn scale_min(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4))
    }
}

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    let dmin = f16_at(b, 2);
    let scales = &b[4..16];
    let qs = &b[16..144];
    for c in 0..4 {
        let (s1, m1) = scale_min(2 * c, scales);
        let (s2, m2) = scale_min(2 * c + 1, scales);
        let (d1, m1) = (d * s1 as f32, dmin * m1 as f32);
        let (d2, m2) = (d * s2 as f32, dmin * m2 as f32);
        let q = &qs[32 * c..32 * c + 32];
        for l in 0..32 {
            out[64 * c + l] = d1 * (q[l] & 15) as f32 - m1;
            out[64 * c + 32 + l] = d2 * (q[l] >> 4) as f32 - m2;
        }
    }
}
