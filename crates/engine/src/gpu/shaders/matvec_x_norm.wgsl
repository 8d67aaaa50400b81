// x as the format files read it, RMS-normalised and scaled by the norm
// weights `nw` on the way: the kernel's x is the residual stream, and the
// block's pre-norm runs inside the mat-vec instead of in a dispatch of
// its own (on an H100 a dispatch costs ~10 us whatever its size). Each
// workgroup sums the squares of x itself; x is a few KB, read from cache.
// The kernel file declares `nw` and `p.eps`.

var<private> x_inv: f32;

fn x4(i: u32) -> vec4<f32> {
    return x[i] * (nw[i] * x_inv);
}

fn x1(i: u32) -> f32 {
    return x[i >> 2u][i & 3u] * (nw[i >> 2u][i & 3u] * x_inv);
}

// Sets x_inv = 1 / rms(x) in every thread (every thread of the workgroup
// must call it, before rows_dot: it holds barriers and uses `sums`).
fn norm_x(tid: u32) {
    var acc = 0.0;
    for (var i = tid; i < p.cols / 4u; i += WG) {
        let v = x[i];
        acc += dot(v, v);
    }
    for (var i = (p.cols / 4u) * 4u + tid; i < p.cols; i += WG) {
        let v = x[i >> 2u][i & 3u];
        acc += v * v;
    }
    sums[tid] = vec4<f32>(acc);
    workgroupBarrier();
    for (var k = WG / 2u; k > 0u; k >>= 1u) {
        if (tid < k) {
            sums[tid] += sums[tid + k];
        }
        workgroupBarrier();
    }
    x_inv = 1.0 / sqrt(sums[0].x / f32(p.cols) + p.eps);
    workgroupBarrier();
}
