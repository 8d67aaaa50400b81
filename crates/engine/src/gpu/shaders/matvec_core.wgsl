// The dots of weight rows with x, shared by the decode mat-vec kernels
// (matvec, matvec_glu, matvec_qkv). Composed after bytes.wgsl and one
// format file (BLOCK_ELEMS, BLOCK_BYTES, SLOTS, slot_dot()); the kernel
// file declares `p` with `cols` and `row_bytes`, `w` and `x`; the kernel
// source begins with RPT, TPR and WG (kernels.rs), and x reaches
// the format file through matvec_x.wgsl or matvec_x_norm.wgsl. A
// workgroup of WG threads takes RPW rows: TPR threads share a group of RPT
// consecutive rows, each thread striding over the slots of its rows (a
// slot is a thread's share of a block), then the group's threads sum
// through workgroup memory.
//
// Several rows a thread share the x a slot reads; measured on an H100
// this only paid for tall matrices with short rows (an LM head), and
// `matvec::layout` picks RPT, TPR and WG per shape. What did pay: x read
// as vec4s by consecutive threads (format files, `x4`), one load where
// there were four, the loads of a warp touching half the sectors (Qwen
// 1.5B decode 240 -> 305 tokens/s, Gemma 270M 453 -> 584).

const RPW: u32 = RPT * (WG / TPR);

var<workgroup> sums: array<vec4<f32>, WG>;

// The first of this thread's RPT rows (rows past the end are clamped by
// rows_dot and skipped by callers).
fn my_row(wg: vec3<u32>, grid_x: u32, tid: u32) -> u32 {
    return (wg.y * grid_x + wg.x) * RPW + (tid / TPR) * RPT;
}

// The RPT rows' dots (from row byte offsets `base`) over slot s.
fn slot_rows(base: vec4<u32>, s: u32) -> vec4<f32> {
    let b = s / SLOTS;
    let off = b * BLOCK_BYTES;
    let xo = b * BLOCK_ELEMS;
    let slot = s % SLOTS;
    var d = vec4<f32>(0.0);
    d.x = slot_dot(base.x + off, slot, xo);
    if (RPT > 1u) {
        d.y = slot_dot(base.y + off, slot, xo);
    }
    if (RPT > 2u) {
        d.z = slot_dot(base.z + off, slot, xo);
    }
    if (RPT > 3u) {
        d.w = slot_dot(base.w + off, slot, xo);
    }
    return d;
}

// W[row + i] . x for i < RPT (RPT <= 4, one vec4 lane a row), rows past
// `last` read as row `last`, for the threads of the group (every thread of
// the workgroup must call it: it holds barriers).
fn rows_dot(row: u32, last: u32, tid: u32) -> vec4<f32> {
    let lane = tid % TPR;
    let seg = tid - lane;
    let nslots = (p.cols / BLOCK_ELEMS) * SLOTS;
    let r = min(vec4<u32>(row) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
    let base = r * p.row_bytes;
    var acc = vec4<f32>(0.0);
    for (var s = lane; s < nslots; s += TPR) {
        acc += slot_rows(base, s);
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
