// Attention output: out[h][d] = sum_j probs[h][j] * v_{lo + j}[d]. A
// workgroup covers 64 dims of one head with 4 threads per dim, each summing
// every fourth key; the four partial sums meet in workgroup memory.
// Workgroup z is the token of a prefill chunk.

struct Params {
    n_head: u32,
    n_kv_head: u32,
    head_dim: u32,
    window: u32,
    scale: f32,
    stride: u32,
}

struct Step {
    pos: u32,
    embed_row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> v_cache: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let t = wg.z;
    let pos = step.pos + t;
    let h = wg.y;
    let lane = tid % 64u;
    let phase = tid / 64u;
    let d = wg.x * 64u + lane;
    var lo = 0u;
    if (p.window != 0u && pos + 1u > p.window) {
        lo = pos + 1u - p.window;
    }
    let n = pos + 1u - lo;
    let kvh = h / (p.n_head / p.n_kv_head);
    let kv_words = p.n_kv_head * p.head_dim / 2u;
    var acc = 0.0;
    if (d < p.head_dim) {
        let col = (kvh * p.head_dim + d) / 2u;
        let odd = (d & 1u) == 1u;
        for (var j = phase; j < n; j += 4u) {
            let vv = unpack2x16float(v_cache[(lo + j) * kv_words + col]);
            acc += probs[(t * p.n_head + h) * p.stride + j] * select(vv.x, vv.y, odd);
        }
    }
    red[tid] = acc;
    workgroupBarrier();
    if (phase == 0u && d < p.head_dim) {
        out[(t * p.n_head + h) * p.head_dim + d] = red[lane] + red[lane + 64u] + red[lane + 128u] + red[lane + 192u];
    }
}
