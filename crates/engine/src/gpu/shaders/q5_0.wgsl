// Q5_0: 32 elements in 22 bytes: f16 d, u32 qh (bit j is the fifth bit of
// element j), 16 bytes of nibbles as in Q4_0; values are q - 16.
// A slot is 4 bytes (8 elements): 4 slots per block.

const BLOCK_ELEMS: u32 = 32u;
const BLOCK_BYTES: u32 = 22u;
const SLOTS: u32 = 4u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let qh = w_u32(blk + 2u);
    let q = w_u32(blk + 6u + 4u * slot);
    let v = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u);
    let j = vec4<u32>(0u, 1u, 2u, 3u) + 4u * slot;
    let hl = ((vec4<u32>(qh) >> j) & vec4<u32>(1u)) << vec4<u32>(4u);
    let hh = ((vec4<u32>(qh) >> (j + 16u)) & vec4<u32>(1u)) << vec4<u32>(4u);
    let lo = vec4<f32>((v & vec4<u32>(15u)) | hl) - 16.0;
    let hi = vec4<f32>(((v >> vec4<u32>(4u)) & vec4<u32>(15u)) | hh) - 16.0;
    let xl = xo / 4u + slot;
    return w_f16(blk) * (dot(lo, x4(xl)) + dot(hi, x4(xl + 4u)));
}

fn dequant(blk: u32, e: u32) -> f32 {
    let qh = w_u32(blk + 2u);
    let b = w_byte(blk + 6u + (e % 16u));
    let n = select(b & 15u, b >> 4u, e >= 16u) | (((qh >> e) & 1u) << 4u);
    return w_f16(blk) * (f32(n) - 16.0);
}
