//! The fused decode kernels (stacked q/k/v with Qwen2's biases, Qwen3's QK-norm, stacked
//! gate/up with the activation, QK-norm + RoPE + KV store, softmax +
//! values, Gemma's post-norm + pre-norm) and the prefill lane's reads of
//! stacked parts, on tiny random models of every architecture and the test
//! files' weight types, against the CPU backend: a prompt read as one
//! chunk, then decode steps. The synthetic models give every projection one
//! type, so their weights are always stacked; the real files (gpu_model.rs)
//! also take the unstacked path where q/k/v types differ.
//!
//! Tolerance, tighter than gpu_model.rs's for the real files since these
//! logits are small (the CPU quantizes activations to 8 bits, the GPU does
//! not; measured on lavapipe: mean |difference| 0.003-0.009, max 0.011-0.036
//! after removing a constant shift): mean below 0.03, maximum below 0.1,
//! and the same argmax where the CPU's top two are 0.1 apart. A missing
//! bias or a wrong RoPE pair moves them by tenths.
#![cfg(feature = "gpu")]

use kindred_engine::gpu::{GpuModel, GpuModelOptions};
use kindred_engine::quant::QType;
use kindred_engine::sampler::argmax;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::lora::Adapter;
use kindred_engine::{Gguf, Model};

/// `unit`: the logits' divisor (Granite's), by which the differences shrink too.
fn check(what: &str, gpu: &[f32], cpu: &[f32], unit: f32) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: vocabulary sizes");
    let shift = (gpu.iter().zip(cpu).map(|(a, b)| (a - b) as f64).sum::<f64>() / gpu.len() as f64) as f32;
    let d: Vec<f32> = gpu.iter().zip(cpu).map(|(a, b)| (a - b - shift).abs()).collect();
    let mean = d.iter().sum::<f32>() / d.len() as f32;
    let max = d.iter().cloned().fold(0f32, f32::max);
    let best = argmax(cpu) as usize;
    let second = cpu.iter().enumerate().filter(|(i, _)| *i != best).map(|(_, v)| *v).fold(f32::NEG_INFINITY, f32::max);
    eprintln!("{what}: |d| mean {mean:.4} max {max:.4}, cpu margin {:.3}", cpu[best] - second);
    assert!(gpu.iter().all(|v| v.is_finite()), "{what}: non-finite GPU logits");
    assert!(mean * unit < 0.03 && max * unit < 0.1, "{what}: gpu and cpu logits differ (mean {mean}, max {max})");
    if (cpu[best] - second) * unit >= 0.1 {
        assert_eq!(argmax(gpu) as usize, best, "{what}: greedy ids differ");
    }
}

fn run(arch: &str, q: QType) {
    run_adapted(arch, q, None);
}

/// `run` with a LoRA adapter of the model on both backends (rank 8, alpha
/// `alpha`); returns the CPU's logits after the prompt.
fn run_adapted(arch: &str, q: QType, alpha: Option<f32>) -> Vec<f32> {
    let bytes = synthetic::write(&Spec::tiny(arch, q)).unwrap();
    let mut cpu = Model::load(Gguf::from_bytes(bytes).unwrap()).unwrap();
    if let Some(alpha) = alpha {
        let file = synthetic::write_adapter(cpu.gguf(), 8, alpha, 9).unwrap();
        cpu.set_adapter(Some(Adapter::load(file, 1.0, cpu.gguf()).unwrap())).unwrap();
    }
    let g = cpu.gguf();
    let opts = GpuModelOptions { context: Some(64), ..Default::default() };
    let mut gpu = match GpuModel::load_with(g, &opts) {
        Ok(m) => m,
        Err(e) => panic!("the GPU model did not load ({e}); a Vulkan driver (lavapipe will do) is required"),
    };
    let unit = kindred_engine::models::Hparams::read(g).unwrap().logit_scale;
    let mut cache = cpu.new_cache();
    let mut tokens: Vec<u32> = (0..11u32).map(|i| 3 + (i * 37) % 200).collect();
    let mut first = None;
    for step in 0..4 {
        let got = gpu.forward(&tokens).unwrap();
        let want = cpu.forward(&tokens, &mut cache).unwrap();
        let what = if alpha.is_some() { "adapted" } else { "" };
        check(&format!("{arch} {q:?} {what} step {step}"), &got, &want, unit);
        tokens = vec![argmax(&want)];
        first.get_or_insert(want);
    }
    first.unwrap_or_default()
}

