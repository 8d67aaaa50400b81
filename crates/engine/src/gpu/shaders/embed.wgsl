// Embedding lookup: out = dequantize(W[row]) * scale, where row is the
// token's row within the weight chunk that holds it (from the step block).
// Composed after bytes.wgsl and one format file (its dequant()).

struct Params {
    cols: u32,
    row_bytes: u32,
    scale: f32,
}

struct Step {
    pos: u32,
    embed_row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;
// Declared for the format file's slot_dot(), which this kernel never calls.
@group(0) @binding(4) var<storage, read> x: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    if (e >= p.cols) {
        return;
    }
    let b = e / BLOCK_ELEMS;
    let base = step.embed_row * p.row_bytes + b * BLOCK_BYTES;
    out[e] = dequant(base, e % BLOCK_ELEMS) * p.scale;
}
