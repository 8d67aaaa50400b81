// Decode feed-forward in one pass: gate and up stacked in one weight
// ([gate; up], `rows` rows each), y[r] = act(W[r] . x) * W[rows + r] . x.
// Replaces two mat-vecs and glu.wgsl's pass over memory. Composed after
// bytes.wgsl, one format file, matvec_core.wgsl and act.wgsl.

struct Params {
    rows: u32,
    cols: u32,
    row_bytes: u32,
    kind: u32,
    grid_x: u32,
    // RMS-norm epsilon (matvec_x_norm.wgsl).
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// The pre-norm's weights, when composed with matvec_x_norm.wgsl.
@group(0) @binding(4) var<storage, read> nw: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    norm_x(tid);
    let row = my_row(wg, p.grid_x, tid);
    let r = min(row, p.rows - 1u);
    let g = rows_dot(r, p.rows - 1u, tid);
    let u = rows_dot(p.rows + r, 2u * p.rows - 1u, tid);
    if (tid % TPR != 0u) {
        return;
    }
    for (var i = 0u; i < RPT; i++) {
        if (row + i < p.rows) {
            y[row + i] = act(g[i], p.kind) * u[i];
        }
    }
}
