// Q5_K: 256 elements in 176 bytes: f16 d, f16 dmin, 12 bytes of scales and
// mins packed as in Q4_K, qh[32] at +16, qs[128] at +48. Element 64c + l
// (l < 32) is the low nibble of qs[32c + l] with bit 2c of qh[l] as fifth
// bit; element 64c + 32 + l the high nibble with bit 2c + 1.
// A slot is 8 bytes of qs (16 elements): 16 slots per block.

const BLOCK_ELEMS: u32 = 256u;
const BLOCK_BYTES: u32 = 176u;
const SLOTS: u32 = 16u;

fn scale_min(blk: u32, j: u32) -> vec2<f32> {
    let s = blk + 4u;
    if (j < 4u) {
        return vec2<f32>(f32(w_byte(s + j) & 63u), f32(w_byte(s + j + 4u) & 63u));
    }
    let sc = (w_byte(s + j + 4u) & 15u) | ((w_byte(s + j - 4u) >> 6u) << 4u);
    let m = (w_byte(s + j + 4u) >> 4u) | ((w_byte(s + j) >> 6u) << 4u);
    return vec2<f32>(f32(sc), f32(m));
}

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let c = slot / 4u;
    let p = slot % 4u;
    let lo = scale_min(blk, 2u * c);
    let hi = scale_min(blk, 2u * c + 1u);
    let q0 = (blk + 48u + 32u * c + 8u * p) >> 2u;
    let h0 = (blk + 16u + 8u * p) >> 2u;
    let xl = xo + 64u * c + 8u * p;
    var dl = 0.0;
    var sl = 0.0;
    var dh = 0.0;
    var sh = 0.0;
    for (var i = 0u; i < 8u; i++) {
        let sh8 = 8u * (i % 4u);
        let b = (w[q0 + i / 4u] >> sh8) & 0xffu;
        let h = (w[h0 + i / 4u] >> sh8) & 0xffu;
        let ql = (b & 15u) | (((h >> (2u * c)) & 1u) << 4u);
        let qh = (b >> 4u) | (((h >> (2u * c + 1u)) & 1u) << 4u);
        let a = x1(xl + i);
        let z = x1(xl + 32u + i);
        dl += f32(ql) * a;
        sl += a;
        dh += f32(qh) * z;
        sh += z;
    }
    return w_f16(blk) * (lo.x * dl + hi.x * dh) - w_f16(blk + 2u) * (lo.y * sl + hi.y * sh);
}

fn dequant(blk: u32, e: u32) -> f32 {
    let c = e / 64u;
    let r = e % 64u;
    let high = r >= 32u;
    let l = r % 32u;
    let b = w_byte(blk + 48u + 32u * c + l);
    let bit = 2u * c + select(0u, 1u, high);
    let q = select(b & 15u, b >> 4u, high) | (((w_byte(blk + 16u + l) >> bit) & 1u) << 4u);
    let sm = scale_min(blk, bit);
    return w_f16(blk) * sm.x * f32(q) - w_f16(blk + 2u) * sm.y;
}
