// x as the format files read it, straight from the kernel's binding: the
// vec4 at float 4i, or one float. The mat-vec kernels bind x as vec4s so a
// thread's four consecutive floats are one load (x buffers are padded to
// 16 bytes: buffers.rs).

fn x4(i: u32) -> vec4<f32> {
    return x[i];
}

fn x1(i: u32) -> f32 {
    return x[i >> 2u][i & 3u];
}

// Nothing to prepare (matvec_x_norm.wgsl normalises here).
fn norm_x(tid: u32) {}
