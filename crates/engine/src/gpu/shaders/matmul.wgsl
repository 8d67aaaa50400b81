// Tiled dequantize + mat-mul for prefill: y[t * y_stride + out_off + r]
// (+)= W[r] . x[t] for the chunk's n tokens (step.n). Composed after
// bytes.wgsl and one format file (its dequant()), so every weight type has
// it. A workgroup owns a 64-row x 64-token tile of y: each pass of the k
// loop dequantizes a 64 x 32 slab of W into workgroup memory once and
// reuses it for all 64 tokens. Each of the 256 threads accumulates 4 rows
// x 4 tokens in four vec4 registers (rows 16 apart, so that neighbouring
// threads read neighbouring words of the tiles).
//
// Measured on an H100 (Vulkan): the first version, with 16-wide slabs,
// one dequant() per thread per slab row and its accumulators in a
// function-scope array, ran the 1.5B model's prefill at 27 tokens/s.
// Here each thread decodes 8 consecutive weights of one row (their block
// header is read once and stays in cache) and the accumulators are plain
// vectors the compiler keeps in registers. Tiles use the 16 KiB of
// workgroup memory WebGPU guarantees.

struct Params {
    rows: u32,
    cols: u32,
    row_bytes: u32,
    out_off: u32,
    // 0: y = the product; else y += accumulate * the product.
    accumulate: f32,
    y_stride: u32,
    // Byte offset of row 0 in the binding: a part of stacked weights.
    w_off: u32,
}

struct Step {
    pos: u32,
    embed_row: u32,
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

// The format file's slot_dot() reads x through these; this kernel never
// calls it.
fn x4(i: u32) -> vec4<f32> {
    return vec4<f32>(x[4u * i], x[4u * i + 1u], x[4u * i + 2u], x[4u * i + 3u]);
}

fn x1(i: u32) -> f32 {
    return x[i];
}

const TR: u32 = 64u;
const TT: u32 = 64u;
const TK: u32 = 32u;
// [k][row] and [k][token]: the inner loop reads a row of each.
var<workgroup> wt: array<f32, 2048>;
var<workgroup> xt: array<f32, 2048>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let r0 = wg.x * TR;
    let t0 = wg.z * TT;
    let n = step.n;
    let tr = tid % 16u;
    let tt = tid / 16u;
    // Loading: thread tid fills 8 consecutive k of slab row (and token) lr.
    let lr = tid / 4u;
    let lc = (tid % 4u) * 8u;
    let wrow = r0 + lr < p.rows;
    let xrow = t0 + lr < n;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < p.cols; k0 += TK) {
        for (var i = 0u; i < 8u; i++) {
            let gc = k0 + lc + i;
            var wv = 0.0;
            var xv = 0.0;
            if (gc < p.cols) {
                if (wrow) {
                    let blk = p.w_off + (r0 + lr) * p.row_bytes + (gc / BLOCK_ELEMS) * BLOCK_BYTES;
                    wv = dequant(blk, gc % BLOCK_ELEMS);
                }
                if (xrow) {
                    xv = x[(t0 + lr) * p.cols + gc];
                }
            }
            wt[(lc + i) * TR + lr] = wv;
            xt[(lc + i) * TT + lr] = xv;
        }
        workgroupBarrier();
        for (var c = 0u; c < TK; c++) {
            let wb = c * TR + tr;
            let xb = c * TT + tt;
            let a = vec4<f32>(wt[wb], wt[wb + 16u], wt[wb + 32u], wt[wb + 48u]);
            acc0 += a * xt[xb];
            acc1 += a * xt[xb + 16u];
            acc2 += a * xt[xb + 32u];
            acc3 += a * xt[xb + 48u];
        }
        workgroupBarrier();
    }
    store(r0 + tr, t0 + tt, acc0, n);
    store(r0 + tr, t0 + tt + 16u, acc1, n);
    store(r0 + tr, t0 + tt + 32u, acc2, n);
    store(r0 + tr, t0 + tt + 48u, acc3, n);
}

// Rows r, r + 16, r + 32, r + 48 of token t.
fn store(r: u32, t: u32, v: vec4<f32>, n: u32) {
    if (t >= n) {
        return;
    }
    for (var i = 0u; i < 4u; i++) {
        let row = r + 16u * i;
        if (row < p.rows) {
            let o = t * p.y_stride + p.out_off + row;
            if (p.accumulate != 0.0) {
                y[o] += p.accumulate * v[i];
            } else {
                y[o] = v[i];
            }
        }
    }
}
