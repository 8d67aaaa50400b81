// Fused dequantize + mat-vec for decode: y[out_off + r] (+)= W[r] . x.
// Composed after bytes.wgsl, one format file and matvec_core.wgsl. RPW
// rows a workgroup, numbered over a 2-D grid because a 262,144-row LM
// head exceeds 65,535 workgroups per dimension.

struct Params {
    rows: u32,
    cols: u32,
    row_bytes: u32,
    out_off: u32,
    // 0: y = the product; else y += accumulate * the product.
    accumulate: f32,
    grid_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    norm_x(tid);
    let row = my_row(wg, p.grid_x, tid);
    let s = rows_dot(row, p.rows - 1u, tid);
    if (tid % TPR != 0u) {
        return;
    }
    for (var i = 0u; i < RPT; i++) {
        if (row + i < p.rows) {
            let o = p.out_off + row + i;
            if (p.accumulate != 0.0) {
                y[o] += p.accumulate * s[i];
            } else {
                y[o] = s[i];
            }
        }
    }
}
