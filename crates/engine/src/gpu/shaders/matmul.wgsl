// Tiled dequantize + mat-mul for prefill: y[t * y_stride + out_off + r]
// (+)= W[r] . x[t] for the chunk's n tokens (step.n). Composed after
// bytes.wgsl and one format file (its dequant()), so every weight type has
// it. A workgroup owns a 64-row x 64-token tile of y: each pass of the k
// loop dequantizes a 64 x 16 slab of W into workgroup memory once and
// reuses it for all 64 tokens, where a mat-vec per token would decode
// every block n times. Each of the 256 threads accumulates 4 rows x 4
// tokens, strided by 16 so that neighbouring threads read neighbouring
// words of the tiles. Tiles use 8 KiB of the 16 KiB WebGPU guarantees.

struct Params {
    rows: u32,
    cols: u32,
    row_bytes: u32,
    out_off: u32,
    accumulate: u32,
    y_stride: u32,
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

const TR: u32 = 64u;
const TT: u32 = 64u;
const TK: u32 = 16u;
// [k][row] and [k][token]: the inner loop reads a row of each.
var<workgroup> wt: array<f32, 1024>;
var<workgroup> xt: array<f32, 1024>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let r0 = wg.x * TR;
    let t0 = wg.z * TT;
    let n = step.n;
    let tr = tid % 16u;
    let tt = tid / 16u;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) {
        acc[i] = 0.0;
    }
    for (var k0 = 0u; k0 < p.cols; k0 += TK) {
        for (var i = 0u; i < 4u; i++) {
            let e = tid + 256u * i;
            let c = e % TK;
            let r = e / TK;
            let gc = k0 + c;
            var wv = 0.0;
            if (r0 + r < p.rows && gc < p.cols) {
                let blk = (r0 + r) * p.row_bytes + (gc / BLOCK_ELEMS) * BLOCK_BYTES;
                wv = dequant(blk, gc % BLOCK_ELEMS);
            }
            wt[c * TR + r] = wv;
            var xv = 0.0;
            if (t0 + r < n && gc < p.cols) {
                xv = x[(t0 + r) * p.cols + gc];
            }
            xt[c * TT + r] = xv;
        }
        workgroupBarrier();
        for (var c = 0u; c < TK; c++) {
            var a: array<f32, 4>;
            var b: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                a[i] = wt[c * TR + tr + 16u * i];
                b[i] = xt[c * TT + tt + 16u * i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] += a[i] * b[j];
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let r = r0 + tr + 16u * i;
        for (var j = 0u; j < 4u; j++) {
            let t = t0 + tt + 16u * j;
            if (r < p.rows && t < n) {
                let o = t * p.y_stride + p.out_off + r;
                if (p.accumulate != 0u) {
                    y[o] += acc[i * 4u + j];
                } else {
                    y[o] = acc[i * 4u + j];
                }
            }
        }
    }
}
