//! A chat session's steps on the GPU (`Session::next_on_gpu`), natively on
//! whatever adapter wgpu finds (lavapipe will do): greedy tokens equal the
//! CPU session's up to the first near tie, the second turn reuses the
//! cached prefix on the GPU, and a device destroyed mid-reply hands the
//! reply to the CPU, which finishes it as if nothing had happened.
//!
//! Tolerance: as in gpu_model.rs, ids are compared wherever the CPU's top
//! two logits are at least `NEAR_TIE` apart.
#![cfg(feature = "gpu")]

mod common;

use kindred_engine::gpu::{GpuModel, GpuModelOptions};
use kindred_engine::{GenerateOptions, SamplerOptions, Session};

const NEAR_TIE: f32 = 0.5;
const TOKENS: usize = 6;

fn greedy() -> GenerateOptions {
    GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: TOKENS, stop: Vec::new(), context_shift: false, json_schema: None }
}

/// NaN before any logits (the prompt not yet read).
fn top2_margin(l: &[f32]) -> f32 {
    let mut v: Vec<f32> = l.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    match v.as_slice() {
        [a, b, ..] => a - b,
        _ => f32::NAN,
    }
}

/// (token, CPU top-2 margin before it) for each generated token.
fn run_cpu(s: &mut Session, prompt: &[u32]) -> Vec<(u32, f32)> {
    s.begin(prompt, greedy()).unwrap();
    let mut out = Vec::new();
    loop {
        let margin = s.logits().map(top2_margin).unwrap_or(f32::NAN);
        let step = s.next().unwrap();
        if step.prefill_left.is_some() {
            continue;
        }
        if let Some(t) = step.token {
            out.push((t, margin));
        }
        if step.done {
            return out;
        }
    }
}

/// Steps a begun generation to its end on the GPU (on the CPU once the GPU
/// is gone); `lose_after` destroys the device after that many tokens.
/// Returns the tokens, the text and the fault seen, if any.
fn finish_on_gpu(s: &mut Session, gpu: &mut Option<GpuModel>, lose_after: Option<usize>) -> (Vec<u32>, String, Option<String>) {
    let (mut ids, mut text, mut fault) = (Vec::new(), String::new(), None);
    loop {
        let step = match gpu.as_mut() {
            Some(m) => {
                let r = pollster::block_on(s.next_on_gpu(m)).unwrap();
                if let Some(e) = r.fault {
                    fault = Some(e.to_string());
                    *gpu = None;
                }
                r.step
            }
            None => s.next().unwrap(),
        };
        if step.prefill_left.is_some() {
            continue;
        }
        text.push_str(&step.piece);
        if let Some(t) = step.token {
            ids.push(t);
            if Some(ids.len()) == lose_after {
                if let Some(m) = gpu.as_ref() {
                    m.destroy_device();
                }
            }
        }
        if step.done {
            return (ids, text, fault);
        }
    }
}

/// Greedy ids equal up to the CPU's first near tie; how many were compared.
fn compare(what: &str, gpu: &[u32], cpu: &[(u32, f32)]) -> usize {
    let mut compared = 0;
    for (i, &(want, margin)) in cpu.iter().enumerate() {
        if margin < NEAR_TIE {
            break;
        }
        assert_eq!(gpu.get(i), Some(&want), "{what}: token {i} (cpu margin {margin:.3})");
        compared += 1;
    }
    compared
}

