//! Writes GGUF files with random weights: tiny ones for tests of every
//! architecture and quant type without a download, and ones of a real
//! model's shapes for benchmarks on machines that receive no model file.

use candle_core::quantized::gguf_file::Value;

use crate::error::Result;
use crate::gguf::writer::{self, TensorData};
use crate::quant::{self, QType};
use crate::sampler::Rng;

#[derive(Debug, Clone)]
pub struct Spec {
    /// One of `models::hparams::ARCHITECTURES`.
    pub arch: String,
    pub d_model: usize,
    pub n_layers: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub ffn: usize,
    /// Extra vocabulary entries beyond the small built-in one (benchmarks
    /// use it to reach a real vocabulary size).
    pub vocab_pad: usize,
    pub context_length: usize,
    /// Type of the attention and feed-forward matrices.
    pub weights: QType,
    /// Type of the token embedding (and tied LM head).
    pub embed: QType,
    pub seed: u64,
    /// Written as `tokenizer.chat_template` (tests of a file's own template).
    pub chat_template: Option<String>,
    /// Qwen3.5's DeltaNet layers: key heads, value heads, and each head's width.
    pub delta_net: (usize, usize, usize),
}

impl Spec {
    /// A model small enough to write and run in milliseconds.
    pub fn tiny(arch: &str, weights: QType) -> Self {
        Spec {
            arch: arch.into(),
            d_model: 256,
            // SmolLM3's first layer without RoPE is its fourth; LFM2 and
            // Qwen3.5 take two layers of each kind.
            n_layers: if matches!(arch, "smollm3" | "lfm2" | "qwen35") { 4 } else { 2 },
            n_head: 4,
            n_kv_head: if arch.starts_with("gemma") { 1 } else { 2 },
            head_dim: 64,
            ffn: 512,
            vocab_pad: 0,
            context_length: 2048,
            weights,
            embed: if weights.block_elems() == 256 { QType::Q8_0 } else { weights },
            seed: 7,
            chat_template: None,
            // Two value heads to a key head, so that their tiling shows.
            delta_net: (2, 4, 64),
        }
    }

    /// The smallest model the shapes allow (fuzzing seeds: mutations then
    /// land in the header, not in kilobytes of weights).
    pub fn micro(arch: &str, weights: QType) -> Self {
        Spec { d_model: 32, n_head: 2, n_kv_head: 1, head_dim: 16, ffn: 64, context_length: 64, embed: weights, ..Spec::tiny(arch, weights) }
    }

    /// The models `kindred bench --synthetic NAME` writes: real shapes, and
    /// `tiny-ARCH` or `tiny-ARCH-TYPE` (`tiny-qwen3-q4_1`) for every
    /// architecture and weight type.
    pub const NAMES: &'static [&'static str] = &["gemma3-270m", "qwen2-1.5b", "qwen35-0.8b", "tiny-ARCH", "tiny-ARCH-TYPE"];

    pub fn named(name: &str) -> Option<Self> {
        match name {
            "gemma3-270m" => return Some(Spec::gemma3_270m()),
            "qwen2-1.5b" => return Some(Spec::qwen2_1_5b()),
            "qwen35-0.8b" => return Some(Spec::qwen35_0_8b()),
            _ => {}
        }
        // Two narrow layers: a step is nearly all per-step overhead
        // (recording, submits, the readback's round trip).
        let rest = name.strip_prefix("tiny-")?;
        let (arch, weights) = match rest.split_once('-') {
            Some((arch, q)) => (arch, QType::named(q)?),
            // Each architecture's type in the files people get.
            None => (rest, match rest {
                "gemma3" => QType::Q5_0,
                "qwen2" => QType::Q4K,
                // Float weights: no 8-bit activations, so the file's sharp
                // scores (RoPE on or off) stand far above the rounding.
                "smollm3" => QType::F16,
                _ => QType::Q8_0,
            }),
        };
        crate::models::hparams::ARCHITECTURES.contains(&arch).then(|| Spec::tiny(arch, weights))
    }

    /// Gemma 3 270M's shapes and types (Q5_0 projections, Q8_0 embedding).
    pub fn gemma3_270m() -> Self {
        Spec {
            arch: "gemma3".into(),
            d_model: 640,
            n_layers: 18,
            n_head: 4,
            n_kv_head: 1,
            head_dim: 256,
            ffn: 2048,
            vocab_pad: 262_144,
            context_length: 32_768,
            weights: QType::Q5_0,
            embed: QType::Q8_0,
            seed: 1,
            chat_template: None,
            delta_net: (0, 0, 0),
        }
    }

    /// Qwen3.5 0.8B's shapes (18 DeltaNet and 6 attention layers) with Q4_K
    /// weights and a Q6_K embedding, as its Q4_K_M files have.
    pub fn qwen35_0_8b() -> Self {
        Spec {
            arch: "qwen35".into(),
            d_model: 1024,
            n_layers: 24,
            n_head: 8,
            n_kv_head: 2,
            head_dim: 256,
            ffn: 3584,
            vocab_pad: 248_320,
            context_length: 32_768,
            weights: QType::Q4K,
            embed: QType::Q6K,
            seed: 1,
            chat_template: None,
            delta_net: (16, 16, 128),
        }
    }

    /// Qwen2.5 1.5B's shapes with Q4_K weights.
    pub fn qwen2_1_5b() -> Self {
        Spec {
            arch: "qwen2".into(),
            d_model: 1536,
            n_layers: 28,
            n_head: 12,
            n_kv_head: 2,
            head_dim: 128,
            ffn: 8960,
            vocab_pad: 151_936,
            context_length: 32_768,
            weights: QType::Q4K,
            embed: QType::Q6K,
            seed: 1,
            chat_template: None,
            delta_net: (0, 0, 0),
        }
    }
}

