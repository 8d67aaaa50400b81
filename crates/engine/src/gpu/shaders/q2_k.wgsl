// Q2_K: 256 elements in 84 bytes: 16 bytes of 4-bit scales (low nibble)
// and mins (high), one pair per 16 elements, 64 bytes of 2-bit values,
// f16 d at +80, f16 dmin at +82. Group g = 8n + 2j + h (elements 16g..16g
// + 16) takes bits 2j, 2j + 1 of bytes 16 + 32n + 16h + (0..16); value =
// d * scale * q - dmin * min.
// A slot is one group (16 elements): 16 slots per block.

const BLOCK_ELEMS: u32 = 256u;
const BLOCK_BYTES: u32 = 84u;
const SLOTS: u32 = 16u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let at = blk + 16u + 32u * (slot / 8u) + 16u * (slot % 2u);
    let sh = vec4<u32>(0u, 8u, 16u, 24u) + vec4<u32>(2u * ((slot % 8u) / 2u));
    let xb = (xo + 16u * slot) / 4u;
    let one = vec4<f32>(1.0);
    var d = 0.0;
    var m = 0.0;
    for (var k = 0u; k < 4u; k++) {
        let v = vec4<f32>((vec4<u32>(w_u32(at + 4u * k)) >> sh) & vec4<u32>(3u));
        let xv = x4(xb + k);
        d += dot(v, xv);
        m += dot(xv, one);
    }
    let sc = w_byte(blk + slot);
    return w_f16(blk + 80u) * f32(sc & 15u) * d - w_f16(blk + 82u) * f32(sc >> 4u) * m;
}

fn dequant(blk: u32, e: u32) -> f32 {
    let g = e / 16u;
    let b = w_byte(blk + 16u + 32u * (g / 8u) + 16u * (g % 2u) + e % 16u);
    let q = (b >> (2u * ((g % 8u) / 2u))) & 3u;
    let sc = w_byte(blk + g);
    return w_f16(blk + 80u) * f32(sc & 15u) * f32(q) - w_f16(blk + 82u) * f32(sc >> 4u);
}