#[test]
fn gemma_session_on_gpu_matches_cpu_reuses_prefix_and_falls_back() {
    let mut s = Session::load(common::gemma_bytes()).unwrap();
    // A prompt whose first tokens are clear on the CPU (margins 1.3-5),
    // so the GPU's ids are compared for several of them.
    let prompt = s.encode_prompt("The capital of France is Paris. The capital of Germany is").unwrap();
    let cpu = run_cpu(&mut s, &prompt);
    let cpu_ids: Vec<u32> = cpu.iter().map(|x| x.0).collect();
    let mut longer = prompt.clone();
    longer.extend_from_slice(&cpu_ids);
    longer.extend(s.encode_prompt(" And the capital of Italy is").unwrap().into_iter().skip(1));
    let cpu2 = run_cpu(&mut s, &longer);

    let opts = GpuModelOptions { context: Some(256), ..Default::default() };
    let model = GpuModel::load_with(s.model.gguf(), &opts)
        .unwrap_or_else(|e| panic!("the GPU model did not load ({e}); a Vulkan driver (lavapipe will do) is required"));
    eprintln!("{}", serde_json::to_string(model.report()).unwrap());
    let mut gpu = Some(model);

    s.reset();
    s.begin(&prompt, greedy()).unwrap();
    let (ids, text, fault) = finish_on_gpu(&mut s, &mut gpu, None);
    assert!(fault.is_none(), "{fault:?}");
    let compared = compare("first turn", &ids, &cpu);
    assert!(compared >= 3, "only {compared} tokens before a near tie: {cpu:?}");
    eprintln!("GPU greedy: {text:?}");

    // A second turn that extends the first: the GPU keeps the shared prefix
    // (the prompt and the reply but its last token, which never ran).
    let mut cached = prompt.clone();
    cached.extend_from_slice(&ids[..ids.len() - 1]);
    let common = cached.iter().zip(&longer).take_while(|(a, b)| a == b).count();
    let info = s.begin(&longer, greedy()).unwrap();
    assert_eq!(info.n_reused, common.min(longer.len() - 1));
    assert!(info.n_reused > prompt.len(), "the prompt and part of the reply are reused");
    let (ids2, _, fault) = finish_on_gpu(&mut s, &mut gpu, None);
    assert!(fault.is_none(), "{fault:?}");
    compare("second turn", &ids2, &cpu2);

    // A side prompt (a chat's summary) read with the chat's cache set aside,
    // then the chat again: the GPU's cache holds the side prompt, longer than
    // the chat, so the session has it read the chat again there (cutting the
    // GPU's cache back to the chat's length would keep the side prompt's
    // keys), and the reply is the same.
    s.set_aside();
    let side = s.encode_prompt(&"Summarise: the lighthouse keeper counted the ships. ".repeat(6)).unwrap();
    assert!(side.len() > longer.len() + TOKENS);
    s.begin(&side, greedy()).unwrap();
    finish_on_gpu(&mut s, &mut gpu, None);
    assert!(s.take_back());
    s.begin(&longer, greedy()).unwrap();
    let (ids3, _, fault) = finish_on_gpu(&mut s, &mut gpu, None);
    assert!(fault.is_none(), "{fault:?}");
    assert_eq!(ids3, ids2, "the chat taken back gives the same reply on the GPU");

    // Lost after two tokens: the CPU re-reads everything and finishes the
    // greedy reply, so it is the CPU's.
    s.reset();
    s.begin(&prompt, greedy()).unwrap();
    let (lost_ids, _, fault) = finish_on_gpu(&mut s, &mut gpu, Some(2));
    let fault = fault.expect("destroying the device is noticed");
    eprintln!("fault: {fault}");
    assert!(gpu.is_none());
    assert_eq!(lost_ids, cpu_ids, "the reply goes on where it was");
    // And the session keeps working on the CPU.
    let again = run_cpu(&mut s, &prompt);
    assert_eq!(again.iter().map(|x| x.0).collect::<Vec<_>>(), cpu_ids);
}