/// SentencePiece-style vocabulary: specials, 256 byte tokens, letters and a
/// few merged pieces with scores that favour longer pieces.
fn spm_vocab(pad_to: usize) -> (Vec<String>, Vec<f32>, Vec<i32>) {
    let mut t: Vec<(String, f32, i32)> = vec![
        ("<pad>".into(), 0.0, 3),
        ("<eos>".into(), 0.0, 3),
        ("<bos>".into(), 0.0, 3),
        ("<unk>".into(), 0.0, 2),
        ("<start_of_turn>".into(), 0.0, 3),
        ("<end_of_turn>".into(), 0.0, 3),
    ];
    for b in 0..=255u8 {
        t.push((format!("<0x{b:02X}>"), 0.0, 6));
    }
    for c in "▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?'\n".chars() {
        t.push((c.to_string(), -10.0, 1));
    }
    // Pieces reachable by pairwise merges, better scores merging first:
    // "▁hello" = "▁he" + "llo", "▁world" = "▁wor" + "ld".
    let pieces = [
        ("▁h", -1.0), ("ll", -1.0), ("▁w", -1.0), ("or", -1.0), ("ld", -1.0), ("▁t", -1.0), ("he", -1.5),
        ("▁he", -2.0), ("llo", -2.0), ("▁wor", -2.0), ("▁the", -2.5), ("▁hello", -3.0), ("▁world", -3.0),
    ];
    for (p, score) in pieces {
        t.push((p.to_string(), score, 1));
    }
    let mut n = 0;
    while t.len() < pad_to {
        t.push((format!("▁pad{n}"), -100.0, 1));
        n += 1;
    }
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for (s, sc, ty) in t {
        a.push(s);
        b.push(sc);
        c.push(ty);
    }
    (a, b, c)
}

/// GPT-2 byte-level vocabulary: the 256 byte characters, a few merges, and
/// ChatML specials.
fn byte_level_vocab(pad_to: usize) -> (Vec<String>, Vec<i32>, Vec<String>) {
    let mut tokens: Vec<String> = (0..=255u8).map(byte_char).map(String::from).collect();
    let mut types = vec![1; 256];
    let merges = ["l l", "e ll", "h ell", "hell o", "Ġ hello", "o r", "w or", "wor l", "worl d", "Ġ world", "Ġ t", "h e", "Ġt he"];
    for m in merges {
        tokens.push(m.replace(' ', ""));
        types.push(1);
    }
    let mut n = 0;
    while tokens.len() + 3 < pad_to {
        tokens.push(format!("Ġpad{n}"));
        types.push(1);
        n += 1;
    }
    for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] {
        tokens.push(s.into());
        types.push(3);
    }
    (tokens, types, merges.iter().map(|s| s.to_string()).collect())
}

