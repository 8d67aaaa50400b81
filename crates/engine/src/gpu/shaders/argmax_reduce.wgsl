// The workgroup reduction both argmax passes share (argmax_blocks.wgsl,
// argmax.wgsl): each of the 256 threads offers its best (value, index);
// best_v[0], best_i[0] end up the largest value, lowest index on ties,
// an index of NONE only where no thread saw a number.

const NONE: u32 = 0xffffffffu;
var<workgroup> best_v: array<f32, 256>;
var<workgroup> best_i: array<u32, 256>;

fn reduce_best(tid: u32, bv: f32, bi: u32) {
    best_v[tid] = bv;
    best_i[tid] = bi;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
        if (tid < k) {
            let ov = best_v[tid + k];
            let oi = best_i[tid + k];
            let mine = best_i[tid];
            let take = oi != NONE && (mine == NONE || ov > best_v[tid] || (ov == best_v[tid] && oi < mine));
            if (take) {
                best_v[tid] = ov;
                best_i[tid] = oi;
            }
        }
        workgroupBarrier();
    }
}
