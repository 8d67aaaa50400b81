// Appends the key and value rows of the chunk's tokens (z) to a layer's cache, packed as
// f16 pairs: half the memory of f32, and the precision llama.cpp's f16
// cache keeps.

struct Params {
    kv_dim: u32,
}

struct Step {
    pos: u32,
    embed_row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<u32>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<u32>;
@group(0) @binding(5) var<uniform> step: Step;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let words = p.kv_dim / 2u;
    if (i >= words) {
        return;
    }
    let t = gid.z;
    let o = (step.pos + t) * words + i;
    let src = t * p.kv_dim + 2u * i;
    k_cache[o] = pack2x16float(vec2<f32>(k[src], k[src + 1u]));
    v_cache[o] = pack2x16float(vec2<f32>(v[src], v[src + 1u]));
}
