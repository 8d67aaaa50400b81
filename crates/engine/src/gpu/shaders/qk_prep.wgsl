// Everything between the q/k/v projections and attention, in one pass:
// per head of each token (workgroup x: q heads, then k heads, then v
// heads; token in z), Gemma's QK-norm (RMSNorm of the head times its
// weight), RoPE (of all of the head, or of its first dims), and the store of k and v into the layer's f16 cache at
// the token's position; q goes to q_out for the scores kernel. Replaces
// up to five dispatches a layer (two norms, two RoPEs, the cache store):
// on an H100 each dispatch cost ~10 us whatever its size. The arithmetic
// is rms_norm.wgsl's and kv_store.wgsl's, in the same order, so results
// match the separate passes bit for bit.

struct Params {
    n_head: u32,
    n_kv_head: u32,
    head_dim: u32,
    neox: u32,
    table_off: u32,
    table_stride: u32,
    eps: f32,
    // 1: QK-norm with norms[0..head_dim] (q) and norms[head_dim..] (k).
    norm: u32,
    // Pairs RoPE turns (the first 2 * rot_half dims of a head; the rest
    // pass through), and the factor on what it turns (LongRoPE's).
    rot_half: u32,
    mscale: f32,
}

struct Step {
    pos: u32,
    embed_row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q_raw: array<f32>;
@group(0) @binding(2) var<storage, read> k_raw: array<f32>;
@group(0) @binding(3) var<storage, read> v_raw: array<f32>;
@group(0) @binding(4) var<storage, read_write> q_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> k_cache: array<u32>;
@group(0) @binding(6) var<storage, read_write> v_cache: array<u32>;
// [cos(half) | sin(half)] at table_off of each token's table_stride floats.
@group(0) @binding(7) var<storage, read> table: array<f32>;
@group(0) @binding(8) var<storage, read> norms: array<f32>;
@group(0) @binding(9) var<uniform> step: Step;

var<workgroup> sums: array<f32, 256>;
var<workgroup> head: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let t = wg.z;
    let hd = p.head_dim;
    let kv_dim = p.n_kv_head * hd;
    let is_q = wg.x < p.n_head;
    let is_v = wg.x >= p.n_head + p.n_kv_head;
    let kv_words = kv_dim / 2u;
    let at = (step.pos + t) * kv_words;
    if (is_v) {
        let h = wg.x - p.n_head - p.n_kv_head;
        for (var i = tid; i < hd / 2u; i += 256u) {
            let src = t * kv_dim + h * hd + 2u * i;
            v_cache[at + h * hd / 2u + i] = pack2x16float(vec2<f32>(v_raw[src], v_raw[src + 1u]));
        }
        return;
    }
    var h = wg.x;
    var base = (t * p.n_head + h) * hd;
    if (!is_q) {
        h = wg.x - p.n_head;
        base = t * kv_dim + h * hd;
    }
    for (var i = tid; i < hd; i += 256u) {
        head[i] = select(k_raw[base + i], q_raw[base + i], is_q);
    }
    workgroupBarrier();
    if (p.norm != 0u) {
        var acc = 0.0;
        for (var i = tid; i < hd; i += 256u) {
            acc += head[i] * head[i];
        }
        sums[tid] = acc;
        workgroupBarrier();
        for (var k = 128u; k > 0u; k >>= 1u) {
            if (tid < k) {
                sums[tid] += sums[tid + k];
            }
            workgroupBarrier();
        }
        let s = 1.0 / sqrt(sums[0] / f32(hd) + p.eps);
        let wo = select(hd, 0u, is_q);
        for (var i = tid; i < hd; i += 256u) {
            head[i] = head[i] * (s * norms[wo + i]);
        }
        workgroupBarrier();
    }
    let half = hd / 2u;
    let rh = p.rot_half;
    let to = t * p.table_stride + p.table_off;
    for (var j = tid; j < rh; j += 256u) {
        var a = 2u * j;
        var b = a + 1u;
        if (p.neox != 0u) {
            a = j;
            b = j + rh;
        }
        let c = table[to + j];
        let s = table[to + rh + j];
        let x0 = head[a];
        let x1 = head[b];
        head[a] = x0 * c - x1 * s;
        head[b] = x0 * s + x1 * c;
        if (p.mscale != 1.0) {
            head[a] = head[a] * p.mscale;
            head[b] = head[b] * p.mscale;
        }
    }
    workgroupBarrier();
    if (is_q) {
        for (var i = tid; i < hd; i += 256u) {
            q_out[base + i] = head[i];
        }
    } else {
        for (var i = tid; i < half; i += 256u) {
            k_cache[at + h * half + i] = pack2x16float(vec2<f32>(head[2u * i], head[2u * i + 1u]));
        }
    }
}
