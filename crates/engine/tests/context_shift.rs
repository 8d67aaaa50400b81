//! Context shift: a prompt that leaves out spans of what the cache holds
//! (old turns cut to fit the context) keeps the cached runs after them,
//! moved down with their keys re-rotated, instead of reading them again.

use kindred_engine::kv_cache::KvCache;
use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::{GenerateOptions, SamplerOptions, Session};

const ARCHS: &[&str] = &["gemma3", "granite", "lfm2", "llama", "phi3", "qwen2", "qwen3"];

fn session(arch: &str) -> Session {
    Session::load(synthetic::write(&Spec::tiny(arch, QType::Q8_0)).unwrap()).unwrap()
}

/// `n` tokens of their own kind (`seed`), so spans never match by chance.
fn span(seed: usize, n: usize) -> Vec<u32> {
    (0..n).map(|i| (8 + (seed * 97 + i * 31 + i * i * 7) % 200) as u32).collect()
}

fn cat(parts: &[&[u32]]) -> Vec<u32> {
    parts.concat()
}

fn shifting() -> GenerateOptions {
    GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 4, context_shift: true, ..Default::default() }
}

/// Layer 0's keys and values depend on the token and its position only:
/// moved and re-rotated, they are what a cold read computes, up to the f16
/// rounding the cache stores them with.
fn layer0_as_cold(shifted: &KvCache, cold: &KvCache, what: &str) {
    assert_eq!(shifted.values(0), cold.values(0), "{what}: values move unchanged");
    let scale = cold.keys(0).iter().fold(0f32, |m, v| m.max(v.abs()));
    let diff = shifted.keys(0).iter().zip(cold.keys(0)).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    assert!(diff <= 2e-3 * scale, "{what}: keys rotated into place differ by {diff} (scale {scale})");
}

#[test]
fn a_cut_span_is_dropped_and_the_rest_kept_with_keys_rotated_into_place() {
    for &arch in ARCHS {
        let (p, x, s, n) = (span(1, 20), span(2, 40), span(3, 50), span(4, 10));
        let old = cat(&[&p, &x, &s]);
        let new = cat(&[&p, &s, &n]);
        let mut shifted = session(arch);
        shifted.warm(&old, false).unwrap();
        let info = shifted.warm(&new, true).unwrap();
        assert_eq!((info.n_reused, info.n_shifted), (70, 50), "{arch}: the prefix and the run after the cut kept");
        assert_eq!(shifted.cached_tokens(), &new[..], "{arch}");

        let mut cold = session(arch);
        cold.warm(&new, false).unwrap();
        let (a, b) = (shifted.cache(), cold.cache());
        layer0_as_cold(a, b, arch);
        // Before the cut and after the shifted run, every layer is exact.
        let kvd = a.widths()[a.n_layers() - 1].0;
        let last = a.keys(a.n_layers() - 1);
        assert_eq!(&last[..20 * kvd], &b.keys(b.n_layers() - 1)[..20 * kvd], "{arch}: prefix untouched");
        // Deeper layers of the moved run still carry the cut span: this is
        // an approximation, and the test shows it is one.
        assert_ne!(&last[20 * kvd..70 * kvd], &b.keys(b.n_layers() - 1)[20 * kvd..70 * kvd], "{arch}");
    }
}

#[test]
fn several_cuts_and_a_reply_read_only_what_is_new() {
    for &arch in ARCHS {
        let (p, x, s1, y, s2, n) = (span(1, 12), span(2, 30), span(3, 40), span(5, 9), span(6, 35), span(4, 6));
        let mut s = session(arch);
        s.warm(&cat(&[&p, &x, &s1, &y, &s2]), false).unwrap();
        let prompt = cat(&[&p, &s1, &s2, &n]);
        let reply = s.generate(&prompt, shifting(), |_| true).unwrap();
        assert_eq!(reply.start.n_reused, 12 + 40 + 35, "{arch}: both runs kept");
        assert_eq!(reply.start.n_shifted, 75, "{arch}");
        assert!(!reply.ids.is_empty(), "{arch}: a reply after the shift");
        assert_eq!(&s.cached_tokens()[..prompt.len()], &prompt[..], "{arch}");
    }
}

#[test]
fn no_shift_unless_asked_or_for_a_short_run() {
    for &arch in ARCHS {
        let (p, x, s, n) = (span(1, 20), span(2, 40), span(3, 50), span(4, 10));
        let mut plain = session(arch);
        plain.warm(&cat(&[&p, &x, &s]), false).unwrap();
        let info = plain.warm(&cat(&[&p, &s, &n]), false).unwrap();
        assert_eq!((info.n_reused, info.n_shifted), (20, 0), "{arch}: without context_shift only the prefix");

        // A run shorter than the minimum (here 20 tokens) is chance, not history.
        let short = &s[..20];
        let mut s2 = session(arch);
        s2.warm(&cat(&[&p, &x, short]), false).unwrap();
        let info = s2.warm(&cat(&[&p, short, &n]), true).unwrap();
        assert_eq!((info.n_reused, info.n_shifted), (20, 0), "{arch}");
        let mut cold = session(arch);
        cold.warm(&cat(&[&p, short, &n]), false).unwrap();
        assert_eq!(s2.cache().keys(1), cold.cache().keys(1), "{arch}: read again, exactly");
    }
}

