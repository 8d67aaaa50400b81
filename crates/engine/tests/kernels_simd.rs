//! The fused quantized kernels (`quant::dot`), every instruction set this
//! machine runs (scalar always, AVX2 and AVX-512 where present), against
//! dequantize-then-dot in f64 of the same 8-bit activations. Tolerance:
//! 1e-5 of the sum of |terms| (the kernels combine 16-value groups in f32;
//! the group sums are exact integers).

use kindred_engine::quant::act::QuantizedActs;
use kindred_engine::quant::dequantize_row;
use kindred_engine::quant::dot::{act_format, dot_row, dot_rows, Isa, MAX_TOKENS};
use kindred_engine::quant::QType;
use kindred_engine::sampler::Rng;

const TOL: f64 = 1e-5;

fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| (rng.next_f32() - 0.5) * 4.0).collect()
}

/// `rows` rows quantized by candle (an independent quantizer) where it
/// knows the type, by the engine's own rounding for the IQ4 types.
fn candle_rows(q: QType, rows: usize, cols: usize, rng: &mut Rng) -> Vec<u8> {
    kindred_engine::quant::quantize(q, &random(rng, rows * cols))
}

/// Blocks of random bytes, with finite f16 scales: every bit pattern a
/// file may hold (Q8_0's -128, Q6_K's scale -128, 6-bit K scales of 63),
/// which a quantizer never produces.
fn random_rows(q: QType, rows: usize, cols: usize, rng: &mut Rng) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..rows * q.row_bytes(cols)).map(|_| rng.next_u64() as u8).collect();
    for b in bytes.chunks_exact_mut(q.block_bytes()) {
        for &at in q.f16_fields() {
            let d = half::f16::from_f32((rng.next_f32() - 0.5) * 0.1).to_bits().to_le_bytes();
            b[at..at + 2].copy_from_slice(&d);
        }
    }
    bytes
}

/// The dot in f64 of the dequantized row and dequantized activations, and
/// the sum of |terms|.
fn reference(q: QType, row: &[u8], a: &QuantizedActs) -> (f64, f64) {
    let mut w = vec![0f32; a.qs.len()];
    dequantize_row(q, row, &mut w);
    let terms = w.iter().enumerate().map(|(i, &wi)| wi as f64 * a.qs[i] as f64 * a.group_scale[i / 16] as f64);
    terms.fold((0.0, 0.0), |(s, m), v| (s + v, m + v.abs()))
}

fn check(q: QType, bytes: &[u8], rows: usize, cols: usize, acts: &[QuantizedActs], what: &str) {
    let rb = q.row_bytes(cols);
    for isa in Isa::available() {
        for r in 0..rows {
            let row = &bytes[r * rb..(r + 1) * rb];
            let mut got = vec![f32::NAN; acts.len()];
            dot_row(isa, q, row, acts, &mut got);
            for (t, a) in acts.iter().enumerate() {
                let (want, mag) = reference(q, row, a);
                let err = (got[t] as f64 - want).abs();
                assert!(err <= TOL * mag.max(1e-30), "{what} {q:?} {isa:?} cols {cols} row {r} token {t}: {} vs {want}", got[t]);
            }
        }
    }
}

fn acts_for(q: QType, tokens: usize, cols: usize, rng: &mut Rng) -> Vec<QuantizedActs> {
    let format = act_format(q).unwrap();
    (0..tokens).map(|_| QuantizedActs::quantize(&random(rng, cols), format)).collect()
}

fn lengths(q: QType) -> &'static [usize] {
    match q.block_elems() {
        // Rows of 1, 3, 20 and 64 blocks: the SIMD kernels take 4 (native) or
        // 2 (wasm) blocks a step and finish odd ones with the scalar code.
        32 => &[32, 96, 640, 2048],
        _ => &[256, 768, 1536, 2304],
    }
}

#[test]
fn kernels_match_reference_on_quantized_rows() {
    let mut rng = Rng::new(11);
    for q in QType::quantized() {
        for &cols in lengths(q) {
            let rows = 5;
            let bytes = candle_rows(q, rows, cols, &mut rng);
            // 6 tokens: one full group of MAX_TOKENS and a remainder.
            let acts = acts_for(q, MAX_TOKENS + 2, cols, &mut rng);
            check(q, &bytes, rows, cols, &acts, "candle blocks");
        }
    }
}

#[test]
fn kernels_match_reference_on_arbitrary_blocks() {
    let mut rng = Rng::new(12);
    for q in QType::quantized() {
        for &cols in lengths(q) {
            let rows = 3;
            let bytes = random_rows(q, rows, cols, &mut rng);
            let acts = acts_for(q, 3, cols, &mut rng);
            check(q, &bytes, rows, cols, &acts, "random blocks");
        }
    }
}

/// Activations of magnitude 127 everywhere against arbitrary weights: the
/// largest i16 partial sums the kernels form, where a saturating
/// instruction would show.
#[test]
fn kernels_do_not_saturate() {
    let mut rng = Rng::new(13);
    for q in QType::quantized() {
        let cols = q.block_elems() * 4;
        let bytes = random_rows(q, 3, cols, &mut rng);
        let format = act_format(q).unwrap();
        let acts: Vec<QuantizedActs> = (0..2)
            .map(|_| {
                let x: Vec<f32> = (0..cols).map(|_| if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 }).collect();
                QuantizedActs::quantize(&x, format)
            })
            .collect();
        assert!(acts.iter().all(|a| a.qs.iter().all(|v| v.abs() == 127)), "{q:?}: activations at full scale");
        check(q, &bytes, 3, cols, &acts, "full-scale activations");
    }
}