#[test]
fn gemma3_fused_decode_matches_cpu() {
    for q in [QType::Q5_0, QType::Q8_0, QType::Q4K, QType::Q6K] {
        run("gemma3", q);
    }
}

/// Gemma 2: no QK-norm, soft caps on the scores and the final logits (the
/// tiny file's caps are low enough to move every logit).
#[test]
fn gemma2_soft_capped_decode_matches_cpu() {
    for q in [QType::Q8_0, QType::Q4K] {
        run("gemma2", q);
    }
}

/// SmolLM3: every fourth layer without RoPE (the GPU reads an all-zero
/// table there). Float weights: the tiny file's sharp scores would lift the
/// CPU's 8-bit activation rounding near this test's limit, while a rotated
/// fourth layer moves logits by 0.2.
#[test]
fn smollm3_layers_without_rope_match_cpu() {
    run("smollm3", QType::F16);
}

/// Phi-3 (Phi-4-mini's architecture): q/k/v and gate/up each one tensor
/// in the file, RoPE over the first 48 of 64 dims with LongRoPE's factors
/// and attention factor (leaving the factor out moves logits by 0.1). F16
/// for the same reason as SmolLM3.
#[test]
fn phi3_fused_tensors_and_partial_rope_match_cpu() {
    run("phi3", QType::F16);
}

/// Granite: its multipliers on the embeddings, on each projection into
/// the residual (the mat-vec's and mat-mul's factor), on the scores and on
/// the logits (folded into the last norm).
#[test]
fn granite_multipliers_match_cpu() {
    for q in [QType::Q8_0, QType::Q4K] {
        run("granite", q);
    }
}

#[test]
fn qwen2_fused_decode_with_biases_matches_cpu() {
    for q in [QType::Q4K, QType::Q6K, QType::Q5_0] {
        run("qwen2", q);
    }
}

#[test]
fn llama_fused_decode_matches_cpu() {
    for q in [QType::Q4_0, QType::Q4K, QType::Q8_0] {
        run("llama", q);
    }
}

#[test]
fn qwen3_fused_decode_with_qk_norm_matches_cpu() {
    for q in [QType::Q4K, QType::Q6K, QType::Q8_0] {
        run("qwen3", q);
    }
}

/// A LoRA adapter on every projection (Phi-3's fused q/k/v and gate/up
/// too, split by rows), on the prompt read as a chunk and on decode steps:
/// as on the CPU, whose adapter is checked against llama.cpp
/// (reference_llamacpp.rs). The adapter moves the logits well past the
/// tolerance, so a GPU that left it out would fail.
#[test]
fn lora_adapters_match_cpu() {
    for (arch, q) in [("qwen2", QType::Q4K), ("llama", QType::Q8_0), ("gemma3", QType::Q6K), ("phi3", QType::F16)] {
        let base = run_adapted(arch, q, None);
        let adapted = run_adapted(arch, q, Some(16.0));
        let moved = base.iter().zip(&adapted).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!("{arch}: the adapter moves the logits by up to {moved:.3}");
        assert!(moved > 0.5, "{arch}: the adapter barely moves the logits ({moved})");
    }
}

