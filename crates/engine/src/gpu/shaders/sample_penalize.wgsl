// Repetition, frequency and presence penalties of the recent tokens, as the
// CPU sampler applies them before the temperature: recent holds distinct
// (token, count) pairs, so each z entry is written by one thread. Then the
// end-of-turn tokens are raised by `end_bias` (the sampler's `end_boost`),
// after the penalties as on the CPU, and the suppressed tokens (a chat's
// script guard) are ruled out.
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
    end_bias: f32,
    n_ends: u32,
    n_suppressed: u32,
    ends: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<storage, read> recent: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> tokens: array<u32>;
@group(0) @binding(5) var<storage, read> suppressed: array<u32>;

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
    if (tid == 0u) {
        for (var e = 0u; e < min(p.n_ends, 4u); e += 1u) {
            if (p.ends[e] < p.n) {
                z[p.ends[e]] += p.end_bias * p.inv_temp;
            }
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
