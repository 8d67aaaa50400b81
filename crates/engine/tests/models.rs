//! Every architecture and weight type on tiny random-weight GGUFs written
//! by the test itself: batched prefill agrees with token-by-token decode
//! (matmul vs mat-vec, causal masks, RoPE positions, Gemma's sliding window
//! of 8 positions in these files), the KV-cache prefix is reused, and seeded
//! sampling is reproducible. Qwen3.5's recurrent state cuts back only to
//! its checkpoints (where a read began, and before a read's last token).

mod common;

use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::{GenerateOptions, SamplerOptions, Session};

const ARCHS: &[&str] = &["gemma3", "granite", "lfm2", "llama", "phi3", "qwen2", "qwen3", "qwen35"];

fn session(arch: &str, q: QType) -> Session {
    Session::load(synthetic::write(&Spec::tiny(arch, q)).unwrap()).unwrap_or_else(|e| panic!("{arch} {q:?}: {e}"))
}

fn prompt(n: usize, vocab: usize) -> Vec<u32> {
    (0..n).map(|i| (7 + i * 31 % (vocab - 8)) as u32).collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn prefill_equals_token_by_token_decode() {
    for &arch in ARCHS {
        for &q in QType::ALL {
            let s = session(arch, q);
            let ids = prompt(20, s.model.config().n_vocab);
            let mut batched = s.model.new_cache();
            let a = s.model.forward(&ids, &mut batched).unwrap();
            let mut stepped = s.model.new_cache();
            let mut b = Vec::new();
            for &t in &ids {
                b = s.model.forward(&[t], &mut stepped).unwrap();
            }
            let d = max_diff(&a, &b);
            assert!(d < 2e-3, "{arch} {q:?}: batched vs stepped logits differ by {d}");
            assert!(a.iter().all(|v| v.is_finite()), "{arch} {q:?}: logits finite");
        }
    }
}

#[test]
fn sliding_window_changes_gemma_logits() {
    // Both layers of the tiny model are local (layer il is global only when
    // il % 6 == 5) with an 8-position window: the last token (19) reads
    // layer-0 outputs 12..19, which read inputs 5..19. Token 0 cannot matter.
    let s = session("gemma3", QType::Q8_0);
    let mut ids = prompt(20, s.model.config().n_vocab);
    let a = s.model.forward(&ids, &mut s.model.new_cache()).unwrap();
    ids[0] = 99;
    let b = s.model.forward(&ids, &mut s.model.new_cache()).unwrap();
    assert!(max_diff(&a, &b) < 1e-5, "token outside the window leaked into attention");
    ids[15] = 99;
    let c = s.model.forward(&ids, &mut s.model.new_cache()).unwrap();
    assert!(max_diff(&b, &c) > 1e-3, "a token inside the window must matter");
}

#[test]
fn prefix_is_reused_and_gives_the_same_logits() {
    for &arch in ARCHS {
        let mut s = session(arch, QType::Q8_0);
        let ids = prompt(30, s.model.config().n_vocab);
        let greedy = || GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 4, stop: vec![], context_shift: false, json_schema: None };
        let info = s.start(&ids[..20], greedy()).unwrap();
        assert_eq!(info.n_reused, 0);
        let info = s.start(&ids, greedy()).unwrap();
        assert_eq!(info.n_reused, 20, "{arch}: the first 20 tokens are cached");
        let reused = s.logits().unwrap().to_vec();
        let mut fresh = session(arch, QType::Q8_0);
        fresh.start(&ids, greedy()).unwrap();
        assert!(max_diff(&reused, fresh.logits().unwrap()) < 1e-4, "{arch}");
        // A diverging prompt truncates the cache to the common prefix (a
        // recurrent state to its last checkpoint within it: none here).
        let mut other = ids[..10].to_vec();
        other.extend_from_slice(&prompt(5, 40));
        let recurrent = s.cache().is_recurrent();
        assert_eq!(s.start(&other, greedy()).unwrap().n_reused, if recurrent { 0 } else { 10 }, "{arch}");
        let cut = s.logits().unwrap().to_vec();
        let mut fresh = session(arch, QType::Q8_0);
        fresh.start(&other, greedy()).unwrap();
        assert!(max_diff(&cut, fresh.logits().unwrap()) < 1e-4, "{arch}: a cut cache answers as a fresh one");
        // The same prompt again reuses all but the last token.
        assert_eq!(s.start(&other, greedy()).unwrap().n_reused, other.len() - 1);
    }
}

