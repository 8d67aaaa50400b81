// Rotary position embedding of every head of one token, in place. The
// cos/sin of this position's angles come from a table the host computes
// per token (GPU sin/cos lose accuracy on the large angles of late
// positions), `table_stride` floats a token for the chunk's tokens (z);
// NEOX pairs dim j with j + half, NORM pairs 2j with 2j + 1.

struct Params {
    n_heads: u32,
    head_dim: u32,
    half: u32,
    neox: u32,
    table_off: u32,
    table_stride: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
// [cos(half) | sin(half)] at table_off.
@group(0) @binding(2) var<storage, read> table: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n_heads * p.half) {
        return;
    }
    let t = gid.z;
    let h = t * p.n_heads + i / p.half;
    let j = i % p.half;
    var a = h * p.head_dim + 2u * j;
    var b = a + 1u;
    if (p.neox != 0u) {
        a = h * p.head_dim + j;
        b = a + p.half;
    }
    let to = t * p.table_stride + p.table_off;
    let c = table[to + j];
    let s = table[to + p.half + j];
    let x0 = v[a];
    let x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x0 * s + x1 * c;
}
