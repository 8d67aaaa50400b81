// Attention scores of one query token against the cached keys it may see:
// scores[h][j - lo] = scale * q_h . k_j for j in lo..=pos, where lo drops
// keys `window` or more positions back on sliding-window layers. Query
// token t of a prefill chunk (workgroup z) sits at position step.pos + t and
// sees the keys up to its own: the causal mask. Query head
// h reads KV head h / (n_head / n_kv_head). A workgroup scores 64 keys of
// one head; the head's query sits in workgroup memory.

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
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k_cache: array<u32>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

var<workgroup> qh: array<f32, 256>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let t = wg.z;
    let pos = step.pos + t;
    let h = wg.y;
    for (var i = tid; i < p.head_dim; i += 64u) {
        qh[i] = q[(t * p.n_head + h) * p.head_dim + i];
    }
    workgroupBarrier();
    var lo = 0u;
    if (p.window != 0u && pos + 1u > p.window) {
        lo = pos + 1u - p.window;
    }
    let j = lo + wg.x * 64u + tid;
    if (j > pos) {
        return;
    }
    let kvh = h / (p.n_head / p.n_kv_head);
    let kv_words = p.n_kv_head * p.head_dim / 2u;
    let base = j * kv_words + kvh * p.head_dim / 2u;
    var acc = 0.0;
    for (var d = 0u; d < p.head_dim / 2u; d++) {
        let kk = unpack2x16float(k_cache[base + d]);
        acc += qh[2u * d] * kk.x + qh[2u * d + 1u] * kk.y;
    }
    scores[(t * p.n_head + h) * p.stride + (j - lo)] = acc * p.scale;
}
