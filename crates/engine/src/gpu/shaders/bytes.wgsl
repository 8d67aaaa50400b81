// Reading GGUF bytes out of the u32 words of a weight binding `w`.
// Blocks are not word-aligned (Q8_0 is 34 bytes, Q6_K 210), so a u32 at an
// arbitrary byte offset is funnel-shifted out of two words.

fn w_u32(off: u32) -> u32 {
    let i = off >> 2u;
    let s = (off & 3u) * 8u;
    let lo = w[i];
    if (s == 0u) {
        return lo;
    }
    return (lo >> s) | (w[i + 1u] << (32u - s));
}

fn w_byte(off: u32) -> u32 {
    return (w[off >> 2u] >> ((off & 3u) * 8u)) & 0xffu;
}

// Sign-extended byte.
fn w_i8(off: u32) -> i32 {
    return bitcast<i32>(w_byte(off) << 24u) >> 24u;
}

// An IEEE half at an even byte offset, without the shader-f16 feature.
fn w_f16(off: u32) -> f32 {
    let h = (w[off >> 2u] >> ((off & 2u) * 8u)) & 0xffffu;
    return unpack2x16float(h).x;
}
