// Gated feed-forward activation, in place: gate = act(gate) * up, with
// tanh-GELU (Gemma; input and output rounded to f16 as llama.cpp's table
// does) or SiLU (Llama, Qwen). `n` elements a token, tokens in z.

struct Params {
    n: u32,
    kind: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;

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

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let i = (wg.y * nwg.x + wg.x) * 64u + tid;
    if (i >= p.n) {
        return;
    }
    let o = wg.z * p.n + i;
    let g = gate[o];
    var a = silu(g);
    if (p.kind == 0u) {
        a = gelu_tanh_f16(g);
    }
    gate[o] = a * up[o];
}
