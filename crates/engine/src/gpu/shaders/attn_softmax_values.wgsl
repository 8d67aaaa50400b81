// Softmax of a head's scores and the probability-weighted sum of the
// cached values, in one pass: workgroup (x: 16 dims of the head, y: head,
// z: query token of the chunk). Every workgroup of a head finds the max
// and the sum of exponentials itself (the scores, a few KB, stay in
// cache), where a separate softmax pass cost a dispatch a layer. Its 16
// phases of 16 threads take every 16th key, and each thread keeps four
// sums for keys 64 apart, so four cache reads are in flight instead of
// one: on an H100 a version with 64 dims a workgroup (a decode step
// launched 24 of them for a 1.5B model) and one sum a thread, a chain of
// dependent reads, took ~36 us a layer at a 1,300-position context.

struct Params {
    n_head: u32,
    n_kv_head: u32,
    head_dim: u32,
    window: u32,
    scale: f32,
    stride: u32,
    // Gemma 2's cap on the scores (0: none).
    softcap: f32,
}

struct Step {
    pos: u32,
    embed_row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> v_cache: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

const DIMS: u32 = 16u;
const PHASES: u32 = 16u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let t = wg.z;
    let pos = step.pos + t;
    let h = wg.y;
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
        s += exp(scores[base + i] - mx);
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
    workgroupBarrier();

    let lane = tid % DIMS;
    let phase = tid / DIMS;
    let d = wg.x * DIMS + lane;
    let kvh = h / (p.n_head / p.n_kv_head);
    let kv_words = p.n_kv_head * p.head_dim / 2u;
    var acc = vec4<f32>(0.0);
    if (d < p.head_dim) {
        let col = (kvh * p.head_dim + d) / 2u;
        let odd = (d & 1u) == 1u;
        var j = phase;
        for (; j + 3u * PHASES < n; j += 4u * PHASES) {
            let v0 = unpack2x16float(v_cache[(lo + j) * kv_words + col]);
            let v1 = unpack2x16float(v_cache[(lo + j + PHASES) * kv_words + col]);
            let v2 = unpack2x16float(v_cache[(lo + j + 2u * PHASES) * kv_words + col]);
            let v3 = unpack2x16float(v_cache[(lo + j + 3u * PHASES) * kv_words + col]);
            let pr = vec4<f32>(
                exp(scores[base + j] - mx) * inv,
                exp(scores[base + j + PHASES] - mx) * inv,
                exp(scores[base + j + 2u * PHASES] - mx) * inv,
                exp(scores[base + j + 3u * PHASES] - mx) * inv,
            );
            let vv = vec4<f32>(select(v0.x, v0.y, odd), select(v1.x, v1.y, odd), select(v2.x, v2.y, odd), select(v3.x, v3.y, odd));
            acc += pr * vv;
        }
        for (; j < n; j += PHASES) {
            let vv = unpack2x16float(v_cache[(lo + j) * kv_words + col]);
            acc.x += exp(scores[base + j] - mx) * inv * select(vv.x, vv.y, odd);
        }
    }
    red[tid] = (acc.x + acc.y) + (acc.z + acc.w);
    workgroupBarrier();
    if (phase == 0u && d < p.head_dim) {
        var sum = 0.0;
        for (var f = 0u; f < PHASES; f++) {
            sum += red[f * DIMS + lane];
        }
        out[(t * p.n_head + h) * p.head_dim + d] = sum;
    }
}
