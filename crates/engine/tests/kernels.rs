//! Every quant type's dequantizer and fused dot product against candle's
//! own dequantizer (an independent implementation) on random blocks.

use candle_core::quantized::QTensor;
use candle_core::{Device, Tensor};
use kindred_engine::quant::{dequantize_row, dot_row, QType};
use kindred_engine::sampler::Rng;

/// The types candle also reads.
fn types() -> impl Iterator<Item = QType> {
    QType::ALL.iter().copied().filter(|q| q.to_ggml().is_some())
}

fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| (rng.next_f32() - 0.5) * 4.0).collect()
}

fn quantized(q: QType, rows: usize, cols: usize, rng: &mut Rng) -> (Vec<u8>, Vec<f32>) {
    let t = Tensor::from_vec(random(rng, rows * cols), (rows, cols), &Device::Cpu).unwrap();
    let qt = QTensor::quantize(&t, q.to_ggml().unwrap()).unwrap();
    let reference = qt.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    (qt.data().unwrap().into_owned(), reference)
}

#[test]
fn dequantize_matches_candle() {
    let mut rng = Rng::new(42);
    for q in types() {
        let (rows, cols) = (3, 512);
        let (bytes, want) = quantized(q, rows, cols, &mut rng);
        let rb = q.row_bytes(cols);
        for r in 0..rows {
            let mut got = vec![0f32; cols];
            dequantize_row(q, &bytes[r * rb..(r + 1) * rb], &mut got);
            for (i, (g, w)) in got.iter().zip(&want[r * cols..(r + 1) * cols]).enumerate() {
                assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{q:?} row {r} elem {i}: {g} vs {w}");
            }
        }
    }
}

#[test]
fn fused_dot_matches_dequantize_then_dot() {
    let mut rng = Rng::new(7);
    for q in types() {
        for cols in [256usize, 512, 2048] {
            let (bytes, w) = quantized(q, 1, cols, &mut rng);
            let x = random(&mut rng, cols);
            let want: f64 = w.iter().zip(&x).map(|(a, b)| *a as f64 * *b as f64).sum();
            let got = dot_row(q, &bytes, &x) as f64;
            let scale: f64 = w.iter().zip(&x).map(|(a, b)| (*a as f64 * *b as f64).abs()).sum();
            assert!((got - want).abs() <= 1e-5 * scale.max(1.0), "{q:?} cols {cols}: {got} vs {want}");
        }
    }
}

#[test]
fn float_rows_of_odd_length() {
    let mut rng = Rng::new(3);
    for q in [QType::F32, QType::F16] {
        let cols = 37;
        let (bytes, w) = quantized(q, 1, cols, &mut rng);
        let x = random(&mut rng, cols);
        let want: f32 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
        assert!((dot_row(q, &bytes, &x) - want).abs() < 1e-4, "{q:?}");
    }
}
