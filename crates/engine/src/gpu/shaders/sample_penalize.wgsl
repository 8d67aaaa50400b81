// Repetition, frequency and presence penalties of the recent tokens, as the
// CPU sampler applies them before the temperature: recent holds distinct
// (token, count) pairs, so each z entry is written by one thread.

struct Params {
    n: u32,
    inv_temp: f32,
    n_recent: u32,
    repeat_penalty: f32,
    frequency_penalty: f32,
    presence_penalty: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<storage, read> recent: array<vec2<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) tid: u32) {
    for (var r = tid; r < p.n_recent; r += 64u) {
        let t = recent[r].x;
        if (t >= p.n) {
            continue;
        }
        var l = logits[t];
        if (p.repeat_penalty != 1.0) {
            l = select(l * p.repeat_penalty, l / p.repeat_penalty, l > 0.0);
        }
        l -= p.frequency_penalty * f32(recent[r].y) + p.presence_penalty;
        z[t] = l * p.inv_temp;
    }
}
