// First half of the argmax: workgroup g reduces every (g + G * j)-th
// stretch of 256 logits to its best (value, index) pair in partial[g];
// argmax.wgsl then reduces the G pairs. One workgroup over a 262,144-entry
// vocabulary took ~0.4 ms a token on an H100 (one SM of 132 busy); G
// workgroups share the reads.

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<u32>;


@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    var bv = -3.4e38;
    var bi = NONE;
    let stride = 256u * groups.x;
    for (var i = wg.x * 256u + tid; i < p.n; i += stride) {
        let v = logits[i];
        // Ascending i: strictly greater keeps the lowest index of a tie.
        if (v > bv || (bi == NONE && v == v)) {
            bv = v;
            bi = i;
        }
    }
    reduce_best(tid, bv, bi);
    if (tid == 0u) {
        partial[2u * wg.x] = bitcast<u32>(best_v[0]);
        partial[2u * wg.x + 1u] = best_i[0];
    }
}
