// The non-linear grid IQ4_NL and IQ4_XS nibbles index (quant/iq4_nl.rs
// VALUES), and a lookup of four nibbles at once.

var<private> IQ4_GRID: array<f32, 16> = array<f32, 16>(
    -127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0, 1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0,
);

fn iq4_values(n: vec4<u32>) -> vec4<f32> {
    return vec4<f32>(IQ4_GRID[n.x], IQ4_GRID[n.y], IQ4_GRID[n.z], IQ4_GRID[n.w]);
}

