//! Throughput of the fused quantized kernels, one thread: GB/s of weight
//! bytes read, per quant type and instruction set, for a matrix that fits
//! in cache (compute speed) and one far larger (memory speed), decode (one
//! token) and prefill (MAX_TOKENS tokens per pass, counted per token).
//! Each figure is the best of many short runs, so that other processes on
//! a shared machine disturb it less. Run: `cargo bench -p kindred-engine --bench kernels [-- TYPE]`.

use std::hint::black_box;
use std::time::Instant;

use kindred_engine::quant::act::QuantizedActs;
use kindred_engine::quant::dot::{act_format, dot_rows, Isa, MAX_TOKENS};
use kindred_engine::quant::QType;
use kindred_engine::sampler::Rng;

/// Row lengths as the models have them: Gemma 3 270M's 640 for the 32-value
/// types, Qwen2.5 1.5B's 1536 for the K-quants.
fn cols(q: QType) -> usize {
    if q.block_elems() == 32 { 640 } else { 1536 }
}

/// Weight bytes per timed run (a few milliseconds), and runs per figure.
const MIN_BYTES: usize = 32 << 20;
const RUNS: usize = 25;

/// Random blocks with small finite scales where each type keeps them.
fn matrix(q: QType, bytes: usize, rng: &mut Rng) -> Vec<u8> {
    let mut m: Vec<u8> = (0..bytes / q.block_bytes() * q.block_bytes()).map(|_| rng.next_u64() as u8).collect();
    for b in m.chunks_exact_mut(q.block_bytes()) {
        for &i in q.f16_fields() {
            b[i..i + 2].copy_from_slice(&half::f16::from_f32(0.01).to_bits().to_le_bytes());
        }
    }
    m
}

/// Seconds per pass over `m` (best of several), all rows in one call as
/// the engine's mat-vecs make them (a call's set-up is shared by its rows).
fn time(isa: Isa, q: QType, m: &[u8], cols: usize, acts: &[QuantizedActs], min_bytes: usize) -> f64 {
    let rb = q.row_bytes(cols);
    let passes = (min_bytes / m.len()).max(1);
    let mut best = f64::INFINITY;
    let mut out = vec![0f32; m.len() / rb * acts.len()];
    for _ in 0..RUNS {
        let t0 = Instant::now();
        for _ in 0..passes {
            dot_rows(isa, q, m, rb, black_box(acts), &mut out);
            black_box(&out);
        }
        best = best.min(t0.elapsed().as_secs_f64() / passes as f64);
    }
    best
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut rng = Rng::new(1);
    println!("{:<5} {:>5} {:<8} {:>14} {:>14} {:>16}", "type", "cols", "isa", "decode cache", "decode memory", "prefill/token");
    for q in QType::quantized() {
        let cols = cols(q);
        if filter.as_deref().is_some_and(|f| !format!("{q:?}").eq_ignore_ascii_case(f)) {
            continue;
        }
        let format = act_format(q).unwrap_or(kindred_engine::quant::act::ActFormat::Q8_0);
        let x: Vec<f32> = (0..cols).map(|_| rng.next_f32() - 0.5).collect();
        let one = [QuantizedActs::quantize(&x, format)];
        let many: Vec<QuantizedActs> = (0..MAX_TOKENS).map(|_| one[0].clone()).collect();
        let small = matrix(q, 192 << 10, &mut rng);
        let big = matrix(q, 128 << 20, &mut rng);
        for isa in Isa::available() {
            let gbs = |m: &[u8], s: f64, tokens: usize| m.len() as f64 * tokens as f64 / s / 1e9;
            let cache = gbs(&small, time(isa, q, &small, cols, &one, MIN_BYTES), 1);
            let memory = gbs(&big, time(isa, q, &big, cols, &one, MIN_BYTES), 1);
            let prefill = gbs(&small, time(isa, q, &small, cols, &many, MIN_BYTES / MAX_TOKENS), MAX_TOKENS);
            println!("{:<5} {cols:>5} {:<8} {cache:>9.2} GB/s {memory:>9.2} GB/s {prefill:>11.2} GB/s", format!("{q:?}"), format!("{isa:?}"));
        }
    }
}
