// F16 weights: one element per block and per slot.

const BLOCK_ELEMS: u32 = 1u;
const BLOCK_BYTES: u32 = 2u;
const SLOTS: u32 = 1u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    return w_f16(blk) * x1(xo);
}

fn dequant(blk: u32, e: u32) -> f32 {
    return w_f16(blk);
}
