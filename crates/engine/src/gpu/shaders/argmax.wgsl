// Index of the largest logit, lowest index on ties and NaN never chosen
// (as the CPU sampler does), so greedy decoding reads back 4 bytes instead
// of the whole vocabulary. Second half: one workgroup reduces the p.n
// (value, index) pairs argmax_blocks.wgsl left; an index of NONE marks a
// stretch with no number in it.

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<u32>;
@group(0) @binding(2) var<storage, read_write> result: array<u32>;


@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
    var bv = -3.4e38;
    var bi = NONE;
    for (var g = tid; g < p.n; g += 256u) {
        let v = bitcast<f32>(partial[2u * g]);
        let i = partial[2u * g + 1u];
        if (i != NONE && (bi == NONE || v > bv || (v == bv && i < bi))) {
            bv = v;
            bi = i;
        }
    }
    reduce_best(tid, bv, bi);
    if (tid == 0u) {
        result[0] = select(best_i[0], 0u, best_i[0] == NONE);
    }
}
