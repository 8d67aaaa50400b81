// dst += src, elementwise, for each token (z) of dst's rows (biases of
// Qwen's q/k/v projections).

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < p.n) {
        dst[gid.z * p.n + gid.x] += src[gid.x];
    }
}
