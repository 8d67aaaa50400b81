// First pass of sampling on the GPU: z = logits / temperature (1 when
// greedy), into a buffer of its own so the model's logits stay as they are.

struct Params {
    n: u32,
    inv_temp: f32,
    n_recent: u32,
    repeat_penalty: f32,
    frequency_penalty: f32,
    presence_penalty: f32,
    count_input: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + tid;
    if (i < p.n) {
        z[i] = logits[i] * p.inv_temp;
    }
}
