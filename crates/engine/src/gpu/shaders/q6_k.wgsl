// Q6_K: 256 elements in 210 bytes: ql[128], qh[64] at +128, 16 signed
// scales at +192, f16 d at +208. Half n (128 elements) uses ql + 64n,
// qh + 32n, scales + 8n; for l < 32 the elements l, l+32, l+64, l+96 of the
// half are the low nibble of ql[l], of ql[l+32], the high nibble of ql[l],
// of ql[l+32], each with two bits of qh[l] (bits 0-1, 2-3, 4-5, 6-7) on
// top, minus 32, times d * scale[element / 16].
// A slot is four consecutive l (16 elements): 16 slots per block.

const BLOCK_ELEMS: u32 = 256u;
const BLOCK_BYTES: u32 = 210u;
const SLOTS: u32 = 16u;

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let n = slot / 8u;
    let l0 = 4u * (slot % 8u);
    let sh = vec4<u32>(0u, 8u, 16u, 24u);
    let a = vec4<u32>(w_u32(blk + 64u * n + l0)) >> sh;
    let b = vec4<u32>(w_u32(blk + 64u * n + 32u + l0)) >> sh;
    let h = vec4<u32>(w_u32(blk + 128u + 32u * n + l0)) >> sh;
    let m4 = vec4<u32>(15u);
    let m2 = vec4<u32>(3u);
    let q0 = vec4<f32>((a & m4) | ((h & m2) << vec4<u32>(4u))) - 32.0;
    let q1 = vec4<f32>((b & m4) | (((h >> vec4<u32>(2u)) & m2) << vec4<u32>(4u))) - 32.0;
    let q2 = vec4<f32>(((a >> vec4<u32>(4u)) & m4) | (((h >> vec4<u32>(4u)) & m2) << vec4<u32>(4u))) - 32.0;
    let q3 = vec4<f32>(((b >> vec4<u32>(4u)) & m4) | (((h >> vec4<u32>(6u)) & m2) << vec4<u32>(4u))) - 32.0;
    let sc = blk + 192u + 8u * n + l0 / 16u;
    let xb = (xo + 128u * n + l0) / 4u;
    let t = f32(w_i8(sc)) * dot(q0, x4(xb)) + f32(w_i8(sc + 2u)) * dot(q1, x4(xb + 8u))
        + f32(w_i8(sc + 4u)) * dot(q2, x4(xb + 16u)) + f32(w_i8(sc + 6u)) * dot(q3, x4(xb + 24u));
    return w_f16(blk + 208u) * t;
}

fn dequant(blk: u32, e: u32) -> f32 {
    let n = e / 128u;
    let r = e % 128u;
    let g = r / 32u;
    let l = r % 32u;
    let b = w_byte(blk + 64u * n + l + 32u * (g & 1u));
    let lo = select(b & 15u, b >> 4u, g >= 2u);
    let hb = (w_byte(blk + 128u + 32u * n + l) >> (2u * g)) & 3u;
    let sc = w_i8(blk + 192u + 8u * n + l / 16u + 2u * g);
    return w_f16(blk + 208u) * f32(sc) * (f32(lo | (hb << 4u)) - 32.0);
}
