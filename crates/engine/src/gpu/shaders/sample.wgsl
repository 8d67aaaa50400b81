// Picks a token from z (penalised logits over the temperature) with the
// CPU sampler's rule, so only the token id is read back: the top_k largest
// (at most CAP; ties at the cut may add a few), those at least min_p times
// as likely as the best, sorted by value (lowest index first on ties),
// softmax, the top_p nucleus, then the first token whose cumulative
// probability exceeds the uniform number the CPU drew.
//
// One workgroup, over the candidates sample_candidates.wgsl kept (their
// values cv, vocabulary indices ci, number count[0], which it resets for
// the next step). The k-th largest value is found bit by bit over the
// order-preserving u32 key of the floats (32 counting passes), the
// survivors are gathered into workgroup memory and bitonic-sorted, and one
// thread walks them in order as the CPU does, in the same f32 arithmetic.

struct Params {
    n: u32,
    top_k: u32,
    top_p: f32,
    min_p: f32,
    uniform: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cv: array<f32>;
@group(0) @binding(2) var<storage, read> ci: array<u32>;
@group(0) @binding(3) var<storage, read_write> count: array<u32>;
@group(0) @binding(4) var<storage, read_write> result: array<u32>;

const CAP: u32 = 1024u;
const NONE: u32 = 0xffffffffu;

var<workgroup> red_f: array<f32, 256>;
var<workgroup> red_u: array<u32, 256>;
var<workgroup> cand_v: array<f32, 1024>;
var<workgroup> cand_i: array<u32, 1024>;
var<workgroup> found: atomic<u32>;
var<workgroup> n_shared: u32;

// Larger float, larger key (NaN is never asked: it is skipped).
fn key(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Whether candidate a comes before b: larger value, then lower index.
fn before(a: u32, b: u32) -> bool {
    let va = cand_v[a];
    let vb = cand_v[b];
    return va > vb || (va == vb && cand_i[a] < cand_i[b]);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
    // Through workgroup memory: browsers (Tint) refuse barriers under a
    // branch on a value read from a read-write buffer.
    if (tid == 0u) {
        n_shared = count[0];
    }
    let n = workgroupUniformLoad(&n_shared);
    var m = -3.4e38;
    for (var i = tid; i < n; i += 256u) {
        let v = cv[i];
        if (v == v) {
            m = max(m, v);
        }
    }
    red_f[tid] = m;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (tid < s) {
            red_f[tid] = max(red_f[tid], red_f[tid + s]);
        }
        workgroupBarrier();
    }
    let mx = red_f[0];

    var k = CAP;
    if (p.top_k > 0u && p.top_k < CAP) {
        k = p.top_k;
    }
    // The largest key with at least k values at or above it.
    var cut = 0u;
    if (k < n) {
        for (var bit = 31i; bit >= 0i; bit--) {
            let trial = cut | (1u << u32(bit));
            var c = 0u;
            for (var i = tid; i < n; i += 256u) {
                let v = cv[i];
                if (v == v && key(v) >= trial) {
                    c += 1u;
                }
            }
            red_u[tid] = c;
            workgroupBarrier();
            for (var s = 128u; s > 0u; s >>= 1u) {
                if (tid < s) {
                    red_u[tid] += red_u[tid + s];
                }
                workgroupBarrier();
            }
            if (red_u[0] >= k) {
                cut = trial;
            }
            workgroupBarrier();
        }
    }
    var floor = -3.4e38;
    if (p.min_p > 0.0) {
        floor = mx + log(p.min_p);
    }

    if (tid == 0u) {
        atomicStore(&found, 0u);
    }
    for (var j = tid; j < CAP; j += 256u) {
        cand_v[j] = -3.4e38;
        cand_i[j] = NONE;
    }
    workgroupBarrier();
    for (var i = tid; i < n; i += 256u) {
        let v = cv[i];
        if (v == v && key(v) >= cut && v >= floor) {
            let slot = atomicAdd(&found, 1u);
            if (slot < CAP) {
                cand_v[slot] = v;
                cand_i[slot] = ci[i];
            }
        }
    }
    workgroupBarrier();
    if (tid == 0u) {
        count[0] = 0u;
    }

    // Bitonic sort of all CAP slots into candidate order (empty slots last).
    for (var size = 2u; size <= CAP; size <<= 1u) {
        for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
            for (var a = tid; a < CAP; a += 256u) {
                let b = a ^ stride;
                if (b > a) {
                    let forward = (a & size) == 0u;
                    let swap = select(before(a, b), before(b, a), forward);
                    if (swap) {
                        let tv = cand_v[a];
                        let ti = cand_i[a];
                        cand_v[a] = cand_v[b];
                        cand_i[a] = cand_i[b];
                        cand_v[b] = tv;
                        cand_i[b] = ti;
                    }
                }
            }
            workgroupBarrier();
        }
    }

    if (tid != 0u) {
        return;
    }
    let total = min(atomicLoad(&found), CAP);
    if (total == 0u) {
        result[0] = 0u;
        return;
    }
    let top = cand_v[0];
    var sum = 0.0;
    for (var j = 0u; j < total; j++) {
        sum += exp(cand_v[j] - top);
    }
    var keep = total;
    var kept = 1.0;
    if (p.top_p < 1.0) {
        var acc = 0.0;
        for (var j = 0u; j < total; j++) {
            acc += exp(cand_v[j] - top) / sum;
            if (acc >= p.top_p) {
                keep = j + 1u;
                break;
            }
        }
        kept = 0.0;
        for (var j = 0u; j < keep; j++) {
            kept += exp(cand_v[j] - top) / sum;
        }
    }
    var acc = 0.0;
    for (var j = 0u; j < keep; j++) {
        var pr = exp(cand_v[j] - top) / sum;
        if (p.top_p < 1.0) {
            pr = pr / kept;
        }
        acc += pr;
        if (p.uniform < acc) {
            result[0] = cand_i[j];
            return;
        }
    }
    result[0] = cand_i[keep - 1u];
}