/// Sampling on the GPU: only token ids come back (the session holds no
/// logits), a seed gives the same reply twice, a caller that asks for
/// the logits gets them (sampled on the CPU) with the same greedy reply,
/// and DRY, whose penalties the CPU works out, moves a real model off a
/// repeat as the CPU does.
#[test]
fn gemma_session_samples_on_gpu_reproducibly() {
    let mut s = Session::load(common::gemma_bytes()).unwrap();
    let prompt = s.encode_prompt("Once upon a time").unwrap();
    let opts = GpuModelOptions { context: Some(256), ..Default::default() };
    let mut model = GpuModel::load_with(s.model.gguf(), &opts).unwrap();
    let n_vocab = model.config().n_vocab;
    let sampled = GenerateOptions { sampler: SamplerOptions { seed: 5, ..Default::default() }, max_tokens: TOKENS, stop: Vec::new(), context_shift: false, json_schema: None };

    let run_on = |s: &mut Session, model: &mut GpuModel, o: &GenerateOptions, prompt: &[u32]| {
        s.reset();
        s.begin(prompt, o.clone()).unwrap();
        let mut ids = Vec::new();
        let mut logits_seen = Vec::new();
        loop {
            let r = pollster::block_on(s.next_on_gpu(model)).unwrap();
            assert!(r.fault.is_none(), "{:?}", r.fault);
            logits_seen.push(s.logits().map_or(0, |l| l.len()));
            if let Some(t) = r.step.token {
                ids.push(t);
            }
            if r.step.done {
                return (ids, logits_seen);
            }
        }
    };
    let run = |s: &mut Session, model: &mut GpuModel, o: &GenerateOptions| run_on(s, model, o, &prompt);
    let (first, seen) = run(&mut s, &mut model, &sampled);
    assert_eq!(first.len(), TOKENS);
    assert!(first.iter().all(|&t| (t as usize) < n_vocab));
    assert!(seen.iter().all(|&n| n == 0), "no logits read back: {seen:?}");
    let (second, _) = run(&mut s, &mut model, &sampled);
    assert_eq!(first, second, "the same seed, the same reply");

    let (greedy_gpu, _) = run(&mut s, &mut model, &greedy());
    model.set_read_logits(true);
    let (greedy_cpu_sampled, seen) = run(&mut s, &mut model, &greedy());
    assert!(seen.contains(&n_vocab), "logits read back when asked: {seen:?}");
    assert_eq!(greedy_gpu, greedy_cpu_sampled, "greedy on the GPU is the argmax the CPU takes");

    // DRY: the CPU works out its penalties, the GPU samples with them (no
    // logits come back), a step at a time since the penalties hang on the
    // last token; the same ids as the CPU sampling them all. A prompt that
    // repeats itself, so DRY moves the very first token.
    let repeat = s.encode_prompt("one two three four one two three four one two three").unwrap();
    let sampler = SamplerOptions { dry_multiplier: 0.8, dry_allowed_length: 2, ..SamplerOptions::greedy() };
    let dry = GenerateOptions { sampler, max_tokens: 4, stop: Vec::new(), context_shift: false, json_schema: None };
    model.set_read_logits(true);
    let (cpu_dry, _) = run_on(&mut s, &mut model, &dry, &repeat);
    model.set_read_logits(false);
    let (gpu_dry, seen) = run_on(&mut s, &mut model, &dry, &repeat);
    assert_eq!(gpu_dry, cpu_dry, "DRY on the GPU with the CPU's penalties");
    assert!(seen.iter().all(|&n| n == 0), "no logits read back with DRY: {seen:?}");
    let (plain, _) = run_on(&mut s, &mut model, &GenerateOptions { max_tokens: 4, ..greedy() }, &repeat);
    assert_ne!(plain[0], cpu_dry[0], "DRY moved the first token off the repeat: {plain:?} {cpu_dry:?}");
}

