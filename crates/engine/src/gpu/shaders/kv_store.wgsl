// Appends this token's key and value rows to a layer's cache, packed as
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
    let o = step.pos * words + i;
    k_cache[o] = pack2x16float(vec2<f32>(k[2u * i], k[2u * i + 1u]));
    v_cache[o] = pack2x16float(vec2<f32>(v[2u * i], v[2u * i + 1u]));
}
