//! Steps queued ahead (`GpuModel::decode_async` with `next`): each step
//! submits the one after it, reading its input token on the GPU, before
//! the CPU reads that token back. The ids are the ones steps run one at a
//! time pick (greedy, penalised, sampled; after a prompt and after single
//! tokens), and a queued step nobody takes leaves no trace: the next run
//! at that position, with another token, gives the logits it would have.
//! Tiny random-weight models of both families, natively (lavapipe will do).
#![cfg(feature = "gpu")]

use kindred_engine::gpu::{GpuModel, GpuModelOptions, Pick, SampleParams};
use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::{GenerateOptions, Gguf, SamplerOptions, Session};

const STEPS: usize = 12;
const PROMPT: [u32; 5] = [2, 40, 41, 42, 43];
/// A prompt whose greedy reply on the tiny model runs 8 tokens without an end of turn.
const REPLY_PROMPT: [u32; 4] = [2, 10, 11, 12];

fn model(arch: &str, q: QType) -> GpuModel {
    let g = Gguf::from_bytes(synthetic::write(&Spec::tiny(arch, q)).unwrap()).unwrap();
    on_gpu(&g)
}

fn on_gpu(g: &Gguf) -> GpuModel {
    let opts = GpuModelOptions { context: Some(64), ..Default::default() };
    GpuModel::load_with(g, &opts).unwrap_or_else(|e| panic!("no GPU model ({e}); a Vulkan driver (lavapipe will do) is required"))
}

fn draw(i: usize) -> f32 {
    ((i * 7919 + 13) % 1000) as f32 / 1000.0
}

/// `STEPS` picks after `PROMPT`, each step's pick the next one's input,
/// with `o`'s rule (its draws fixed); with `ahead` every step queues the
/// next. Returns the ids and how many steps were taken from the queue.
fn run(m: &mut GpuModel, o: &SamplerOptions, ahead: bool) -> (Vec<u32>, usize) {
    m.truncate(0);
    let mut recent = PROMPT.to_vec();
    let mut input = PROMPT.to_vec();
    let (mut ids, mut taken) = (Vec::new(), 0);
    for i in 0..STEPS {
        let queued = m.has_ahead(&input);
        let before = m.taken_ahead();
        let params = (!queued).then(|| SampleParams::new(o, &recent, draw(i)));
        let next = (ahead && i + 1 < STEPS).then(|| SampleParams::after_pending(o, &recent, draw(i + 1)));
        let t = m.decode(&input, params.as_ref().map(Pick::Sample), next.as_ref().map(Pick::Sample)).unwrap();
        taken += (m.taken_ahead() - before) as usize;
        assert_eq!(m.taken_ahead() - before, queued as u64);
        ids.push(t);
        recent.push(t);
        input = vec![t];
    }
    (ids, taken)
}

fn rules() -> Vec<(&'static str, SamplerOptions)> {
    vec![
        ("greedy", SamplerOptions::greedy()),
        // The last four tokens can never come back: the window must hold
        // the token still on the GPU.
        ("greedy, presence 100 over 4", SamplerOptions { presence_penalty: 100.0, penalty_last_n: 4, ..SamplerOptions::greedy() }),
        (
            "sampled with penalties",
            SamplerOptions {
                temperature: 0.9,
                top_k: 20,
                repeat_penalty: 1.3,
                frequency_penalty: 0.4,
                presence_penalty: 0.2,
                penalty_last_n: 6,
                ..Default::default()
            },
        ),
    ]
}

#[test]
fn queued_steps_pick_what_single_steps_pick() {
    for (arch, q) in [("gemma3", QType::Q5_0), ("qwen2", QType::Q4K)] {
        let mut m = model(arch, q);
        for (name, o) in rules() {
            let (plain, none) = run(&mut m, &o, false);
            let (queued, taken) = run(&mut m, &o, true);
            assert_eq!(none, 0);
            assert_eq!(taken, STEPS - 1, "{arch}, {name}: every step after the first was queued");
            assert_eq!(queued, plain, "{arch}, {name}");
            if o.presence_penalty >= 100.0 {
                let mut all = PROMPT.to_vec();
                for &t in &queued {
                    assert!(!all[all.len() - 4..].contains(&t), "{arch}: {t} came back within 4 tokens: {queued:?}");
                    all.push(t);
                }
            }
        }
        // Greedy through the argmax kernels, as the benches decode.
        m.truncate(0);
        let first = m.forward_argmax(&PROMPT).unwrap();
        let one_by_one = m.decode_greedy(first, STEPS, false).unwrap();
        m.truncate(0);
        assert_eq!(m.forward_argmax(&PROMPT).unwrap(), first);
        assert_eq!(m.decode_greedy(first, STEPS, true).unwrap(), one_by_one, "{arch}: argmax decode");
        assert_eq!(m.len(), PROMPT.len() + STEPS, "the last step queued nothing and every taken one counts");
    }
}

