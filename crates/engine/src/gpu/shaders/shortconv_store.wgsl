// An LFM2 convolution layer's input to its convolution, B * x, for the chunk's tokens (z),
// appended to the layer's cache of it (its "keys") as f16 pairs, as the CPU keeps it: the
// convolution then reads every tap, this chunk's and earlier ones', rounded alike. `bcx` holds
// each token's in_proj output, B | C | x, `d` floats each.

struct Params {
    d: u32,
}

struct Step {
    pos: u32,
    embed_row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bcx: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;
@group(0) @binding(3) var<uniform> step: Step;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let words = p.d / 2u;
    if (i >= words) {
        return;
    }
    let t = gid.z;
    let row = t * 3u * p.d + 2u * i;
    let x = row + 2u * p.d;
    state[(step.pos + t) * words + i] = pack2x16float(vec2<f32>(bcx[row] * bcx[x], bcx[row + 1u] * bcx[x + 1u]));
}
