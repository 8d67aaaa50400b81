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