/// An adapter put on and taken off a model already on the GPU
/// (`GpuModel::rebuild`, what the page does): the logits are those of the
/// model loaded with the adapter (and without it, once it is off), and the
/// weights it leaves alone are not uploaded again.
#[test]
fn an_adapter_goes_on_and_off_a_model_on_the_gpu() {
    let bytes = synthetic::write(&Spec::tiny("qwen2", QType::Q4K)).unwrap();
    let mut cpu = Model::load(Gguf::from_bytes(bytes).unwrap()).unwrap();
    let opts = GpuModelOptions { context: Some(64), ..Default::default() };
    let tokens: Vec<u32> = (0..11u32).map(|i| 3 + (i * 37) % 200).collect();
    let mut gpu = GpuModel::load_with(cpu.gguf(), &opts).unwrap();
    let base = gpu.forward(&tokens).unwrap();
    let first_upload = gpu.uploaded_bytes();

    let file = synthetic::write_adapter(cpu.gguf(), 8, 16.0, 9).unwrap();
    cpu.set_adapter(Some(Adapter::load(file, 1.0, cpu.gguf()).unwrap())).unwrap();
    let mut gpu = pollster::block_on(gpu.rebuild(cpu.gguf())).unwrap();
    assert!(gpu.is_empty(), "the cache starts empty");
    let adapted = gpu.forward(&tokens).unwrap();
    // Only the stacked projections come apart (each adapted weight keeps its own product); the
    // embedding, the output and down projections, are the ones already there.
    let stacked: u64 = (cpu.gguf().tensors.values())
        .filter(|t| ["attn_q.", "attn_k.", "attn_v.", "ffn_gate.", "ffn_up."].iter().any(|m| t.name.contains(m)) && t.name.ends_with(".weight"))
        .map(|t| t.len as u64)
        .sum();
    assert_eq!(gpu.uploaded_bytes() - first_upload, stacked, "uploaded again of {first_upload} bytes");
    let fresh = GpuModel::load_with(cpu.gguf(), &opts).unwrap().forward(&tokens).unwrap();
    assert_eq!(adapted, fresh, "as the model loaded with the adapter");
    assert_ne!(adapted, base);

    cpu.set_adapter(None).unwrap();
    let mut gpu = pollster::block_on(gpu.rebuild(cpu.gguf())).unwrap();
    assert_eq!(gpu.forward(&tokens).unwrap(), base, "off again: the model's own");
}

/// The weight types the tests above leave out, on one architecture.
#[test]
fn every_other_weight_type_matches_cpu() {
    let covered = [QType::Q4_0, QType::Q5_0, QType::Q8_0, QType::Q4K, QType::Q6K];
    for &q in QType::ALL.iter().filter(|q| !covered.contains(q)) {
        run("qwen3", q);
    }
}

/// LFM2: short-convolution layers (their input kept as the layer's keys,
/// convolved over the last three positions, earlier tokens of the chunk
/// included) beside GQA attention layers with QK-norm.
#[test]
fn lfm2_short_convolutions_match_cpu() {
    for q in [QType::Q8_0, QType::Q4K] {
        run("lfm2", q);
    }
}

/// Cut back to a prefix, the convolution layers' state is the prefix's
/// (kept per position, as attention's keys are): reading the rest again
/// as a chunk gives the same logits as the first reading, bit for bit;
/// token by token (the decode kernels, another rounding) within 1e-3, where
/// a state left from the later positions moves them by tenths.
#[test]
fn lfm2_prefix_reuse_keeps_the_convolution_state() {
    let g = Gguf::from_bytes(synthetic::write(&Spec::tiny("lfm2", QType::Q8_0)).unwrap()).unwrap();
    let mut gpu = GpuModel::load_with(&g, &GpuModelOptions { context: Some(64), ..Default::default() }).unwrap();
    let tokens: Vec<u32> = (0..11u32).map(|i| 3 + (i * 37) % 200).collect();
    let whole = gpu.forward(&tokens).unwrap();
    gpu.truncate(5);
    assert_eq!(gpu.forward(&tokens[5..]).unwrap(), whole, "the prefix's state, then the rest");
    gpu.truncate(9);
    let one = gpu.forward(&tokens[9..10]).unwrap();
    let last = gpu.forward(&tokens[10..]).unwrap();
    let moved = last.iter().zip(&whole).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(moved < 1e-3, "token by token from a later cut: {moved}");
    assert_ne!(one, whole);
}

/// Qwen3.5's DeltaNet layers have no GPU kernels: loading it there is
/// refused with a reason the page shows as it keeps the model on the CPU.
#[test]
fn qwen35_is_refused_on_the_gpu_with_a_reason() {
    let g = Gguf::from_bytes(synthetic::write(&Spec::tiny("qwen35", QType::Q8_0)).unwrap()).unwrap();
    let err = GpuModel::load_with(&g, &GpuModelOptions::default()).err().expect("refused");
    assert!(err.to_string().contains("DeltaNet"), "{err}");
}
