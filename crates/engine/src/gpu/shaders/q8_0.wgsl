// Q8_0: 32 elements in 34 bytes: f16 d, then 32 signed bytes.
// A slot is 8 elements: 4 slots (threads) per block.

const BLOCK_ELEMS: u32 = 32u;
const BLOCK_BYTES: u32 = 34u;
const SLOTS: u32 = 4u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let q0 = bitcast<i32>(w_u32(blk + 2u + slot * 8u));
    let q1 = bitcast<i32>(w_u32(blk + 6u + slot * 8u));
    let xb = xo + slot * 8u;
    var s = 0.0;
    for (var i = 0u; i < 4u; i++) {
        s += f32(extractBits(q0, i * 8u, 8u)) * x[xb + i];
        s += f32(extractBits(q1, i * 8u, 8u)) * x[xb + 4u + i];
    }
    return w_f16(blk) * s;
}

fn dequant(blk: u32, e: u32) -> f32 {
    return w_f16(blk) * f32(w_i8(blk + 2u + e));
}
