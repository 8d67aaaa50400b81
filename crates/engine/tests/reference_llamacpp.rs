//! The engine against llama.cpp on the tiny random-weight models of each
//! architecture (gemma2, granite, lfm2, phi3, qwen35, smollm3, qwen3, qwen2, llama; Gemma 3 has its real-file reference in
//! reference_gemma.rs): the logits llama.cpp gave at every position of one
//! prompt (tests/reference/llamacpp-tiny.json, written by
//! scripts/reference-llamacpp.sh from the same synthetic files), read here
//! token by token. Random weights give flat logits, so the test asks for
//! closeness everywhere and the same argmax wherever llama.cpp's top two
//! are apart by more than the difference allowed.

use kindred_engine::synthetic::{self, Spec};
use kindred_engine::models::Hparams;
use kindred_engine::{Gguf, Model};

/// Max |difference| allowed at any position and any vocabulary entry: both
/// engines quantize activations to 8 bits for these weight types, in
/// different orders of summation (measured: below 0.03).
const TOLERANCE: f32 = 0.05;

fn spec(name: &str) -> Spec {
    Spec::named(name).unwrap_or_else(|| panic!("the reference names a file this test cannot write: {name}"))
}

#[test]
fn tiny_models_match_llama_cpp_at_every_position() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/llamacpp-tiny.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tokens: Vec<u32> = reference["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    let models = reference["models"].as_object().unwrap();
    assert!(models.contains_key("tiny-qwen3"), "qwen3 is in the reference");
    for (name, rows) in models {
        let g = Gguf::from_bytes(synthetic::write(&spec(name)).unwrap()).unwrap();
        // Granite divides its logits (by 8 here), and the rounding with them:
        // the allowed difference is in the units before the divisor.
        let tolerance = TOLERANCE / Hparams::read(&g).unwrap().logit_scale;
        let model = Model::load(g).unwrap();
        let mut cache = model.new_cache();
        let mut worst = 0f32;
        for (pos, (&tok, row)) in tokens.iter().zip(rows.as_array().unwrap()).enumerate() {
            let want: Vec<f32> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            let got = model.forward(&[tok], &mut cache).unwrap();
            assert_eq!(got.len(), want.len(), "{name}: vocabulary size");
            let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            worst = worst.max(diff);
            assert!(diff < tolerance, "{name} position {pos}: logits differ from llama.cpp's by {diff}");
            let best = argmax(&want);
            let second = want.iter().enumerate().filter(|(i, _)| *i != best).map(|(_, v)| *v).fold(f32::MIN, f32::max);
            if want[best] - second > 2.0 * tolerance {
                assert_eq!(argmax(&got), best, "{name} position {pos}: greedy token");
            }
        }
        eprintln!("{name}: max |logit - llama.cpp| {worst:.4}");
    }
}

fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold((0, f32::MIN), |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) }).0
}

/// LoRA adapters (rank 8, alpha 16, on every layer's q, k, v, output, gate,
/// up and down) of the tiny qwen3 and llama files, at scales 1 and 0.5:
/// the same logits as llama.cpp with the adapter, and not the base model's.
#[test]
fn lora_adapters_match_llama_cpp() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/llamacpp-tiny.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tokens: Vec<u32> = reference["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    let adapters = reference["adapters"].as_object().unwrap();
    assert_eq!(adapters.len(), 2, "qwen3 and llama adapters in the reference");
    for (name, entry) in adapters {
        let spec = spec(name);
        let model = Gguf::from_bytes(synthetic::write(&spec).unwrap()).unwrap();
        let adapter = synthetic::write_adapter(&model, entry["rank"].as_u64().unwrap() as usize, 16.0, spec.seed + 1).unwrap();
        let base = Model::load(Gguf::from_bytes(synthetic::write(&spec).unwrap()).unwrap()).unwrap();
        for (scale, rows) in entry["scales"].as_object().unwrap() {
            let mut session = kindred_engine::Session::load(synthetic::write(&spec).unwrap()).unwrap();
            session.set_adapter(Some((adapter.clone(), scale.parse().unwrap()))).unwrap();
            let (mut cache, mut base_cache) = (session.model.new_cache(), base.new_cache());
            let (mut worst, mut moved) = (0f32, 0f32);
            for (pos, (&tok, row)) in tokens.iter().zip(rows.as_array().unwrap()).enumerate() {
                let want: Vec<f32> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
                let got = session.model.forward(&[tok], &mut cache).unwrap();
                let plain = base.forward(&[tok], &mut base_cache).unwrap();
                let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                worst = worst.max(diff);
                moved = moved.max(plain.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max));
                assert!(diff < TOLERANCE, "{name} scale {scale} position {pos}: logits differ from llama.cpp's by {diff}");
            }
            assert!(moved > 10.0 * TOLERANCE, "{name} scale {scale}: the adapter moves the logits ({moved})");
            eprintln!("{name} + adapter at {scale}: max |logit - llama.cpp| {worst:.4} (the base model is {moved:.2} away)");
        }
    }
}
