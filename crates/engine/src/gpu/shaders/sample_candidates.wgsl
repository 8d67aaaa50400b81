// First pass of sampling: workgroup w keeps, of its 2,048 logits, those
// the final pick (sample.wgsl) could choose: every value at or above its
// slice's k-th largest (ties included), k = top_k capped at CAP. The
// global top k are among the union of the slices' top k, so sample.wgsl
// runs its exact rule over a few thousand candidates instead of the whole
// vocabulary, which took one workgroup 4-7 ms a token on an H100.
// Survivors are appended, slice after slice in whatever order the slices
// finish, to (cv, ci), their number in count[0]; sample.wgsl sorts them and
// resets the count.

struct Params {
    n: u32,
    top_k: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> cv: array<f32>;
@group(0) @binding(3) var<storage, read_write> ci: array<u32>;
@group(0) @binding(4) var<storage, read_write> count: array<atomic<u32>>;

const CAP: u32 = 1024u;
const PER: u32 = 8u;
const SLICE: u32 = 2048u;

var<workgroup> above: atomic<u32>;
var<workgroup> scan: array<u32, 256>;
var<workgroup> base: u32;

// Larger float, larger key.
fn key(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let start = wg.x * SLICE;
    var k = CAP;
    if (p.top_k > 0u && p.top_k < CAP) {
        k = p.top_k;
    }
    // Thread tid holds elements start + tid + 256 * j; NaN and the slice's
    // tail hold key 0, below every number's key.
    var keys: array<u32, 8>;
    var live = 0u;
    for (var j = 0u; j < PER; j++) {
        let i = start + tid + 256u * j;
        var kk = 0u;
        if (i < p.n) {
            let v = z[i];
            if (v == v) {
                kk = key(v);
                live += 1u;
            }
        }
        keys[j] = kk;
    }
    // The largest key with at least k of the slice's values at or above it
    // (bit by bit); 1 keeps every number when the slice has k or fewer.
    var cut = 1u;
    scan[tid] = live;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (tid < s) {
            scan[tid] += scan[tid + s];
        }
        workgroupBarrier();
    }
    // A uniform load: browsers (Tint) refuse barriers under a branch on a
    // plain read of workgroup memory.
    let numbers = workgroupUniformLoad(&scan[0]);
    if (numbers > k) {
        cut = 0u;
        for (var bit = 31i; bit >= 0i; bit--) {
            let trial = cut | (1u << u32(bit));
            if (tid == 0u) {
                atomicStore(&above, 0u);
            }
            workgroupBarrier();
            var c = 0u;
            for (var j = 0u; j < PER; j++) {
                c += select(0u, 1u, keys[j] >= trial);
            }
            atomicAdd(&above, c);
            workgroupBarrier();
            if (atomicLoad(&above) >= k) {
                cut = trial;
            }
            workgroupBarrier();
        }
    }
    // This thread's survivors, their place in the slice's run (a scan),
    // and the run's place in the output (one global atomic a slice).
    var mine = 0u;
    for (var j = 0u; j < PER; j++) {
        mine += select(0u, 1u, keys[j] >= cut);
    }
    scan[tid] = mine;
    workgroupBarrier();
    for (var s = 1u; s < 256u; s <<= 1u) {
        var add = 0u;
        if (tid >= s) {
            add = scan[tid - s];
        }
        workgroupBarrier();
        scan[tid] += add;
        workgroupBarrier();
    }
    if (tid == 255u) {
        base = atomicAdd(&count[0], scan[255]);
    }
    workgroupBarrier();
    var at = base + scan[tid] - mine;
    for (var j = 0u; j < PER; j++) {
        if (keys[j] >= cut) {
            let i = start + tid + 256u * j;
            cv[at] = z[i];
            ci[at] = i;
            at += 1u;
        }
    }
}
