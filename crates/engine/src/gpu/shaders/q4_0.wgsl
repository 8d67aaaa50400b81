// Q4_0: 32 elements in 18 bytes: f16 d, 16 bytes of nibbles. Byte j holds
// element j (low nibble) and j + 16 (high); values are q - 8.
// A slot is 4 bytes (8 elements): 4 slots per block.

const BLOCK_ELEMS: u32 = 32u;
const BLOCK_BYTES: u32 = 18u;
const SLOTS: u32 = 4u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let q = w_u32(blk + 2u + 4u * slot);
    let v = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u);
    let lo = vec4<f32>(v & vec4<u32>(15u)) - 8.0;
    let hi = vec4<f32>((v >> vec4<u32>(4u)) & vec4<u32>(15u)) - 8.0;
    let xl = xo / 4u + slot;
    return w_f16(blk) * (dot(lo, x4(xl)) + dot(hi, x4(xl + 4u)));
}

fn dequant(blk: u32, e: u32) -> f32 {
    let b = w_byte(blk + 2u + (e % 16u));
    let n = select(b & 15u, b >> 4u, e >= 16u);
    return w_f16(blk) * (f32(n) - 8.0);
}
