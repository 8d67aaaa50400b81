// Gated feed-forward activation, in place: gate = act(gate) * up, with
// tanh-GELU (Gemma; input and output rounded to f16 as llama.cpp's table
// does) or SiLU (Llama, Qwen) from act.wgsl. `n` elements a token,
// tokens in z.

struct Params {
    n: u32,
    kind: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let i = (wg.y * nwg.x + wg.x) * 64u + tid;
    if (i >= p.n) {
        return;
    }
    let o = wg.z * p.n + i;
    gate[o] = act(gate[o], p.kind) * up[o];
}
