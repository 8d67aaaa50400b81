// RMSNorm of each `width`-wide row of src, times weight, stored into dst
// or added to it (Gemma's post-norms feed the residual directly). One
// workgroup per row; also used per head for QK-norm. `rows` rows per token,
// the chunk's tokens in workgroup z.

struct Params {
    width: u32,
    rows: u32,
    eps: f32,
    accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    if (wg.x >= p.rows) {
        return;
    }
    let row = wg.z * p.rows + wg.x;
    let base = row * p.width;
    var acc = 0.0;
    for (var i = tid; i < p.width; i += 256u) {
        let v = src[base + i];
        acc += v * v;
    }
    sums[tid] = acc;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
        if (tid < k) {
            sums[tid] += sums[tid + k];
        }
        workgroupBarrier();
    }
    let s = 1.0 / sqrt(sums[0] / f32(p.width) + p.eps);
    for (var i = tid; i < p.width; i += 256u) {
        let v = src[base + i] * (s * weight[i]);
        if (p.accumulate != 0u) {
            dst[base + i] += v;
        } else {
            dst[base + i] = v;
        }
    }
}
