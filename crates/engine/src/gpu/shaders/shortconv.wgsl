// An LFM2 convolution layer's output for the chunk's tokens (z): each channel's causal
// depthwise convolution of the stored B * x over the last `taps` positions (zeros before the
// first), gated by C. `taps` holds each channel's weights, oldest position first.

struct Params {
    d: u32,
    taps: u32,
}

struct Step {
    pos: u32,
    embed_row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bcx: array<f32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read> taps: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> step: Step;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let ch = gid.x;
    if (ch >= p.d) {
        return;
    }
    let t = gid.z;
    let pos = step.pos + t;
    var s = 0.0;
    for (var j = 0u; j < p.taps; j++) {
        // Tap j reads position pos - (taps - 1) + j.
        if (pos + j + 1u >= p.taps) {
            let q = pos + j + 1u - p.taps;
            let pair = unpack2x16float(state[(q * p.d + ch) / 2u]);
            s += taps[ch * p.taps + j] * select(pair.x, pair.y, (ch & 1u) == 1u);
        }
    }
    y[t * p.d + ch] = bcx[t * 3u * p.d + p.d + ch] * s;
}