#[test]
fn a_warm_up_reads_the_prefix_and_the_reply_reuses_it() {
    use kindred_engine::StopReason;
    for &arch in ARCHS {
        let mut s = session(arch, QType::Q8_0);
        // Longer than one prefill chunk, so a warm-up cut short keeps some.
        let ids = prompt(150, s.model.config().n_vocab);
        let greedy = || GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 8, stop: vec![], context_shift: false, json_schema: None };
        let info = s.begin_warm(&ids[..140], false).unwrap();
        assert_eq!((info.n_prompt, info.n_reused), (140, 0));
        let first = s.next().unwrap();
        assert_eq!(first.prefill_left, Some(76), "{arch}: one chunk read");
        // A reply that comes now joins: what the warm-up read stays.
        assert_eq!(s.start(&ids, greedy()).unwrap().n_reused, 64, "{arch}");
        s.reset();
        let info = s.warm(&ids[..140], false).unwrap();
        assert_eq!(info.n_reused, 0);
        assert_eq!(s.cached_tokens(), &ids[..140], "{arch}: every prefix token read, none sampled");
        // Warming what is already cached reads nothing more, and ends without a token.
        s.begin_warm(&ids[..140], false).unwrap();
        let step = s.next().unwrap();
        assert!(step.done && step.token.is_none(), "{arch}: {step:?}");
        assert_eq!(step.stop_reason, Some(StopReason::Prefilled));
        let warm = s.generate(&ids, greedy(), |_| true).unwrap();
        let mut cold = session(arch, QType::Q8_0);
        let fresh = cold.generate(&ids, greedy(), |_| true).unwrap();
        assert_eq!(warm.start.n_reused, 140, "{arch}");
        assert_eq!(warm.ids, fresh.ids, "{arch}: a warmed prompt gives the cold reply");
        assert!(s.begin_warm(&prompt(5000, 40), false).is_err(), "{arch}: longer than the context");
    }
}

#[test]
fn a_stored_prefix_restores_the_cache_and_a_bad_one_is_refused() {
    for &arch in ARCHS {
        let mut s = session(arch, QType::Q4K);
        let ids = prompt(100, s.model.config().n_vocab);
        let greedy = || GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 8, stop: vec![], context_shift: false, json_schema: None };
        s.warm(&ids[..90], false).unwrap();
        let stored = s.save_prefix(80);
        // A recurrent state is known where the second chunk's read began.
        let n = if s.cache().is_recurrent() { 64 } else { 80 };
        let mut fresh = session(arch, QType::Q4K);
        assert_eq!(fresh.restore_prefix(&stored).unwrap(), n, "{arch}");
        assert_eq!(fresh.cached_tokens(), &ids[..n]);
        let restored = fresh.generate(&ids, greedy(), |_| true).unwrap();
        assert_eq!(restored.start.n_reused, n, "{arch}: the stored tokens are not read again");
        let cold = session(arch, QType::Q4K).generate(&ids, greedy(), |_| true).unwrap();
        assert_eq!(restored.ids, cold.ids, "{arch}: a restored prefix gives the cold reply");

        // Any changed byte, a cut, another model: refused, and the cache is left as it was.
        let mut other = session(arch, QType::Q4K);
        other.warm(&ids[..10], false).unwrap();
        for (i, bad) in [(0, 0x01u8), (40, 0x80), (stored.len() / 2, 0x04), (stored.len() - 1, 0x10)] {
            let mut b = stored.clone();
            b[i] ^= bad;
            assert!(other.restore_prefix(&b).is_err(), "{arch}: byte {i} changed");
        }
        assert!(other.restore_prefix(&stored[..stored.len() - 9]).is_err(), "{arch}: cut");
        assert!(other.restore_prefix(b"").is_err());
        let foreign = session(arch, QType::Q8_0);
        assert!(session(arch, QType::Q4K).restore_prefix(&foreign.save_prefix(0)).is_err(), "{arch}: another model's");
        assert_eq!(other.cached_tokens(), &ids[..10], "{arch}: a refused prefix leaves the cache");
    }
}

#[test]
fn same_seed_same_text_other_seed_other_text() {
    for &arch in ARCHS {
        let run = |seed: u64| {
            let mut s = session(arch, QType::Q4K);
            let ids = prompt(8, s.model.config().n_vocab);
            let opts = GenerateOptions {
                sampler: SamplerOptions { temperature: 1.5, top_k: 0, top_p: 1.0, min_p: 0.0, seed, ..Default::default() },
                max_tokens: 24,
                ..Default::default()
            };
            s.generate(&ids, opts, |_| true).unwrap().ids
        };
        assert_eq!(run(1), run(1), "{arch}: same seed");
        assert_ne!(run(1), run(2), "{arch}: different seeds");
    }
}

#[test]
fn generation_stops_on_max_tokens_and_cancel() {
    let mut s = session("llama", QType::Q8_0);
    let ids = prompt(5, s.model.config().n_vocab);
    let opts = GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 3, stop: vec![], context_shift: false, json_schema: None };
    let out = s.generate(&ids, opts.clone(), |_| true).unwrap();
    assert!(out.ids.len() <= 3);
    let mut calls = 0;
    let opts = GenerateOptions { max_tokens: 50, ..opts };
    let out = s.generate(&ids, opts, |_| {
        calls += 1;
        calls < 2
    });
    let out = out.unwrap();
    assert!(out.ids.len() <= 3, "cancelled after the second piece, got {} tokens", out.ids.len());
}
