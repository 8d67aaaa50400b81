// Fused dequantize + mat-vec for decode: y[out_off + r] (+)= W[r] . x.
// Composed after bytes.wgsl and one format file, which supplies
// BLOCK_ELEMS, BLOCK_BYTES, SLOTS and slot_dot(). One workgroup per row:
// its 64 threads stride over the row's slots (a slot is a thread's share
// of a block), then sum through workgroup memory. Rows are numbered over a
// 2-D grid because a 262,144-row LM head exceeds 65,535 workgroups per
// dimension.

struct Params {
    rows: u32,
    cols: u32,
    row_bytes: u32,
    out_off: u32,
    accumulate: u32,
    grid_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;
var<workgroup> sums: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let row = wg.y * p.grid_x + wg.x;
    if (row >= p.rows) {
        return;
    }
    let nslots = (p.cols / BLOCK_ELEMS) * SLOTS;
    let base = row * p.row_bytes;
    var acc = 0.0;
    for (var s = tid; s < nslots; s += WG) {
        let b = s / SLOTS;
        acc += slot_dot(base + b * BLOCK_BYTES, s % SLOTS, b * BLOCK_ELEMS);
    }
    sums[tid] = acc;
    workgroupBarrier();
    for (var k = WG / 2u; k > 0u; k >>= 1u) {
        if (tid < k) {
            sums[tid] += sums[tid + k];
        }
        workgroupBarrier();
    }
    if (tid == 0u) {
        let o = p.out_off + row;
        if (p.accumulate != 0u) {
            y[o] += sums[0];
        } else {
            y[o] = sums[0];
        }
    }
}