pub use crate::tokenizer::byte_char;

fn random_matrix(name: String, rng: &mut Rng, (rows, cols): (usize, usize), scale: f32, qtype: QType) -> TensorData {
    let data: Vec<f32> = (0..rows * cols)
        .map(|_| (rng.next_f32() + rng.next_f32() + rng.next_f32() - 1.5) * scale)
        .collect();
    TensorData { name, qtype, dims: vec![rows, cols], bytes: quant::quantize(qtype, &data) }
}

fn vector(name: String, v: Vec<f32>) -> TensorData {
    TensorData { name, qtype: QType::F32, dims: vec![v.len()], bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect() }
}

/// Matrices of one type and width stacked by rows into one tensor (rows
/// of a quantized matrix are whole blocks, so their bytes just follow).
fn stacked<const N: usize>(name: String, parts: [TensorData; N]) -> TensorData {
    let rows = parts.iter().map(|t| t.dims[0]).sum();
    let (qtype, cols) = (parts[0].qtype, parts[0].dims[1]);
    TensorData { name, qtype, dims: vec![rows, cols], bytes: parts.into_iter().flat_map(|t| t.bytes).collect() }
}

/// Serialises a random-weight model of `spec` as GGUF bytes.
pub fn write(spec: &Spec) -> Result<Vec<u8>> {
    let a = spec.arch.as_str();
    let mut rng = Rng::new(spec.seed);
    let mut meta: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(a.into())),
        // Not "phi3": llama.cpp gives a file so named Phi-3's special-token
        // rules, which want a "</s>" this vocabulary lacks.
        ("general.name".into(), Value::String(if a == "phi3" { "synthetic Phi-4-mini".into() } else { format!("synthetic {a}") })),
        (format!("{a}.context_length"), Value::U32(spec.context_length as u32)),
        (format!("{a}.embedding_length"), Value::U32(spec.d_model as u32)),
        (format!("{a}.block_count"), Value::U32(spec.n_layers as u32)),
        (format!("{a}.feed_forward_length"), Value::U32(spec.ffn as u32)),
        (format!("{a}.attention.head_count"), Value::U32(spec.n_head as u32)),
        (format!("{a}.attention.head_count_kv"), Value::U32(spec.n_kv_head as u32)),
        (format!("{a}.attention.key_length"), Value::U32(spec.head_dim as u32)),
        (format!("{a}.attention.value_length"), Value::U32(spec.head_dim as u32)),
        (format!("{a}.attention.layer_norm_rms_epsilon"), Value::F32(1e-6)),
        (format!("{a}.rope.freq_base"), Value::F32(if a == "gemma3" { 1_000_000.0 } else { 10_000.0 })),
    ];
    let gemma = a.starts_with("gemma");
    let n_vocab = if gemma || a == "llama" {
        let (tokens, scores, types) = spm_vocab(spec.vocab_pad);
        let n = tokens.len();
        meta.push(("tokenizer.ggml.model".into(), Value::String("llama".into())));
        meta.push(("tokenizer.ggml.tokens".into(), Value::Array(tokens.into_iter().map(Value::String).collect())));
        meta.push(("tokenizer.ggml.scores".into(), Value::Array(scores.into_iter().map(Value::F32).collect())));
        meta.push(("tokenizer.ggml.token_type".into(), Value::Array(types.into_iter().map(Value::I32).collect())));
        meta.push(("tokenizer.ggml.bos_token_id".into(), Value::U32(2)));
        meta.push(("tokenizer.ggml.eos_token_id".into(), Value::U32(1)));
        meta.push(("tokenizer.ggml.add_bos_token".into(), Value::Bool(true)));
        n
    } else {
        let (tokens, types, merges) = byte_level_vocab(spec.vocab_pad);
        let n = tokens.len();
        meta.push(("tokenizer.ggml.model".into(), Value::String("gpt2".into())));
        meta.push(("tokenizer.ggml.pre".into(), Value::String("qwen2".into())));
        meta.push(("tokenizer.ggml.tokens".into(), Value::Array(tokens.into_iter().map(Value::String).collect())));
        meta.push(("tokenizer.ggml.token_type".into(), Value::Array(types.into_iter().map(Value::I32).collect())));
        meta.push(("tokenizer.ggml.merges".into(), Value::Array(merges.into_iter().map(Value::String).collect())));
        meta.push(("tokenizer.ggml.eos_token_id".into(), Value::U32((n - 1) as u32)));
        meta.push(("tokenizer.ggml.add_bos_token".into(), Value::Bool(false)));
        n
    };
    if gemma {
        meta.push((format!("{a}.attention.sliding_window"), Value::U32(8)));
    }
    if a == "phi3" {
        // Phi-4-mini's kind of RoPE: over part of each head (48 of 64
        // dims here, 96 of 128 there), with LongRoPE's per-pair factors
        // and attention factor.
        meta.push((format!("{a}.rope.dimension_count"), Value::U32((spec.head_dim * 3 / 4) as u32)));
        meta.push((format!("{a}.rope.scaling.attn_factor"), Value::F32(1.19)));
        meta.push((format!("{a}.rope.scaling.original_context_length"), Value::U32(spec.context_length as u32 / 2)));
    }
    // LFM2: convolution layers (no KV heads) and attention layers, alternating.
    let conv_layer = |il: usize| a == "lfm2" && il.is_multiple_of(2);
    if a == "lfm2" {
        let kv: Vec<Value> = (0..spec.n_layers).map(|il| Value::U32(if conv_layer(il) { 0 } else { spec.n_kv_head as u32 })).collect();
        meta.retain(|(k, _)| k != &format!("{a}.attention.head_count_kv"));
        meta.push((format!("{a}.attention.head_count_kv"), Value::Array(kv)));
        meta.push((format!("{a}.shortconv.l_cache"), Value::U32(3)));
    }
    // Qwen3.5: DeltaNet layers and attention layers (every other one in the
    // tiny files, every fourth in the real shapes), a 4-tap convolution, and
    // RoPE over a quarter of each attention head in three sections.
    let every = if spec.n_layers >= 8 { 4 } else { 2 };
    let delta_layer = |il: usize| a == "qwen35" && !(il + 1).is_multiple_of(every);
    let (dn_heads, dn_dim) = ((spec.delta_net.0, spec.delta_net.1), spec.delta_net.2);
    if a == "qwen35" {
        for (key, v) in [
            ("ssm.conv_kernel", 4),
            ("ssm.state_size", dn_dim),
            ("ssm.group_count", dn_heads.0),
            ("ssm.time_step_rank", dn_heads.1),
            ("ssm.inner_size", dn_heads.1 * dn_dim),
            ("full_attention_interval", every),
            ("rope.dimension_count", spec.head_dim / 4),
        ] {
            meta.push((format!("{a}.{key}"), Value::U32(v as u32)));
        }
        let pairs = spec.head_dim / 8;
        let sections = [pairs - 2 * (pairs / 3), pairs / 3, pairs / 3, 0];
        meta.push((format!("{a}.rope.dimension_sections"), Value::Array(sections.iter().map(|&s| Value::I32(s as i32)).collect())));
    }
    if a == "granite" {
        // Granite 3.3 2B's multipliers.
        meta.push((format!("{a}.embedding_scale"), Value::F32(12.0)));
        meta.push((format!("{a}.residual_scale"), Value::F32(0.22)));
        meta.push((format!("{a}.attention.scale"), Value::F32(0.015625)));
        meta.push((format!("{a}.logit_scale"), Value::F32(8.0)));
    }
    if a == "gemma2" {
        // Caps as low as the random weights' scores and logits, so that the
        // capping shows in the outputs (leaving out either cap moves logits
        // by 0.1 or more); Gemma 2 itself caps at 50 and 30.
        meta.push((format!("{a}.attn_logit_softcapping"), Value::F32(0.2)));
        meta.push((format!("{a}.final_logit_softcapping"), Value::F32(2.0)));
    }
    let (d, hd, ffn) = (spec.d_model, spec.head_dim, spec.ffn);
    let (qd, kvd) = (spec.n_head * hd, spec.n_kv_head * hd);
    let w = spec.weights;
    let ones = |name: String, n: usize, rng: &mut Rng| vector(name, (0..n).map(|_| 0.8 + 0.4 * rng.next_f32()).collect());
    // LFM2's last norm is named for the embedding.
    let output_norm = if a == "lfm2" { "token_embd_norm.weight" } else { "output_norm.weight" };
    let mut tensors: Vec<TensorData> = vec![
        random_matrix("token_embd.weight".into(), &mut rng, (n_vocab, d), 0.05, spec.embed),
        ones(output_norm.into(), d, &mut rng),
    ];
    let s = 1.0 / (d as f32).sqrt();
    // SmolLM3's, Phi-3's and Granite's files score sharply, so that RoPE's
    // details (a layer without it, the part of a head it turns) and the
    // scores' scale show in their logits (flat random scores hide them).
    // Granite's scores are scaled by 1/64, not 1/8: sharper still.
    let qk = match a {
        "smollm3" | "phi3" => 4.0 * s,
        "granite" => 12.0 * s,
        _ => s,
    };
    // Phi-3 stacks q, k and v in one tensor, and gate and up in another.
    let fused = a == "phi3";
    if fused {
        let half = spec.head_dim * 3 / 8;
        let factors = |name: &str, rng: &mut Rng| vector(name.into(), (0..half).map(|_| 1.0 + 3.0 * rng.next_f32()).collect());
        tensors.push(factors("rope_factors_short.weight", &mut rng));
        tensors.push(factors("rope_factors_long.weight", &mut rng));
    }
    for il in 0..spec.n_layers {
        let p = |x: &str| format!("blk.{il}.{x}.weight");
        tensors.push(ones(p("attn_norm"), d, &mut rng));
        if delta_layer(il) {
            let (nk, nv) = dn_heads;
            let (cd, vd) = ((2 * nk + nv) * dn_dim, nv * dn_dim);
            let taps = vector(p("ssm_conv1d"), (0..4 * cd).map(|_| 0.2 + 0.8 * rng.next_f32()).collect());
            tensors.push(TensorData { dims: vec![cd, 4], ..taps });
            tensors.push(random_matrix(p("attn_qkv"), &mut rng, (cd, d), 4.0 * s, w));
            tensors.push(random_matrix(p("attn_gate"), &mut rng, (vd, d), 4.0 * s, w));
            tensors.push(random_matrix(p("ssm_beta"), &mut rng, (nv, d), 4.0 * s, w));
            tensors.push(random_matrix(p("ssm_alpha"), &mut rng, (nv, d), 4.0 * s, w));
            tensors.push(vector(format!("blk.{il}.ssm_dt.bias"), (0..nv).map(|_| rng.next_f32() - 0.5).collect()));
            // -exp(A_log): decays slow enough that earlier tokens still count.
            tensors.push(vector(format!("blk.{il}.ssm_a"), (0..nv).map(|_| -(0.05 + 0.5 * rng.next_f32())).collect()));
            tensors.push(ones(p("ssm_norm"), dn_dim, &mut rng));
            tensors.push(random_matrix(p("ssm_out"), &mut rng, (d, vd), 1.0 / (vd as f32).sqrt(), w));
        }
        if conv_layer(il) {
            // Taps of 0.2-1.0 (a random sign would let the convolution cancel).
            let taps = vector(p("shortconv.conv"), (0..3 * d).map(|_| 0.2 + 0.8 * rng.next_f32()).collect());
            tensors.push(TensorData { dims: vec![d, 3], ..taps });
            tensors.push(random_matrix(p("shortconv.in_proj"), &mut rng, (3 * d, d), 4.0 * s, w));
            tensors.push(random_matrix(p("shortconv.out_proj"), &mut rng, (d, d), s, w));
        }
        // Qwen3.5's query projection carries each head's output gate after its query.
        let q_rows = if a == "qwen35" { 2 * qd } else { qd };
        let qkv = [
            random_matrix(p("attn_q"), &mut rng, (q_rows, d), qk, w),
            random_matrix(p("attn_k"), &mut rng, (kvd, d), qk, w),
            random_matrix(p("attn_v"), &mut rng, (kvd, d), s, w),
        ];
        let wo = random_matrix(p("attn_output"), &mut rng, (d, qd), s, w);
        if fused {
            tensors.push(stacked(p("attn_qkv"), qkv));
        } else if !conv_layer(il) && !delta_layer(il) {
            tensors.extend(qkv);
        }
        if !conv_layer(il) && !delta_layer(il) {
            tensors.push(wo);
        }
        // Qwen3.5 names its feed-forward's norm for what it follows.
        tensors.push(ones(p(if a == "qwen35" { "post_attention_norm" } else { "ffn_norm" }), d, &mut rng));
        let gate_up = [random_matrix(p("ffn_gate"), &mut rng, (ffn, d), s, w), random_matrix(p("ffn_up"), &mut rng, (ffn, d), s, w)];
        if fused {
            tensors.push(stacked(p("ffn_up"), gate_up));
        } else {
            tensors.extend(gate_up);
        }
        tensors.push(random_matrix(p("ffn_down"), &mut rng, (d, ffn), 1.0 / (ffn as f32).sqrt(), w));
        if matches!(a, "gemma3" | "qwen3" | "qwen35" | "lfm2") && !conv_layer(il) && !delta_layer(il) {
            tensors.push(ones(p("attn_q_norm"), hd, &mut rng));
            tensors.push(ones(p("attn_k_norm"), hd, &mut rng));
        }
        if gemma {
            tensors.push(ones(p("post_attention_norm"), d, &mut rng));
            tensors.push(ones(p("post_ffw_norm"), d, &mut rng));
        }
        if a == "qwen2" {
            let b = |x: &str| format!("blk.{il}.{x}.bias");
            for (name, n) in [("attn_q", qd), ("attn_k", kvd), ("attn_v", kvd)] {
                tensors.push(vector(b(name), (0..n).map(|_| 2.0 * (rng.next_f32() - 0.5)).collect()));
            }
        }
    }
    // Gemma, Phi-4-mini and LFM2 tie the LM head to the embedding.
    if !gemma && a != "phi3" && a != "lfm2" {
        tensors.push(random_matrix("output.weight".into(), &mut rng, (n_vocab, d), 0.05, spec.embed));
    }
    if let Some(source) = &spec.chat_template {
        meta.push(("tokenizer.chat_template".into(), Value::String(source.clone())));
    }
    Ok(writer::write(&meta, &tensors))
}

