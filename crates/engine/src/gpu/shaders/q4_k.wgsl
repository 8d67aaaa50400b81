// Q4_K: 256 elements in 144 bytes: f16 d, f16 dmin, 12 bytes of packed
// 6-bit sub-block scales and mins, 128 bytes of nibbles. Chunk c (64
// elements) uses qs[32c..32c+32]: low nibbles are sub-block 2c, high ones
// 2c + 1; value = d * sc * q - dmin * m. 144 is a multiple of 4, so qs
// words are read aligned.
// A slot is word k of each of the four 32-byte qs chunks (32 elements), 8
// slots a block: the 8 threads of a block read consecutive x vec4s, and
// each has 4 weight words and 8 x loads in flight at once.

const BLOCK_ELEMS: u32 = 256u;
const BLOCK_BYTES: u32 = 144u;
const SLOTS: u32 = 8u;

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

// Scales and mins of sub-blocks 2c and 2c + 1 (x, y: scale, min of the
// first; z, w of the second), from the three scale words s0, s1, s2.
fn scale_min_pair(s0: u32, s1: u32, s2: u32, c: u32) -> vec4<f32> {
    let sh = vec2<u32>(16u * c, 16u * c + 8u);
    if (c < 2u) {
        let sc = (vec2<u32>(s0) >> sh) & vec2<u32>(63u);
        let m = (vec2<u32>(s1) >> sh) & vec2<u32>(63u);
        return vec4<f32>(f32(sc.x), f32(m.x), f32(sc.y), f32(m.y));
    }
    let k = sh - vec2<u32>(32u);
    let hi = vec2<u32>(s2) >> k;
    let sc = (hi & vec2<u32>(15u)) | (((vec2<u32>(s0) >> (k + vec2<u32>(6u))) & vec2<u32>(3u)) << vec2<u32>(4u));
    let m = ((hi >> vec2<u32>(4u)) & vec2<u32>(15u)) | (((vec2<u32>(s1) >> (k + vec2<u32>(6u))) & vec2<u32>(3u)) << vec2<u32>(4u));
    return vec4<f32>(f32(sc.x), f32(m.x), f32(sc.y), f32(m.y));
}

fn slot_dot(blk: u32, slot: u32, xo: u32) -> f32 {
    let wi = blk >> 2u;
    let dm = unpack2x16float(w[wi]);
    let s0 = w[wi + 1u];
    let s1 = w[wi + 2u];
    let s2 = w[wi + 3u];
    let xb = xo / 4u + slot;
    let one = vec4<f32>(1.0);
    var d = 0.0;
    var m = 0.0;
    for (var c = 0u; c < 4u; c++) {
        let sm = scale_min_pair(s0, s1, s2, c);
        let v = vec4<u32>(w[wi + 4u + 8u * c + slot]) >> vec4<u32>(0u, 8u, 16u, 24u);
        let lo = vec4<f32>(v & vec4<u32>(15u));
        let hi = vec4<f32>((v >> vec4<u32>(4u)) & vec4<u32>(15u));
        let xl = x4(xb + 16u * c);
        let xh = x4(xb + 16u * c + 8u);
        d += sm.x * dot(lo, xl) + sm.z * dot(hi, xh);
        m += sm.y * dot(xl, one) + sm.w * dot(xh, one);
    }
    return dm.x * d - dm.y * m;
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
