// Decode attention projections in one pass: q, k and v stacked in one
// weight (rows 0..r1 are q, r1..r2 k, the rest v), each row's dot (plus
// its bias, Qwen2) written to its own output. Replaces three mat-vecs and
// the three bias additions. Composed after bytes.wgsl, one format file and
// matvec_core.wgsl.

struct Params {
    rows: u32,
    cols: u32,
    row_bytes: u32,
    r1: u32,
    r2: u32,
    bias: u32,
    grid_x: u32,
    // RMS-norm epsilon (matvec_x_norm.wgsl).
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> k: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;
// The pre-norm's weights, when composed with matvec_x_norm.wgsl.
@group(0) @binding(7) var<storage, read> nw: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    norm_x(tid);
    let row = my_row(wg, p.grid_x, tid);
    let d = rows_dot(row, p.rows - 1u, tid);
    if (tid % TPR != 0u) {
        return;
    }
    for (var i = 0u; i < RPT; i++) {
        let r = row + i;
        if (r >= p.rows) {
            break;
        }
        var s = d[i];
        if (p.bias != 0u) {
            s += b[r];
        }
        if (r < p.r1) {
            q[r] = s;
        } else if (r < p.r2) {
            k[r - p.r1] = s;
        } else {
            v[r - p.r2] = s;
        }
    }
}
