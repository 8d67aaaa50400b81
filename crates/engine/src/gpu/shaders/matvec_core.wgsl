// The dots of weight rows with x, shared by the decode mat-vec kernels
// (matvec, matvec_glu, matvec_qkv). Composed after bytes.wgsl and one
// format file (BLOCK_ELEMS, BLOCK_BYTES, SLOTS, slot_dot()); the kernel
// file declares `p` with `cols` and `row_bytes`, `w` and `x`; the kernel
// source begins with RPT, TPR and WG (kernels.rs). A workgroup of WG threads
// takes RPW rows: TPR threads share a group of RPT consecutive rows, each
// thread striding over the slots of its rows (a slot is a thread's share
// of a block), then the group's threads sum through workgroup memory.
//
// Several rows a thread share the x a slot reads; measured on an H100
// this only paid for tall matrices with short rows (an LM head), and
// `matvec::layout` picks RPT, TPR and WG per shape. What did pay: x read
// as vec4s by consecutive threads (format files, `x4`), one load where
// there were four, the loads of a warp touching half the sectors (Qwen
// 1.5B decode 240 -> 305 tokens/s, Gemma 270M 453 -> 584).

const RPW: u32 = RPT * (WG / TPR);

// x as the format files read it: the vec4 at float 4i, or one float.
// The mat-vec kernels bind x as vec4s so a thread's four consecutive
// floats are one load (x buffers are padded to 16 bytes: buffers.rs).
fn x4(i: u32) -> vec4<f32> {
    return x[i];
}

fn x1(i: u32) -> f32 {
    return x[i >> 2u][i & 3u];
}

var<workgroup> sums: array<vec4<f32>, WG>;

// The first of this thread's RPT rows (rows past the end are clamped by
// rows_dot and skipped by callers).
fn my_row(wg: vec3<u32>, grid_x: u32, tid: u32) -> u32 {
    return (wg.y * grid_x + wg.x) * RPW + (tid / TPR) * RPT;
}

// W[row + i] . x for i < RPT (RPT <= 4), rows past `last` read as row
// `last`, for the threads of the group (every thread of the workgroup must
// call it: it holds barriers). The rows are written out one by one rather
// than looped over an array: a function-scope array indexed in a loop the
// compiler does not unroll lives in local memory, which measured 2x slower.
fn rows_dot(row: u32, last: u32, tid: u32) -> vec4<f32> {
    let lane = tid % TPR;
    let seg = tid - lane;
    let nslots = (p.cols / BLOCK_ELEMS) * SLOTS;
    let b0 = min(row, last) * p.row_bytes;
    let b1 = min(row + 1u, last) * p.row_bytes;
    let b2 = min(row + 2u, last) * p.row_bytes;
    let b3 = min(row + 3u, last) * p.row_bytes;
    var acc = vec4<f32>(0.0);
    for (var s = lane; s < nslots; s += TPR) {
        let b = s / SLOTS;
        let off = b * BLOCK_BYTES;
        let xo = b * BLOCK_ELEMS;
        let slot = s % SLOTS;
        acc.x += slot_dot(b0 + off, slot, xo);
        if (RPT > 1u) {
            acc.y += slot_dot(b1 + off, slot, xo);
        }
        if (RPT > 2u) {
            acc.z += slot_dot(b2 + off, slot, xo);
        }
        if (RPT > 3u) {
            acc.w += slot_dot(b3 + off, slot, xo);
        }
    }
    sums[tid] = acc;
    workgroupBarrier();
    for (var k = TPR / 2u; k > 0u; k >>= 1u) {
        if (lane < k) {
            sums[tid] += sums[tid + k];
        }
        workgroupBarrier();
    }
    let total = sums[seg];
    // The next rows_dot of this workgroup overwrites sums.
    workgroupBarrier();
    return total;
}