/// A LoRA adapter (GGUF, as llama.cpp's tools write them) of rank `rank`
/// for the model in `model` (a whole file, or `write`'s): random f32 A and
/// B for every layer's q, k, v, output, gate, up and down matrices, large
/// enough to move the logits by tenths.
pub fn write_adapter(model: &crate::gguf::Gguf, rank: usize, alpha: f32, seed: u64) -> Result<Vec<u8>> {
    const ADAPTED: [&str; 8] = ["attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
    let a = model.architecture()?;
    let mut rng = Rng::new(seed);
    let meta: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(a.clone())),
        ("general.type".into(), Value::String("adapter".into())),
        ("general.name".into(), Value::String(format!("random {a} adapter"))),
        ("adapter.type".into(), Value::String("lora".into())),
        ("adapter.lora.alpha".into(), Value::F32(alpha)),
    ];
    let mut names: Vec<&String> = (model.tensors.keys())
        .filter(|n| n.strip_prefix("blk.").and_then(|r| r.split_once('.')).is_some_and(|(_, rest)| ADAPTED.iter().any(|m| rest == format!("{m}.weight"))))
        .collect();
    // Layer by layer, in the order above: the same file for the same model.
    names.sort_by_key(|n| {
        let (il, rest) = n["blk.".len()..].split_once('.').unwrap_or_default();
        (il.parse::<usize>().unwrap_or(0), ADAPTED.iter().position(|m| rest.starts_with(m)))
    });
    let mut tensors = Vec::new();
    for name in names {
        let t = model.tensor(name)?;
        let [rows, cols] = t.dims[..] else { continue };
        tensors.push(random_matrix(format!("{name}.lora_a"), &mut rng, (rank, cols), 2.0 / (cols as f32).sqrt(), QType::F32));
        tensors.push(random_matrix(format!("{name}.lora_b"), &mut rng, (rows, rank), 2.0 / (rank as f32).sqrt(), QType::F32));
    }
    Ok(writer::write(&meta, &tensors))
}
