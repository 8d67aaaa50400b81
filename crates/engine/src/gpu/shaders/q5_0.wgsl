// Q5_0: 32 elements in 22 bytes: f16 d, u32 qh (bit j is the fifth bit of
// element j), 16 bytes of nibbles as in Q4_0; values are q - 16.
// A slot is 4 bytes (8 elements): 4 slots per block.

const BLOCK_ELEMS: u32 = 32u;
const BLOCK_BYTES: u32 = 22u;
const SLOTS: u32 = 4u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let qh = w_u32(blk + 2u);
    let q = w_u32(blk + 6u + 4u * slot);
    let xl = xo + 4u * slot;
    var s = 0.0;
    for (var i = 0u; i < 4u; i++) {
        let j = 4u * slot + i;
        let b = (q >> (8u * i)) & 0xffu;
        let lo = (b & 15u) | (((qh >> j) & 1u) << 4u);
        let hi = (b >> 4u) | (((qh >> (j + 16u)) & 1u) << 4u);
        s += (f32(lo) - 16.0) * x[xl + i] + (f32(hi) - 16.0) * x[xl + 16u + i];
    }
    return w_f16(blk) * s;
}

fn dequant(blk: u32, e: u32) -> f32 {
    let qh = w_u32(blk + 2u);
    let b = w_byte(blk + 6u + (e % 16u));
    let n = select(b & 15u, b >> 4u, e >= 16u) | (((qh >> e) & 1u) << 4u);
    return w_f16(blk) * (f32(n) - 16.0);
}