/// A token's result does not depend on how many tokens share the pass:
/// prefill and decode give bit-identical numbers.
#[test]
fn token_groups_give_identical_results() {
    let mut rng = Rng::new(14);
    for q in QType::quantized() {
        let cols = lengths(q)[2];
        let bytes = candle_rows(q, 1, cols, &mut rng);
        // A full pass of tokens and a part of one.
        let acts = acts_for(q, MAX_TOKENS + 3, cols, &mut rng);
        for isa in Isa::available() {
            let mut all = vec![0f32; acts.len()];
            dot_row(isa, q, &bytes, &acts, &mut all);
            for (t, a) in acts.iter().enumerate() {
                let mut one = [0f32];
                dot_row(isa, q, &bytes, std::slice::from_ref(a), &mut one);
                assert_eq!(one[0].to_bits(), all[t].to_bits(), "{q:?} {isa:?} token {t}");
            }
        }
    }
}

/// Every instruction set sums in the same order: results are bit-identical
/// to the scalar kernels' (so native and browser runs agree exactly).
#[test]
fn simd_is_bit_identical_to_scalar() {
    let mut rng = Rng::new(15);
    for q in QType::quantized() {
        for &cols in lengths(q) {
            for bytes in [candle_rows(q, 2, cols, &mut rng), random_rows(q, 2, cols, &mut rng)] {
                // Every tile size a kernel has: a full pass of tokens and a part of one.
                let acts = acts_for(q, MAX_TOKENS + 3, cols, &mut rng);
                for row in bytes.chunks_exact(q.row_bytes(cols)) {
                    let mut want = vec![0f32; acts.len()];
                    dot_row(Isa::Scalar, q, row, &acts, &mut want);
                    for isa in Isa::available() {
                        let mut got = vec![0f32; acts.len()];
                        dot_row(isa, q, row, &acts, &mut got);
                        for (g, w) in got.iter().zip(&want) {
                            assert_eq!(g.to_bits(), w.to_bits(), "{q:?} {isa:?} cols {cols}: {g} vs scalar {w}");
                        }
                    }
                }
            }
        }
    }
}

/// A band of rows at once (as the matrix products call it) gives, row by
/// row and token by token, exactly what single rows give.
#[test]
fn bands_match_single_rows() {
    let mut rng = Rng::new(17);
    for q in QType::quantized() {
        let (rows, cols) = (7, lengths(q)[1]);
        let bytes = candle_rows(q, rows, cols, &mut rng);
        let rb = q.row_bytes(cols);
        for tokens in [1, 3, MAX_TOKENS, 2 * MAX_TOKENS + 1] {
            let acts = acts_for(q, tokens, cols, &mut rng);
            for isa in Isa::available() {
                let mut band = vec![f32::NAN; rows * tokens];
                dot_rows(isa, q, &bytes, rb, &acts, &mut band);
                for (r, row) in bytes.chunks_exact(rb).enumerate() {
                    let mut one = vec![f32::NAN; tokens];
                    dot_row(isa, q, row, &acts, &mut one);
                    for t in 0..tokens {
                        assert_eq!(band[r * tokens + t].to_bits(), one[t].to_bits(), "{q:?} {isa:?} row {r} token {t} of {tokens}");
                    }
                }
            }
        }
    }
}

#[test]
fn best_isa_is_used_where_the_cpu_has_it() {
    let best = Isa::best();
    assert!(best.supported());
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c");
        let avx512 = avx2
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512vnni");
        assert_eq!(best == Isa::Avx512, avx512);
        assert_eq!(best == Isa::Avx2, avx2 && !avx512);
        assert_eq!(Isa::available().contains(&Isa::Avx2), avx2);
        assert_eq!(Isa::available().contains(&Isa::Avx512), avx512);
    }
    assert!(!Isa::available().contains(&Isa::Simd128) || cfg!(target_arch = "wasm32"));
}

/// Rows and activations that disagree in length count only the blocks both
/// hold in full: no panic, no read past either.
#[test]
fn short_inputs_count_whole_blocks_only() {
    let mut rng = Rng::new(16);
    for q in QType::quantized() {
        let be = q.block_elems();
        let bytes = candle_rows(q, 1, 2 * be, &mut rng);
        let acts = acts_for(q, 1, be, &mut rng);
        let (want, mag) = reference(q, &bytes[..q.block_bytes()], &acts[0]);
        for isa in Isa::available() {
            let mut got = [f32::NAN];
            dot_row(isa, q, &bytes, &acts, &mut got);
            assert!((got[0] as f64 - want).abs() <= TOL * mag, "{q:?} {isa:?}: long row");
            dot_row(isa, q, &bytes[..bytes.len() - 1], &acts, &mut got);
            assert!((got[0] as f64 - want).abs() <= TOL * mag, "{q:?} {isa:?}: cut row");
        }
    }
}
