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
    let a = w_u32(blk + 64u * n + l0);
    let b = w_u32(blk + 64u * n + 32u + l0);
    let h = w_u32(blk + 128u + 32u * n + l0);
    let sc = blk + 192u + 8u * n + l0 / 16u;
    let xb = xo + 128u * n + l0;
    var s0 = 0.0;
    var s1 = 0.0;
    var s2 = 0.0;
    var s3 = 0.0;
    for (var i = 0u; i < 4u; i++) {
        let sh = 8u * i;
        let ab = (a >> sh) & 0xffu;
        let bb = (b >> sh) & 0xffu;
        let hb = (h >> sh) & 0xffu;
        s0 += (f32((ab & 15u) | ((hb & 3u) << 4u)) - 32.0) * x[xb + i];
        s1 += (f32((bb & 15u) | (((hb >> 2u) & 3u) << 4u)) - 32.0) * x[xb + 32u + i];
        s2 += (f32((ab >> 4u) | (((hb >> 4u) & 3u) << 4u)) - 32.0) * x[xb + 64u + i];
        s3 += (f32((bb >> 4u) | (((hb >> 6u) & 3u) << 4u)) - 32.0) * x[xb + 96u + i];
    }
    let t = f32(w_i8(sc)) * s0 + f32(w_i8(sc + 2u)) * s1 + f32(w_i8(sc + 4u)) * s2 + f32(w_i8(sc + 6u)) * s3;
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
