// Attention scores of one query token against the cached keys it may see:
// scores[h][j - lo] = scale * q_h . k_j for j in lo..=pos, where lo drops
// keys `window` or more positions back on sliding-window layers; Gemma 2
// caps each score at `softcap * tanh(score / softcap)`. Query
// token t of a prefill chunk (workgroup z) sits at position step.pos + t and
// sees the keys up to its own: the causal mask. Query head
// h reads KV head h / (n_head / n_kv_head). A workgroup scores 64 keys of
// one head; the head's query sits in workgroup memory. A thread reads its
// key 8 halves a load (head_dim is a multiple of 8: attention.rs): with
// one word a load the chain of 64-128 dependent reads a thread took
// ~17-21 us a layer on an H100.

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
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

var<workgroup> qh: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let t = wg.z;
    let pos = step.pos + t;
    let h = wg.y;
    for (var i = tid; i < p.head_dim / 4u; i += 64u) {
        let o = (t * p.n_head + h) * p.head_dim + 4u * i;
        qh[i] = vec4<f32>(q[o], q[o + 1u], q[o + 2u], q[o + 3u]);
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
    let base = (j * kv_words + kvh * p.head_dim / 2u) / 4u;
    var acc = vec4<f32>(0.0);
    for (var d = 0u; d < p.head_dim / 8u; d++) {
        let kw = k_cache[base + d];
        let lo4 = vec4<f32>(unpack2x16float(kw.x), unpack2x16float(kw.y));
        let hi4 = vec4<f32>(unpack2x16float(kw.z), unpack2x16float(kw.w));
        acc += qh[2u * d] * lo4 + qh[2u * d + 1u] * hi4;
    }
    var s = ((acc.x + acc.y) + (acc.z + acc.w)) * p.scale;
    if (p.softcap > 0.0) {
        s = p.softcap * tanh(clamp(s / p.softcap, -15.0, 15.0));
    }
    scores[(t * p.n_head + h) * p.stride + (j - lo)] = s;
}
