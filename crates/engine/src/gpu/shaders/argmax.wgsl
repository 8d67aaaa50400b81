// Index of the largest logit, lowest index on ties and NaN never chosen
// (as the CPU sampler does), so greedy decoding reads back 4 bytes instead
// of the whole vocabulary. One workgroup strides over all logits.

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> result: array<u32>;

var<workgroup> best_v: array<f32, 256>;
var<workgroup> best_i: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
    var bv = -3.4e38;
    var bi = 0xffffffffu;
    for (var i = tid; i < p.n; i += 256u) {
        let v = logits[i];
        // Ascending i: strictly greater keeps the lowest index of a tie.
        if (v > bv || (bi == 0xffffffffu && v == v)) {
            bv = v;
            bi = i;
        }
    }
    best_v[tid] = bv;
    best_i[tid] = bi;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
        if (tid < k) {
            let ov = best_v[tid + k];
            let oi = best_i[tid + k];
            let mine = best_i[tid];
            let take = oi != 0xffffffffu && (mine == 0xffffffffu || ov > best_v[tid] || (ov == best_v[tid] && oi < mine));
            if (take) {
                best_v[tid] = ov;
                best_i[tid] = oi;
            }
        }
        workgroupBarrier();
    }
    if (tid == 0u) {
        result[0] = select(best_i[0], 0u, best_i[0] == 0xffffffffu);
    }
}