#[test]
fn a_replaced_span_is_read_and_the_history_after_it_moves_up_or_down() {
    for &arch in ARCHS {
        for (old_len, new_len) in [(5, 30), (30, 5)] {
            let (p, s_old, s_new, h, n) = (span(1, 16), span(2, old_len), span(7, new_len), span(3, 60), span(4, 5));
            let mut s = session(arch);
            s.warm(&cat(&[&p, &s_old, &h]), false).unwrap();
            let prompt = cat(&[&p, &s_new, &h, &n]);
            let info = s.warm(&prompt, true).unwrap();
            assert_eq!((info.n_reused, info.n_shifted), (16 + 60, 60), "{arch} {old_len}->{new_len}");
            assert_eq!(s.cached_tokens(), &prompt[..], "{arch}: the new span read in its place");
            let mut cold = session(arch);
            cold.warm(&prompt, false).unwrap();
            let (a, b) = (s.cache(), cold.cache());
            layer0_as_cold(a, b, &format!("{arch} {old_len}->{new_len}"));
        }
    }
}

#[test]
fn a_reply_reads_its_last_prompt_token_even_when_it_was_kept() {
    for &arch in ARCHS {
        let (p, x, h) = (span(1, 16), span(2, 40), span(3, 60));
        let mut s = session(arch);
        s.warm(&cat(&[&p, &x, &h]), false).unwrap();
        let prompt = cat(&[&p, &h]);
        let reply = s.generate(&prompt, shifting(), |_| true).unwrap();
        assert_eq!((reply.start.n_reused, reply.start.n_shifted), (75, 59), "{arch}: the last token is read");
        assert!(s.logits().is_some_and(|l| l.iter().all(|v| v.is_finite())), "{arch}");
    }
}

#[test]
fn a_side_prompt_leaves_the_chat_cache_set_aside_in_place() {
    let (p, h, side) = (span(1, 30), span(3, 40), span(9, 20));
    let mut s = session("qwen3");
    s.warm(&cat(&[&p, &h]), false).unwrap();
    let before = s.cache().keys(1).to_vec();
    s.set_aside();
    assert!(s.cached_tokens().is_empty());
    let summary = s.generate(&side, shifting(), |_| true).unwrap();
    assert_eq!(summary.start.n_reused, 0, "the side prompt starts from nothing");
    assert!(s.take_back());
    assert_eq!(s.cached_tokens(), &cat(&[&p, &h])[..]);
    assert_eq!(s.cache().keys(1), &before[..], "the chat's cache is back as it was");
    assert!(!s.take_back(), "nothing left aside");
}

/// Random edits of a cached prompt (spans cut, replaced, inserted, the
/// tail changed), read with the shift: the cache always ends up holding
/// exactly the new prompt, its keys and values in place for every token, and
/// what was kept plus what was read is the whole prompt.
#[test]
fn random_edits_always_leave_the_cache_holding_the_new_prompt() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut s = session("qwen3");
    let mut prompt = span(1, 200);
    s.warm(&prompt, false).unwrap();
    let mut shifted = 0;
    for round in 0..12 {
        let mut next = prompt.clone();
        for _ in 0..1 + rand(3) {
            let at = rand(next.len());
            let len = rand(60).min(next.len() - at);
            let insert = if rand(2) == 0 { Vec::new() } else { span(10 + round * 7 + rand(5), rand(40)) };
            next.splice(at..at + len, insert);
        }
        next.truncate(300);
        if next.len() < 8 {
            next.extend(span(99, 20));
        }
        let info = s.warm(&next, true).unwrap();
        assert_eq!(s.cached_tokens(), &next[..], "round {round}");
        assert_eq!(s.cache().len(), next.len(), "round {round}: one cached position a token");
        assert!(info.n_reused <= next.len() && info.n_shifted <= info.n_reused, "round {round}: {info:?}");
        shifted += info.n_shifted;
        prompt = next;
    }
    assert!(shifted > 200, "the edits were read with the shift: {shifted} tokens kept past them");
    // The last state read cold has the same layer-0 values position by position.
    let mut cold = session("qwen3");
    cold.warm(&prompt, false).unwrap();
    layer0_as_cold(s.cache(), cold.cache(), "after 12 random edits");
}

/// Qwen3.5's recurrent state has summed the span a cut leaves out: nothing
/// is shifted, the prompt is read again from the last checkpoint before the
/// cut, and the reply is the cold one.
#[test]
fn a_recurrent_state_is_never_shifted() {
    let (p, x, s, n) = (span(1, 20), span(2, 40), span(3, 50), span(4, 10));
    let mut shifted = session("qwen35");
    shifted.warm(&cat(&[&p, &x, &s]), false).unwrap();
    let new = cat(&[&p, &s, &n]);
    let info = shifted.start(&new, shifting()).unwrap();
    assert_eq!((info.n_reused, info.n_shifted), (0, 0), "no checkpoint within the first 20 tokens");
    let warm = shifted.logits().unwrap().to_vec();
    let mut cold = session("qwen35");
    cold.start(&new, shifting()).unwrap();
    assert_eq!(warm, cold.logits().unwrap(), "the same reads, the same logits");
}
