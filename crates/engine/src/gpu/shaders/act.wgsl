// Feed-forward activations, shared by glu.wgsl and matvec_glu.wgsl:
// tanh-GELU with input and output rounded to f16 as llama.cpp's table
// does (Gemma; kind 0) and SiLU (Llama, Qwen; kind 1).

fn round_f16(v: f32) -> f32 {
    return unpack2x16float(pack2x16float(vec2<f32>(v, 0.0))).x;
}

fn gelu_tanh_f16(v: f32) -> f32 {
    if (v <= -10.0) {
        return 0.0;
    }
    if (v >= 10.0) {
        return v;
    }
    let r = round_f16(v);
    // tanh of a clamped argument: tanh(15) is 1 in f32 and large
    // arguments overflow some implementations' exp.
    let t = tanh(clamp(0.7978846 * (r + 0.044715 * r * r * r), -15.0, 15.0));
    return round_f16(0.5 * r * (1.0 + t));
}

fn silu(v: f32) -> f32 {
    return v / (1.0 + exp(-v));
}

fn act(v: f32, kind: u32) -> f32 {
    if (kind == 0u) {
        return gelu_tanh_f16(v);
    }
    return silu(v);
}
