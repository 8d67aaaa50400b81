// Q4_K: 256 elements in 144 bytes: f16 d, f16 dmin, 12 bytes of packed
// 6-bit sub-block scales and mins, 128 bytes of nibbles. Chunk c (64
// elements) uses qs[32c..32c+32]: low nibbles are sub-block 2c, high ones
// 2c + 1; value = d * sc * q - dmin * m. 144 is a multiple of 4, so qs
// words are read aligned.
// A slot is 8 bytes of qs (16 elements): 16 slots per block.

const BLOCK_ELEMS: u32 = 256u;
const BLOCK_BYTES: u32 = 144u;
const SLOTS: u32 = 16u;

// Scale (x) and min (y) of sub-block j, from the 12 packed bytes at +4.
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
    let q0 = blk + 16u + 32u * c + 8u * p;
    let qa = w[q0 >> 2u];
    let qb = w[(q0 >> 2u) + 1u];
    let xl = xo + 64u * c + 8u * p;
    var dl = 0.0;
    var sl = 0.0;
    var dh = 0.0;
    var sh = 0.0;
    for (var i = 0u; i < 8u; i++) {
        let b = (select(qa, qb, i >= 4u) >> (8u * (i % 4u))) & 0xffu;
        let a = x[xl + i];
        let h = x[xl + 32u + i];
        dl += f32(b & 15u) * a;
        sl += a;
        dh += f32(b >> 4u) * h;
        sh += h;
    }
    return w_f16(blk) * (lo.x * dl + hi.x * dh) - w_f16(blk + 2u) * (lo.y * sl + hi.y * sh);
}

fn dequant(blk: u32, e: u32) -> f32 {
    let c = e / 64u;
    let r = e % 64u;
    let high = r >= 32u;
    let b = w_byte(blk + 16u + 32u * c + (r % 32u));
    let q = select(b & 15u, b >> 4u, high);
    let sm = scale_min(blk, 2u * c + select(0u, 1u, high));
    return w_f16(blk) * sm.x * f32(q) - w_f16(blk + 2u) * sm.y;
}