/// Penalties and the raised end of turn, on the GPU as on the CPU, on a
/// tiny random-weight model: what is checked is the sampling and the
/// queueing of steps, which the model's size does not change (Gemma's
/// 262,144-entry vocabulary made each step seconds on a software GPU).
#[test]
fn penalties_and_the_raised_end_sample_on_gpu_as_on_cpu() {
    use kindred_engine::quant::QType;
    use kindred_engine::synthetic::{self, Spec};
    let mut s = Session::load(synthetic::write(&Spec::tiny("qwen3", QType::Q8_0)).unwrap()).unwrap();
    let prompt = s.encode_prompt("Once upon a time").unwrap();
    let opts = GpuModelOptions { context: Some(256), ..Default::default() };
    let mut model = GpuModel::load_with(s.model.gguf(), &opts).unwrap();
    let run = |s: &mut Session, model: &mut GpuModel, o: &GenerateOptions| {
        s.reset();
        s.begin(&prompt, o.clone()).unwrap();
        let mut ids = Vec::new();
        loop {
            let r = pollster::block_on(s.next_on_gpu(model)).unwrap();
            assert!(r.fault.is_none(), "{:?}", r.fault);
            if let Some(t) = r.step.token {
                ids.push(t);
            }
            if r.step.done {
                return ids;
            }
        }
    };

    // Penalties over a short window, each GPU step queued before its input
    // token was read (that token counted on the GPU): the CPU sampler on the
    // same logits picks the same tokens, and no token comes back within it.
    let sampler = SamplerOptions { repeat_penalty: 1.5, presence_penalty: 50.0, penalty_last_n: 3, ..SamplerOptions::greedy() };
    let penalised = GenerateOptions { sampler, max_tokens: 12, stop: Vec::new(), context_shift: false, json_schema: None };
    model.set_read_logits(true);
    let cpu_sampled = run(&mut s, &mut model, &penalised);
    model.set_read_logits(false);
    let taken = model.taken_ahead();
    let gpu_sampled = run(&mut s, &mut model, &penalised);
    assert_eq!(model.taken_ahead() - taken, 11, "every step after the prompt's was queued ahead");
    assert_eq!(gpu_sampled, cpu_sampled, "penalised greedy, queued ahead on the GPU and one step at a time on the CPU");
    let mut window = prompt[prompt.len() - 3..].to_vec();
    for &t in &gpu_sampled {
        assert!(!window[window.len() - 3..].contains(&t), "{t} came back within 3 tokens: {gpu_sampled:?}");
        window.push(t);
    }

    // The end of turn raised more with every token past the fourth: the
    // reply ends early, at the same token on both backends (a step queued
    // ahead counts the token it waits for in the reply's length).
    let sampler = SamplerOptions { end_boost: 2.0, end_boost_after: 4, ..SamplerOptions::greedy() };
    let ending = GenerateOptions { sampler, max_tokens: 24, stop: Vec::new(), context_shift: false, json_schema: None };
    model.set_read_logits(true);
    let cpu_ended = run(&mut s, &mut model, &ending);
    model.set_read_logits(false);
    let gpu_ended = run(&mut s, &mut model, &ending);
    assert_eq!(gpu_ended, cpu_ended, "the raised end, queued ahead on the GPU and one step at a time on the CPU");
    assert!(cpu_ended.len() < 24 && s.tokenizer.is_eog(*cpu_ended.last().unwrap()), "ended by an end token: {cpu_ended:?}");
}

/// A reply kept to a JSON Schema on the GPU: the GPU hands the logits back
/// and the CPU checks each token against the value, so the reply parses,
/// fits, and ends with the value, as on the CPU.
#[test]
fn gemma_session_keeps_a_json_reply_to_its_schema_on_gpu() {
    let mut s = Session::load(common::gemma_bytes()).unwrap();
    let prompt = s.encode_prompt("The weather in Paris today, as JSON:").unwrap();
    let schema = serde_json::json!({
        "type": "object",
        "properties": { "sky": { "enum": ["sunny", "cloudy", "rain"] }, "celsius": { "type": "integer" } },
        "required": ["sky", "celsius"]
    });
    let opts = GenerateOptions { max_tokens: 40, json_schema: Some(schema), ..greedy() };
    s.begin(&prompt, opts.clone()).unwrap();
    let (_, cpu_text, _) = finish_on_gpu(&mut s, &mut None, None);
    let model = GpuModel::load_with(s.model.gguf(), &GpuModelOptions { context: Some(256), ..Default::default() }).unwrap();
    s.reset();
    s.begin(&prompt, opts).unwrap();
    let (_, text, fault) = finish_on_gpu(&mut s, &mut Some(model), None);
    assert!(fault.is_none(), "{fault:?}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(["sunny", "cloudy", "rain"].contains(&v["sky"].as_str().unwrap_or("")), "{text}");
    assert!(v["celsius"].is_i64(), "{text}");
    eprintln!("GPU: {text:?}, CPU: {cpu_text:?}");
    serde_json::from_str::<serde_json::Value>(&cpu_text).unwrap();
}
