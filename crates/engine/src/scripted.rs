//! A scripted model: a real file's tokenizer and chat format with weights
//! that answer in a few fixed sentences. The browser tests that are about
//! the page load it instead of a real model, so that a reply takes
//! milliseconds and still passes through the whole engine (the tokenizer,
//! the template, the forward pass, the sampler and its penalties, stops).
//!
//! How the weights script the reply: every layer adds nothing (its output
//! projections are zero), so the last hidden state is the token's own
//! embedding. Embeddings are one-hot over a few classes (each token of the
//! script its own class, every other token class 0), and the LM head gives
//! a token a high logit from each class it may follow. The next token is
//! then drawn among the current one's successors in the script: a seeded
//! walk through the sentences below, which ends after a full stop.

use std::collections::BTreeSet;

use candle_core::quantized::gguf_file::Value;

use crate::error::{Error, Result};
use crate::gguf::writer::{self, TensorData};
use crate::gguf::Gguf;
use crate::quant::{self, QType};
use crate::tokenizer::Tokenizer;

/// What the model says. Words shared between sentences let the walk turn
/// from one into another, so replies vary with the seed and repeat less
/// than repetition penalties would punish.
pub const SENTENCES: &[&str] = &[
    " I pour you a cup of tea and sit down.",
    " The rain taps softly on the window.",
    " Tell me more about your day.",
    " That sounds lovely, and a little strange.",
    " We could take a walk by the river later.",
    " I smile and lean back in my chair.",
];

/// Hidden width: one dimension a class, so at most this many distinct
/// script tokens (the sentences above have under 50).
const WIDTH: usize = 64;
/// A successor's logit; every other token's is 0, far below at any
/// temperature the page allows.
const LOGIT: f32 = 32.0;
/// The end of the reply after a full stop weighs half of one of the next
/// sentence's first tokens, so a reply runs on for a few sentences (the
/// repetition penalty on openings already used, and past 60 tokens the
/// sampler's end-of-turn boost, make the end likelier as it goes). Short
/// replies (`max_tokens`) are then mostly cut mid-sentence, so Continue
/// has something to continue.
const END_WEIGHT: f32 = 0.5;

/// The scripted model's GGUF bytes, with `source`'s tokenizer, chat
/// template and context length.
pub fn write(source: &Gguf) -> Result<Vec<u8>> {
    write_script(source, SENTENCES, false)
}

/// A scripted model that says `sentences`; with `once`, a reply is one of
/// them and ends there (a model that says exactly one thing: a roll macro
/// for a room's narrator, a word a safety list blocks).
pub fn write_script(source: &Gguf, sentences: &[&str], once: bool) -> Result<Vec<u8>> {
    let tok = Tokenizer::from_gguf(source)?;
    let n_vocab = tok.vocab_size();
    let end = *tok.eog().first().ok_or_else(|| Error::Metadata("the tokenizer has no end-of-generation token".into()))?;
    let mut sentences: Vec<Vec<u32>> = sentences.iter().map(|s| tok.encode(s.trim_end(), false)).collect::<Result<_>>()?;
    sentences.retain(|s| !s.is_empty());
    if sentences.is_empty() {
        return Err(Error::Metadata("a scripted model needs something to say".into()));
    }
    // Class 0 is every token outside the script: a reply starts a sentence.
    let script: Vec<u32> = sentences.iter().flatten().copied().collect::<BTreeSet<_>>().into_iter().collect();
    if script.len() + 1 > WIDTH {
        return Err(Error::Metadata(format!("the script has {} distinct tokens, over {}", script.len(), WIDTH - 1)));
    }
    let class = |t: u32| script.binary_search(&t).map_or(0, |i| i + 1);
    let starts: BTreeSet<u32> = sentences.iter().filter_map(|s| s.first().copied()).collect();
    // (class, token) pairs: the token may follow tokens of that class.
    let mut follows: BTreeSet<(usize, u32)> = starts.iter().map(|&t| (0, t)).collect();
    for s in &sentences {
        for pair in s.windows(2) {
            follows.insert((class(pair[0]), pair[1]));
        }
        if let Some(&last) = s.last() {
            if !once {
                follows.extend(starts.iter().map(|&t| (class(last), t)));
            }
            follows.insert((class(last), end));
        }
    }

    // The normed one-hot state is sqrt(WIDTH) at its class: a head weight w
    // gives the logit w * sqrt(WIDTH).
    let head_weight = |logit: f32| logit / (WIDTH as f32).sqrt();
    let mut embed = vec![0f32; n_vocab * WIDTH];
    for t in 0..n_vocab {
        embed[t * WIDTH + class(t as u32)] = 1.0;
    }
    let mut head = vec![0f32; n_vocab * WIDTH];
    for &(c, t) in &follows {
        let logit = if t == end { LOGIT + END_WEIGHT.ln() } else { LOGIT };
        head[t as usize * WIDTH + c] = head_weight(logit);
    }

    let arch = "llama";
    let context = source.architecture().ok().and_then(|a| source.get_usize(&format!("{a}.context_length")).ok()).unwrap_or(8192);
    let mut meta: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(arch.into())),
        ("general.name".into(), Value::String("Kindred scripted test model".into())),
        (format!("{arch}.context_length"), Value::U32(context as u32)),
        (format!("{arch}.embedding_length"), Value::U32(WIDTH as u32)),
        (format!("{arch}.block_count"), Value::U32(1)),
        (format!("{arch}.feed_forward_length"), Value::U32(WIDTH as u32)),
        (format!("{arch}.attention.head_count"), Value::U32(1)),
        (format!("{arch}.attention.head_count_kv"), Value::U32(1)),
        (format!("{arch}.attention.layer_norm_rms_epsilon"), Value::F32(1e-6)),
    ];
    let mut keys: Vec<&String> = source.metadata.keys().filter(|k| k.starts_with("tokenizer.")).collect();
    keys.sort();
    meta.extend(keys.into_iter().map(|k| (k.clone(), source.metadata[k].clone())));

    let matrix = |name: &str, rows: usize, data: Vec<f32>| TensorData {
        name: name.into(),
        qtype: QType::Q8_0,
        dims: vec![rows, WIDTH],
        bytes: quant::quantize(QType::Q8_0, &data),
    };
    let zeros = |name: &str| matrix(name, WIDTH, vec![0.0; WIDTH * WIDTH]);
    let ones = |name: &str| TensorData { name: name.into(), qtype: QType::F32, dims: vec![WIDTH], bytes: 1f32.to_le_bytes().repeat(WIDTH) };
    let tensors = vec![
        matrix("token_embd.weight", n_vocab, embed),
        ones("blk.0.attn_norm.weight"),
        zeros("blk.0.attn_q.weight"),
        zeros("blk.0.attn_k.weight"),
        zeros("blk.0.attn_v.weight"),
        zeros("blk.0.attn_output.weight"),
        ones("blk.0.ffn_norm.weight"),
        zeros("blk.0.ffn_gate.weight"),
        zeros("blk.0.ffn_up.weight"),
        zeros("blk.0.ffn_down.weight"),
        ones("output_norm.weight"),
        matrix("output.weight", n_vocab, head),
    ];
    Ok(writer::write(&meta, &tensors))
}
