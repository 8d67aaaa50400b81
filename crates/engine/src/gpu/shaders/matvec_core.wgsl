// The dot of one weight row with x, shared by the decode mat-vec kernels
// (matvec, matvec_glu, matvec_qkv). Composed after bytes.wgsl and one
// format file (BLOCK_ELEMS, BLOCK_BYTES, SLOTS, slot_dot()); the kernel
// file declares `p` with `cols` and `row_bytes`, `w` and `x`; the kernel
// source begins with RPW and TPR (kernels.rs). A workgroup of 64 threads
// takes RPW rows, TPR threads a row: each strides over its row's slots (a
// slot is a thread's share of a block), then the row's threads sum
// through workgroup memory.
//
// Measured on an H100: for tall matrices (a 1.5B model's 8,960-row
// feed-forward, LM heads) one row a workgroup was latency-bound, few rows
// in flight per multiprocessor, and 4 rows of 16 threads ran 15-35%
// faster; for the short ones (under 4,096 rows, long rows such as the
// down projection's 8,960 columns) it was up to 70% slower, too few
// workgroups to fill the GPU. `matvec::rows_per_group` picks.

var<workgroup> sums: array<f32, 64>;

// The row this thread works on (rows past the end are clamped by callers).
fn my_row(wg: vec3<u32>, grid_x: u32, tid: u32) -> u32 {
    return (wg.y * grid_x + wg.x) * RPW + tid / TPR;
}

// W[row] . x, for the threads of the row (every thread of the workgroup
// must call it: it holds barriers). Row `row` must exist.
fn row_dot(row: u32, tid: u32) -> f32 {
    let lane = tid % TPR;
    let seg = tid - lane;
    let nslots = (p.cols / BLOCK_ELEMS) * SLOTS;
    let base = row * p.row_bytes;
    var acc = 0.0;
    for (var s = lane; s < nslots; s += TPR) {
        let b = s / SLOTS;
        acc += slot_dot(base + b * BLOCK_BYTES, s % SLOTS, b * BLOCK_ELEMS);
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
    // The next row_dot of this workgroup overwrites sums.
    workgroupBarrier();
    return total;
}
