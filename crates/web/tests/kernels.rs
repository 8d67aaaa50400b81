//! The engine's quantized kernels as the browser runs them: built for
//! wasm32 with simd128, run under node by wasm-bindgen-test-runner:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p kindred-web --target wasm32-unknown-unknown --test kernels`.
//! Every kernel against dequantize-then-dot in f64 (tolerance 1e-5 of the
//! sum of |terms|), and the simd128 kernels bit-identical to the scalar ones.
//! Built with relaxed SIMD too (`RUSTFLAGS='-C
//! target-feature=+simd128,+relaxed-simd'`, node with
//! `--experimental-wasm-relaxed-simd`: see DEVELOPERS.md), the relaxed
//! kernels are held to the same.
#![cfg(target_arch = "wasm32")]

use kindred_engine::quant::act::QuantizedActs;
use kindred_engine::quant::dequantize_row;
use kindred_engine::quant::dot::{act_format, dot_rows, Isa};
use kindred_engine::quant::QType;
use kindred_engine::sampler::Rng;
use wasm_bindgen_test::wasm_bindgen_test;


/// Blocks of random bytes with finite f16 scales (magnitudes near 2^-8).
fn random_rows(q: QType, rows: usize, cols: usize, rng: &mut Rng) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..rows * q.row_bytes(cols)).map(|_| rng.next_u64() as u8).collect();
    for b in bytes.chunks_exact_mut(q.block_bytes()) {
        for &at in q.f16_fields() {
            let bits = (0x1c00 + (rng.next_u64() % 0x0800) as u16) | if rng.next_u64() & 1 == 1 { 0x8000 } else { 0 };
            b[at..at + 2].copy_from_slice(&bits.to_le_bytes());
        }
    }
    bytes
}

fn reference(q: QType, row: &[u8], a: &QuantizedActs) -> (f64, f64) {
    let mut w = vec![0f32; a.qs.len()];
    dequantize_row(q, row, &mut w);
    let terms = w.iter().enumerate().map(|(i, &wi)| wi as f64 * a.qs[i] as f64 * a.group_scale[i / 16] as f64);
    terms.fold((0.0, 0.0), |(s, m), v| (s + v, m + v.abs()))
}

#[wasm_bindgen_test]
fn simd128_is_the_kernel_in_use() {
    if cfg!(target_feature = "relaxed-simd") {
        assert_eq!(Isa::best(), Isa::Relaxed);
        assert_eq!(Isa::available(), vec![Isa::Scalar, Isa::Simd128, Isa::Relaxed]);
    } else {
        assert_eq!(Isa::best(), Isa::Simd128);
        assert_eq!(Isa::available(), vec![Isa::Scalar, Isa::Simd128]);
    }
}

#[wasm_bindgen_test]
fn kernels_match_reference_and_each_other() {
    let mut rng = Rng::new(21);
    for q in QType::quantized() {
        // Odd block counts exercise the simd128 kernels' scalar tail.
        let lengths: &[usize] = if q.block_elems() == 32 { &[32, 96, 640] } else { &[256, 768, 1536] };
        for &cols in lengths {
            let (rows, tokens) = (3, 6);
            let bytes = random_rows(q, rows, cols, &mut rng);
            let format = act_format(q).unwrap();
            let acts: Vec<QuantizedActs> = (0..tokens)
                .map(|_| QuantizedActs::quantize(&(0..cols).map(|_| rng.next_f32() - 0.5).collect::<Vec<_>>(), format))
                .collect();
            let rb = q.row_bytes(cols);
            let mut scalar = vec![f32::NAN; rows * tokens];
            dot_rows(Isa::Scalar, q, &bytes, rb, &acts, &mut scalar);
            for isa in Isa::available().into_iter().filter(|&i| i != Isa::Scalar) {
                let mut simd = vec![f32::NAN; rows * tokens];
                dot_rows(isa, q, &bytes, rb, &acts, &mut simd);
                for (r, row) in bytes.chunks_exact(rb).enumerate() {
                    for (t, a) in acts.iter().enumerate() {
                        let (want, mag) = reference(q, row, a);
                        let got = simd[r * tokens + t];
                        assert!((got as f64 - want).abs() <= 1e-5 * mag, "{isa:?} {q:?} cols {cols} row {r} token {t}: {got} vs {want}");
                        assert_eq!(got.to_bits(), scalar[r * tokens + t].to_bits(), "{q:?} cols {cols} row {r} token {t}: {isa:?} vs scalar");
                    }
                }
                // Six tokens go as groups of 4 and 2; one token alone (decode) as well.
                let mut one = vec![f32::NAN; rows];
                dot_rows(isa, q, &bytes, rb, &acts[..1], &mut one);
                for r in 0..rows {
                    assert_eq!(one[r].to_bits(), scalar[r * tokens].to_bits(), "{q:?} cols {cols} row {r} one token: {isa:?} vs scalar");
                }
            }
        }
    }
}

/// Weights at their extremes (every bit set, none set) against activations
/// at full scale (every value +-127, the most the relaxed and i16 products
/// must hold without saturating), all kernels bit-identical to scalar.
#[wasm_bindgen_test]
fn extreme_blocks_match_scalar() {
    for q in QType::quantized() {
        let cols = 4 * q.block_elems() + if q.block_elems() == 32 { 32 } else { 0 };
        let rb = q.row_bytes(cols);
        let mut rng = Rng::new(5);
        let mut bytes = random_rows(q, 2, cols, &mut rng);
        for (r, row) in bytes.chunks_exact_mut(rb).enumerate() {
            let scales = random_rows(q, 1, cols, &mut rng);
            for (b, s) in row.chunks_exact_mut(q.block_bytes()).zip(scales.chunks_exact(q.block_bytes())) {
                b.fill(if r == 0 { 0xff } else { 0x00 });
                // Keep the f16 scales finite (taken from random rows) where each type has them.
                for &i in q.f16_fields() {
                    b[i..i + 2].copy_from_slice(&s[i..i + 2]);
                }
            }
        }
        let format = act_format(q).unwrap();
        let patterns: [fn(usize) -> f32; 3] = [|_| 1.0, |_| -1.0, |i| if i % 3 == 0 { 1.0 } else { -1.0 }];
        let acts: Vec<QuantizedActs> = patterns.iter().map(|f| QuantizedActs::quantize(&(0..cols).map(f).collect::<Vec<_>>(), format)).collect();
        assert!(acts.iter().all(|a| a.qs.iter().all(|&v| v.unsigned_abs() == 127)), "{q:?}: activations at full scale");
        let mut scalar = vec![f32::NAN; 2 * acts.len()];
        dot_rows(Isa::Scalar, q, &bytes, rb, &acts, &mut scalar);
        for isa in Isa::available().into_iter().filter(|&i| i != Isa::Scalar) {
            let mut got = vec![f32::NAN; 2 * acts.len()];
            dot_rows(isa, q, &bytes, rb, &acts, &mut got);
            for (r, row) in bytes.chunks_exact(rb).enumerate() {
                for (t, a) in acts.iter().enumerate() {
                    let (want, mag) = reference(q, row, a);
                    let g = got[r * acts.len() + t];
                    assert!((g as f64 - want).abs() <= 1e-5 * mag, "{isa:?} {q:?} row {r} token {t}: {g} vs {want}");
                    assert_eq!(g.to_bits(), scalar[r * acts.len() + t].to_bits(), "{isa:?} {q:?} row {r} token {t}: vs scalar");
                }
            }
        }
    }
}
