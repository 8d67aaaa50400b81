// IQ4_XS: 256 elements in 136 bytes: f16 d, u16 of the scales' top 2 bits
// at +2, their low 4 bits in 4 bytes at +4, 128 bytes of nibbles at +8.
// Sub-block s (32 elements) takes bytes 8 + 16s + (0..16) laid out as
// IQ4_NL's; value = d * (scale_s - 32) * grid[nibble] (iq4_grid.wgsl).
// A slot is one sub-block: 8 slots per block.

const BLOCK_ELEMS: u32 = 256u;
const BLOCK_BYTES: u32 = 136u;
const SLOTS: u32 = 8u;

fn iq4xs_scale(blk: u32, s: u32) -> f32 {
    let high = ((w_byte(blk + 2u) | (w_byte(blk + 3u) << 8u)) >> (2u * s)) & 3u;
    let low = (w_byte(blk + 4u + s / 2u) >> (4u * (s % 2u))) & 15u;
    return f32(i32(low | (high << 4u)) - 32);
}

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let xb = (xo + 32u * slot) / 4u;
    var t = 0.0;
    for (var k = 0u; k < 4u; k++) {
        let q = w_u32(blk + 8u + 16u * slot + 4u * k);
        let v = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u);
        t += dot(iq4_values(v & vec4<u32>(15u)), x4(xb + k)) + dot(iq4_values((v >> vec4<u32>(4u)) & vec4<u32>(15u)), x4(xb + 4u + k));
    }
    return w_f16(blk) * iq4xs_scale(blk, slot) * t;
}

fn dequant(blk: u32, e: u32) -> f32 {
    let s = e / 32u;
    let r = e % 32u;
    let b = w_byte(blk + 8u + 16u * s + (r % 16u));
    let n = select(b & 15u, b >> 4u, r >= 16u);
    return w_f16(blk) * iq4xs_scale(blk, s) * IQ4_GRID[n];
}
