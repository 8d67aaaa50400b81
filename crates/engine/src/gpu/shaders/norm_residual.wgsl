// Gemma's sandwich norms meet here: x += rms_norm(o) * post (the block's
// output into the residual), then h = rms_norm(x) * pre (the next block's
// input), one workgroup a token (z). Two rms_norm.wgsl passes in one
// dispatch, with its reduction order, so the floats are the same.

struct Params {
    width: u32,
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> o: array<f32>;
@group(0) @binding(2) var<storage, read> post: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read> pre: array<f32>;
@group(0) @binding(5) var<storage, read_write> h: array<f32>;

var<workgroup> sums: array<f32, 256>;

// 1 / rms of the values each thread summed the squares of.
fn inv_rms(acc: f32, tid: u32) -> f32 {
    sums[tid] = acc;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
        if (tid < k) {
            sums[tid] += sums[tid + k];
        }
        workgroupBarrier();
    }
    let s = 1.0 / sqrt(sums[0] / f32(p.width) + p.eps);
    workgroupBarrier();
    return s;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let base = wg.z * p.width;
    var acc = 0.0;
    for (var i = tid; i < p.width; i += 256u) {
        let v = o[base + i];
        acc += v * v;
    }
    let s1 = inv_rms(acc, tid);
    acc = 0.0;
    for (var i = tid; i < p.width; i += 256u) {
        let r = x[base + i] + o[base + i] * (s1 * post[i]);
        x[base + i] = r;
        acc += r * r;
    }
    let s2 = inv_rms(acc, tid);
    for (var i = tid; i < p.width; i += 256u) {
        h[base + i] = x[base + i] * (s2 * pre[i]);
    }
}
