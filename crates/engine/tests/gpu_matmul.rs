//! The tiled prefill mat-mul against the CPU on random data: every weight
//! type (the two test models' Q5_0, Q8_0, Q4_K, Q6_K and F32, and the
//! rest, which share the same per-format dequantizer), odd shapes that leave
//! partial row, token and k tiles, one-row tensors, and tensors split
//! across bindings.
//!
//! Needs a GPU adapter (lavapipe will do); with none the tests fail.
#![cfg(feature = "gpu")]

use kindred_engine::gpu::{GpuOptions, Oneshot};
use kindred_engine::quant::{dequantize_row, QType};
use kindred_engine::sampler::Rng;

fn gpu(opts: GpuOptions) -> Oneshot {
    match Oneshot::new_blocking(&opts) {
        Ok(o) => o,
        Err(e) => panic!("no GPU adapter for the GPU tests ({e}); install a Vulkan driver (mesa-vulkan-drivers gives lavapipe)"),
    }
}

fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| (rng.next_f32() - 0.5) * 4.0).collect()
}

fn quantized(q: QType, rows: usize, cols: usize, rng: &mut Rng) -> Vec<u8> {
    kindred_engine::quant::quantize(q, &random(rng, rows * cols))
}

/// `n` tokens through the GPU mat-mul against f64 dots of the CPU's
/// dequantized rows, within 1e-5 of the sum of |w * x|; returns the
/// weight's binding chunks.
fn check_matmul(o: &mut Oneshot, q: QType, rows: usize, cols: usize, n: usize, rng: &mut Rng) -> usize {
    let bytes = quantized(q, rows, cols, rng);
    let x = random(rng, n * cols);
    let w = o.upload("w", q, rows, cols, &bytes).unwrap();
    let got = pollster::block_on(o.matmul(&w, &x, n)).unwrap();
    assert_eq!(got.len(), n * rows);
    let rb = q.row_bytes(cols);
    let mut deq = vec![0f32; cols];
    for r in 0..rows {
        dequantize_row(q, &bytes[r * rb..(r + 1) * rb], &mut deq);
        for t in 0..n {
            let xt = &x[t * cols..(t + 1) * cols];
            let want: f64 = deq.iter().zip(xt).map(|(a, b)| *a as f64 * *b as f64).sum();
            let scale: f64 = deq.iter().zip(xt).map(|(a, b)| (*a as f64 * *b as f64).abs()).sum();
            let g = got[t * rows + r] as f64;
            assert!((g - want).abs() <= 1e-5 * scale.max(1.0), "{q:?} {rows}x{cols}, {n} tokens: row {r} token {t}: gpu {g} cpu {want}");
        }
    }
    w.chunks.len()
}

const MODEL_TYPES: &[QType] = &[QType::Q5_0, QType::Q8_0, QType::Q4K, QType::Q6K, QType::F32];

#[test]
fn matmul_model_types_match_cpu_with_partial_tiles() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(21);
    for &q in MODEL_TYPES {
        let k = if q.block_elems() == 256 { [256, 512] } else if q.block_elems() == 32 { [32, 640] } else { [37, 301] };
        // (rows, cols, tokens): one row, partial row tiles (67, 130), a
        // single token, partial token tiles (20, 70 spans two).
        for (rows, cols, n) in [(1, k[0], 5), (67, k[1], 20), (130, k[0], 1), (65, k[1], 70)] {
            check_matmul(&mut o, q, rows, cols, n, &mut rng);
        }
    }
}

#[test]
fn matmul_other_types_match_cpu() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(22);
    for &q in QType::ALL.iter().filter(|q| !MODEL_TYPES.contains(q)) {
        let cols = if q.block_elems() == 256 { 512 } else if q.block_elems() == 32 { 96 } else { 45 };
        check_matmul(&mut o, q, 33, cols, 9, &mut rng);
    }
}

/// Rows split across 64 KiB bindings: each chunk's op writes its slice of
/// every token's output row.
#[test]
fn matmul_splits_tensors_larger_than_a_binding() {
    let mut o = gpu(GpuOptions { max_binding_bytes: Some(1 << 16), ..Default::default() });
    let mut rng = Rng::new(23);
    let chunks = check_matmul(&mut o, QType::Q8_0, 200, 640, 17, &mut rng);
    assert!(chunks >= 2, "{chunks} chunks");
    let chunks = check_matmul(&mut o, QType::Q6K, 12, 8960, 3, &mut rng);
    assert!(chunks >= 2, "{chunks} chunks");
}

#[test]
fn matmul_rejects_mismatched_inputs() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(24);
    let bytes = quantized(QType::Q8_0, 4, 64, &mut rng);
    let w = o.upload("w", QType::Q8_0, 4, 64, &bytes).unwrap();
    assert!(pollster::block_on(o.matmul(&w, &[0.0; 100], 2)).is_err());
    assert!(pollster::block_on(o.matmul(&w, &[], 0)).is_err());
}
