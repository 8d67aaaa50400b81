// Repetition, frequency and presence penalties of the recent tokens, as the
// CPU sampler applies them before the temperature: recent holds distinct
// (token, count) pairs, so each z entry is written by one thread. Then,
// as on the CPU, single logits move by the CPU's biases (DRY's penalties,
// the end-of-turn raise; distinct tokens), and the suppressed tokens (a
// chat's script guard) are ruled out.
//
// A step queued before the CPU knew its input token (model.rs, `Ahead`)
// cannot list that token: with `count_input` set it counts once more here,
// read from the step's tokens (the CPU's pairs then cover one token less
// of the window).

struct Params {
    n: u32,
    inv_temp: f32,
    n_recent: u32,
    repeat_penalty: f32,
    frequency_penalty: f32,
    presence_penalty: f32,
    count_input: u32,
    n_biases: u32,
    n_suppressed: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<storage, read> recent: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> tokens: array<u32>;
@group(0) @binding(5) var<storage, read> suppressed: array<u32>;
// (token, bits of the f32 added to its logit)
@group(0) @binding(6) var<storage, read> biases: array<vec2<u32>>;

// Zero at the start, as all workgroup memory.
var<workgroup> listed: atomic<u32>;

fn penalize(t: u32, count: u32) {
    var l = logits[t];
    if (p.repeat_penalty != 1.0) {
        l = select(l * p.repeat_penalty, l / p.repeat_penalty, l > 0.0);
    }
    l -= p.frequency_penalty * f32(count) + p.presence_penalty;
    z[t] = l * p.inv_temp;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) tid: u32) {
    let input = select(0xffffffffu, tokens[0], p.count_input != 0u);
    for (var r = tid; r < p.n_recent; r += 64u) {
        let t = recent[r].x;
        if (t >= p.n) {
            continue;
        }
        var count = recent[r].y;
        if (t == input) {
            count += 1u;
            atomicStore(&listed, 1u);
        }
        penalize(t, count);
    }
    workgroupBarrier();
    if (tid == 0u && input < p.n && atomicLoad(&listed) == 0u) {
        penalize(input, 1u);
    }
    workgroupBarrier();
    for (var r = tid; r < p.n_biases; r += 64u) {
        let t = biases[r].x;
        if (t < p.n) {
            z[t] += bitcast<f32>(biases[r].y) * p.inv_temp;
        }
    }
    // After every write above: a suppressed token may also be a recent one.
    workgroupBarrier();
    for (var r = tid; r < p.n_suppressed; r += 64u) {
        let t = suppressed[r];
        if (t < p.n) {
            z[t] = -3.0e38;
        }
    }
}
