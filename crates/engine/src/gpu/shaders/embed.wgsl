// Embedding lookup of the chunk's tokens (workgroup z): out[t] =
// dequantize(W[token - row0]) * scale when the token's row lies in this
// weight chunk (rows row0..row0 + rows); the other chunks' ops skip it.
// Composed after bytes.wgsl and one format file (its dequant()).

struct Params {
    cols: u32,
    row_bytes: u32,
    scale: f32,
    row0: u32,
    rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> tokens: array<u32>;
// Declared for the format file's slot_dot(), which this kernel never calls.
@group(0) @binding(4) var<storage, read> x: array<f32>;

// The format file's slot_dot() reads x through these; this kernel never
// calls it.
fn x4(i: u32) -> vec4<f32> {
    return vec4<f32>(x[4u * i], x[4u * i + 1u], x[4u * i + 2u], x[4u * i + 3u]);
}

fn x1(i: u32) -> f32 {
    return x[i];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    let t = gid.z;
    let tok = tokens[t];
    if (e >= p.cols || tok < p.row0 || tok - p.row0 >= p.rows) {
        return;
    }
    let b = e / BLOCK_ELEMS;
    let base = (tok - p.row0) * p.row_bytes + b * BLOCK_BYTES;
    out[t * p.cols + e] = dequant(base, e % BLOCK_ELEMS) * p.scale;
}
