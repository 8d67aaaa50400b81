// IQ4_NL: 32 elements in 18 bytes: f16 d, 16 bytes of nibbles laid out as
// Q4_0's; value = d * grid[nibble] (iq4_grid.wgsl, composed before this).
// A slot is 4 bytes (8 elements): 4 slots per block.

const BLOCK_ELEMS: u32 = 32u;
const BLOCK_BYTES: u32 = 18u;
const SLOTS: u32 = 4u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let q = w_u32(blk + 2u + 4u * slot);
    let v = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u);
    let lo = iq4_values(v & vec4<u32>(15u));
    let hi = iq4_values((v >> vec4<u32>(4u)) & vec4<u32>(15u));
    let xl = xo / 4u + slot;
    return w_f16(blk) * (dot(lo, x4(xl)) + dot(hi, x4(xl + 4u)));
}

fn dequant(blk: u32, e: u32) -> f32 {
    let b = w_byte(blk + 2u + (e % 16u));
    let n = select(b & 15u, b >> 4u, e >= 16u);
    return w_f16(blk) * IQ4_GRID[n];
}
