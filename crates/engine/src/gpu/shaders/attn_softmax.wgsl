// Softmax over each head's scores (the keys lo..=pos), in place. One
// workgroup per head (x) and chunk token (z).

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
@group(0) @binding(1) var<storage, read_write> scores: array<f32>;
@group(0) @binding(2) var<uniform> step: Step;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let t = wg.z;
    let pos = step.pos + t;
    let h = wg.x;
    var lo = 0u;
    if (p.window != 0u && pos + 1u > p.window) {
        lo = pos + 1u - p.window;
    }
    let n = pos + 1u - lo;
    let base = (t * p.n_head + h) * p.stride;
    var m = -3.0e38;
    for (var i = tid; i < n; i += 256u) {
        m = max(m, scores[base + i]);
    }
    red[tid] = m;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
        if (tid < k) {
            red[tid] = max(red[tid], red[tid + k]);
        }
        workgroupBarrier();
    }
    let mx = red[0];
    workgroupBarrier();
    var s = 0.0;
    for (var i = tid; i < n; i += 256u) {
        let e = exp(scores[base + i] - mx);
        scores[base + i] = e;
        s += e;
    }
    red[tid] = s;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
        if (tid < k) {
            red[tid] += red[tid + k];
        }
        workgroupBarrier();
    }
    let inv = 1.0 / red[0];
    for (var i = tid; i < n; i += 256u) {
        scores[base + i] *= inv;
    }
}
