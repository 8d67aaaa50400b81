// Q8_0: 32 elements in 34 bytes: f16 d, then 32 signed bytes.
// A slot is 8 elements: 4 slots (threads) per block.

const BLOCK_ELEMS: u32 = 32u;
const BLOCK_BYTES: u32 = 34u;
const SLOTS: u32 = 4u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let q0 = bitcast<i32>(w_u32(blk + 2u + slot * 8u));
    let q1 = bitcast<i32>(w_u32(blk + 6u + slot * 8u));
    let sh = vec4<u32>(24u, 16u, 8u, 0u);
    let a = vec4<f32>((vec4<i32>(q0) << sh) >> vec4<u32>(24u));
    let b = vec4<f32>((vec4<i32>(q1) << sh) >> vec4<u32>(24u));
    let xb = xo / 4u + 2u * slot;
    return w_f16(blk) * (dot(a, x4(xb)) + dot(b, x4(xb + 1u)));
}

fn dequant(blk: u32, e: u32) -> f32 {
    return w_f16(blk) * f32(w_i8(blk + 2u + e));
}
