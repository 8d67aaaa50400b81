// Q5_1: 32 elements in 24 bytes: f16 d, f16 m, u32 qh (bit j is the fifth
// bit of element j), 16 bytes of nibbles as in Q4_0; values are d * q + m.
// A slot is 4 bytes (8 elements): 4 slots per block.

const BLOCK_ELEMS: u32 = 32u;
const BLOCK_BYTES: u32 = 24u;
const SLOTS: u32 = 4u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let qh = w_u32(blk + 4u);
    let q = w_u32(blk + 8u + 4u * slot);
    let v = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u);
    let j = vec4<u32>(0u, 1u, 2u, 3u) + 4u * slot;
    let hl = ((vec4<u32>(qh) >> j) & vec4<u32>(1u)) << vec4<u32>(4u);
    let hh = ((vec4<u32>(qh) >> (j + 16u)) & vec4<u32>(1u)) << vec4<u32>(4u);
    let lo = vec4<f32>((v & vec4<u32>(15u)) | hl);
    let hi = vec4<f32>(((v >> vec4<u32>(4u)) & vec4<u32>(15u)) | hh);
    let xl = x4(xo / 4u + slot);
    let xh = x4(xo / 4u + slot + 4u);
    let one = vec4<f32>(1.0);
    return w_f16(blk) * (dot(lo, xl) + dot(hi, xh)) + w_f16(blk + 2u) * (dot(xl, one) + dot(xh, one));
}

fn dequant(blk: u32, e: u32) -> f32 {
    let qh = w_u32(blk + 4u);
    let b = w_byte(blk + 8u + (e % 16u));
    let n = select(b & 15u, b >> 4u, e >= 16u) | (((qh >> e) & 1u) << 4u);
    return w_f16(blk) * f32(n) + w_f16(blk + 2u);
}
