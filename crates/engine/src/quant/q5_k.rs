//! Q5_K: Q4_K plus 32 bytes of fifth bits: bit 2c of qh[l] for the low
//! nibble of chunk c, bit 2c+1 for its high nibble.

use super::f16_at;
use super::q4_k::scale_min;

pub const BLOCK_BYTES: usize = 176;

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    let dmin = f16_at(b, 2);
    let scales = &b[4..16];
    let qh = &b[16..48];
    let qs = &b[48..176];
    for c in 0..4 {
        let (s1, m1) = scale_min(2 * c, scales);
        let (s2, m2) = scale_min(2 * c + 1, scales);
        let (d1, m1) = (d * s1 as f32, dmin * m1 as f32);
        let (d2, m2) = (d * s2 as f32, dmin * m2 as f32);
        let (u1, u2) = (1u8 << (2 * c), 2u8 << (2 * c));
        let q = &qs[32 * c..32 * c + 32];
        for l in 0..32 {
            let lo = (q[l] & 15) + if qh[l] & u1 != 0 { 16 } else { 0 };
            let hi = (q[l] >> 4) + if qh[l] & u2 != 0 { 16 } else { 0 };
            out[64 * c + l] = d1 * lo as f32 - m1;
            out[64 * c + 32 + l] = d2 * hi as f32 - m2;
        }
    }
}

/// Unsigned 5-bit values; per 16-value group the scale d*sc and the min
/// dmin*m of its 32-value sub-block.
pub fn unpack(b: &[u8], qs: &mut [i8], scale: &mut [f32], min: &mut [f32]) {
    let d = f16_at(b, 0);
    let dmin = f16_at(b, 2);
    let scales = &b[4..16];
    let qh = &b[16..48];
    let q = &b[48..176];
    for c in 0..4 {
        let (u1, u2) = (1u8 << (2 * c), 2u8 << (2 * c));
        let qc = &q[32 * c..32 * c + 32];
        for l in 0..32 {
            qs[64 * c + l] = ((qc[l] & 15) + if qh[l] & u1 != 0 { 16 } else { 0 }) as i8;
            qs[64 * c + 32 + l] = ((qc[l] >> 4) + if qh[l] & u2 != 0 { 16 } else { 0 }) as i8;
        }
    }
    for j in 0..8 {
        let (s, m) = scale_min(j, scales);
        scale[2 * j..2 * j + 2].fill(d * s as f32);
        min[2 * j..2 * j + 2].fill(dmin * m as f32);
    }
}
