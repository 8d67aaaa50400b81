// BF16 weights: the top half of an f32; one element per block and slot.

const BLOCK_ELEMS: u32 = 1u;
const BLOCK_BYTES: u32 = 2u;
const SLOTS: u32 = 1u;

fn bf16_at(off: u32) -> f32 {
    return bitcast<f32>(((w[off >> 2u] >> ((off & 2u) * 8u)) & 0xffffu) << 16u);
}

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    return bf16_at(blk) * x1(xo);
}

fn dequant(blk: u32, e: u32) -> f32 {
    return bf16_at(blk);
}
