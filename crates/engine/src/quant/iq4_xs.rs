//! IQ4_XS: 256 elements in 136 bytes: f16 d, a u16 of the top 2 bits of
//! each sub-block's 6-bit scale, 4 bytes of their low 4 bits, 128 bytes of
//! nibbles. Sub-block ib (elements 32ib..32ib + 32) takes bytes 8 + 16ib +
//! (0..16) laid out as IQ4_NL's. Value = d * (scale_ib - 32) * VALUES[n].

use super::f16_at;
use super::iq4_nl::{nearest, VALUES};

pub const BLOCK_BYTES: usize = 136;

/// Sub-block `ib`'s scale, less its offset of 32.
#[inline(always)]
pub fn scale(b: &[u8], ib: usize) -> i32 {
    let high = u16::from_le_bytes([b[2], b[3]]) >> (2 * ib) & 3;
    let low = b[4 + ib / 2] >> (4 * (ib % 2)) & 15;
    (low as i32 | (high as i32) << 4) - 32
}

pub fn dequantize(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for (ib, y) in out.chunks_exact_mut(32).enumerate() {
        let dl = d * scale(b, ib) as f32;
        for (j, &n) in b[8 + 16 * ib..24 + 16 * ib].iter().enumerate() {
            y[j] = dl * VALUES[(n & 15) as usize] as f32;
            y[j + 16] = dl * VALUES[(n >> 4) as usize] as f32;
        }
    }
}

/// 256 values into `out` (one block), rounding as `iq4_nl::quantize`:
/// each sub-block's own scale put on the 6-bit grid of `d`.
pub fn quantize(x: &[f32], out: &mut [u8]) {
    let sub: Vec<f32> = x.chunks_exact(32).map(|c| c.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m }) / VALUES[0] as f32).collect();
    let amax = sub.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 31.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out[..2].copy_from_slice(&half::f16::from_f32(d).to_bits().to_le_bytes());
    let d = half::f16::from_f32(d).to_f32();
    let mut high = 0u16;
    out[4..8].fill(0);
    for (ib, (c, &s)) in x.chunks_exact(32).zip(&sub).enumerate() {
        let l = (s * id).round().clamp(-32.0, 31.0) as i32;
        let ls = (l + 32) as u16;
        high |= (ls >> 4) << (2 * ib);
        out[4 + ib / 2] |= ((ls & 15) as u8) << (4 * (ib % 2));
        let dl = d * l as f32;
        let idl = if dl != 0.0 { 1.0 / dl } else { 0.0 };
        for j in 0..16 {
            out[8 + 16 * ib + j] = nearest(c[j] * idl) | nearest(c[j + 16] * idl) << 4;
        }
    }
    out[2..4].copy_from_slice(&high.to_le_bytes());
}