#[test]
fn a_queued_step_nobody_takes_leaves_no_trace() {
    let mut m = model("qwen2", QType::Q4K);
    let mut fresh = model("qwen2", QType::Q4K);
    let t = m.decode(&PROMPT, Some(Pick::Argmax), Some(Pick::Argmax)).unwrap();
    assert_eq!(m.len(), PROMPT.len(), "the queued step's position is not counted");
    assert!(m.has_ahead(&[t]));
    let other = if t == 50 { 51 } else { 50 };
    assert!(!m.has_ahead(&[other]), "queued for the token it read, not any token");
    assert!(m.decode(&[other], None, None).is_err(), "no step is queued for another token");
    assert!(m.has_ahead(&[t]), "and asking for one keeps the queued step");

    // Another token at the queued step's position: the logits a model that
    // never queued anything gives.
    let got = m.forward(&[other]).unwrap();
    fresh.forward(&PROMPT).unwrap();
    let want = fresh.forward(&[other]).unwrap();
    assert_eq!(got, want);
    assert!(!m.has_ahead(&[t]), "a run clears the queue");

    // Cut back below a queued step: it is gone too.
    m.truncate(PROMPT.len());
    let t = m.decode(&[other], Some(Pick::Argmax), Some(Pick::Argmax)).unwrap();
    assert!(m.has_ahead(&[t]));
    m.truncate(PROMPT.len() + 1);
    assert!(m.has_ahead(&[t]), "cutting at its position keeps it");
    m.truncate(PROMPT.len());
    assert!(!m.has_ahead(&[t]));
}

/// Steps a begun generation on the GPU until `n` reply tokens came back.
fn reply_tokens(s: &mut Session, m: &mut GpuModel, n: usize) -> Vec<u32> {
    let mut ids = Vec::new();
    while ids.len() < n {
        let step = pollster::block_on(s.next_on_gpu(m)).unwrap();
        assert!(step.fault.is_none(), "{:?}", step.fault);
        if step.step.prefill_left.is_none() {
            ids.extend(step.step.token);
        }
        if step.step.done {
            break;
        }
    }
    ids
}

/// A reply left after two tokens has queued the step for its third; a new
/// prompt ending in exactly that third token must run it with the new
/// settings, not take the old reply's step (which would pick the old
/// reply's fourth token).
#[test]
fn a_new_prompt_never_takes_the_last_replys_queued_step() {
    let mut s = Session::load(synthetic::write(&Spec::tiny("qwen2", QType::Q4K)).unwrap()).unwrap();
    let mut m = on_gpu(s.model.gguf());
    let greedy = GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 8, stop: Vec::new(), context_shift: false, json_schema: None };
    s.begin(&REPLY_PROMPT, greedy.clone()).unwrap();
    let ids = reply_tokens(&mut s, &mut m, 8);
    assert_eq!(ids.len(), 8);

    s.reset();
    s.begin(&REPLY_PROMPT, greedy).unwrap();
    assert_eq!(reply_tokens(&mut s, &mut m, 2), ids[..2]);
    let mut prompt = REPLY_PROMPT.to_vec();
    prompt.extend_from_slice(&ids[..3]);
    // The new settings forbid the last 8 tokens, the old reply's next pick among them.
    let presence = SamplerOptions { presence_penalty: 100.0, penalty_last_n: 8, ..SamplerOptions::greedy() };
    let window = |all: &[u32]| all[all.len().saturating_sub(8)..].to_vec();
    assert!(window(&prompt).contains(&ids[3]), "the test needs the old pick in the new window: {ids:?}");
    let info = s.begin(&prompt, GenerateOptions { sampler: presence, max_tokens: 4, stop: Vec::new(), context_shift: false, json_schema: None }).unwrap();
    assert_eq!(info.n_reused, prompt.len() - 1, "only the third token is read");
    let taken = m.taken_ahead();
    let first = pollster::block_on(s.next_on_gpu(&mut m)).unwrap();
    assert_eq!(first.step.prefill_left, Some(0), "the prompt's run");
    assert_eq!(m.taken_ahead(), taken, "the prompt's run was taken from the old reply's queue");
    let again = reply_tokens(&mut s, &mut m, 4);
    assert!(!again.is_empty());
    let mut all = prompt.clone();
    for &t in &again {
        assert!(!window(&all).contains(&t), "{t} ignores the new penalty: {again:?}");
        all.push(t);
    }
}
