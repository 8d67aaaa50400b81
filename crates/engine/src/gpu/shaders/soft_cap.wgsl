// x = cap * tanh(x / cap), in place: Gemma 2's cap on its final logits.

struct Params {
    n: u32,
    cap: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < p.n) {
        // tanh of a clamped argument: some implementations overflow exp.
        x[gid.x] = p.cap * tanh(clamp(x[gid.x] / p.cap, -15.0, 15.0));
    }
}
