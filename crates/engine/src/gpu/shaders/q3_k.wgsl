// Q3_K: 256 elements in 110 bytes: 32 bytes of high bits (hmask), 64 bytes
// of 2-bit values at +32, 12 bytes of packed 6-bit scales at +96 (one per
// 16 elements, offset 32), f16 d at +108. Group g = 8n + 2j + h (elements
// 16g..16g + 16) takes bits 2j, 2j + 1 of bytes 32 + 32n + 16h + (0..16)
// and bit 4n + j of hmask bytes 16h + (0..16); value = d * scale * (q - 4),
// with 4 added back where the high bit is set.
// A slot is one group (16 elements): 16 slots per block.

const BLOCK_ELEMS: u32 = 256u;
const BLOCK_BYTES: u32 = 110u;
const SLOTS: u32 = 16u;

// The signed scale of group g: low 4 bits from the nibbles of bytes 0..8,
// top 2 bits from bytes 8..12 of the scales.
fn q3k_scale(blk: u32, g: u32) -> f32 {
    let low = (w_byte(blk + 96u + g % 8u) >> (4u * (g / 8u))) & 15u;
    let top = (w_byte(blk + 104u + g % 4u) >> (2u * (g / 4u))) & 3u;
    return f32(i32(low | (top << 4u)) - 32);
}

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let n = slot / 8u;
    let j = (slot % 8u) / 2u;
    let h = slot % 2u;
    let qa = blk + 32u + 32u * n + 16u * h;
    let ha = blk + 16u * h;
    let bytes = vec4<u32>(0u, 8u, 16u, 24u);
    let xb = (xo + 16u * slot) / 4u;
    var s = 0.0;
    for (var k = 0u; k < 4u; k++) {
        let q = (vec4<u32>(w_u32(qa + 4u * k)) >> (bytes + vec4<u32>(2u * j))) & vec4<u32>(3u);
        let hb = (vec4<u32>(w_u32(ha + 4u * k)) >> (bytes + vec4<u32>(4u * n + j))) & vec4<u32>(1u);
        s += dot(vec4<f32>(q + 4u * hb) - 4.0, x4(xb + k));
    }
    return w_f16(blk + 108u) * q3k_scale(blk, slot) * s;
}

fn dequant(blk: u32, e: u32) -> f32 {
    let g = e / 16u;
    let n = g / 8u;
    let j = (g % 8u) / 2u;
    let h = g % 2u;
    let q = (w_byte(blk + 32u + 32u * n + 16u * h + e % 16u) >> (2u * j)) & 3u;
    let hb = (w_byte(blk + 16u * h + e % 16u) >> (4u * n + j)) & 1u;
    return w_f16(blk + 108u) * q3k_scale(blk, g) * (f32(q + 4u * hb) - 4.0);
}
