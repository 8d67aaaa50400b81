//! The script guard on the app's default model (Qwen2.5-Coder 0.5B
//! Instruct, a byte-level vocabulary of 151k tokens with many Chinese
//! ones): an English chat's prompt allows Latin only, so the tokens of
//! Chinese words are never sampled, while punctuation and accented Latin
//! stay; a message in Japanese brings its scripts in. Asked outright for
//! Chinese, the model writes it without the guard and not with it.

use std::path::PathBuf;
use std::time::Instant;

use kindred_characters::script::{mask, Script};
use kindred_engine::{GenerateOptions, SamplerOptions, Session};
use kindred_web::script_guard::{allowed, ScriptGuard};

fn qwen() -> Session {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; the test set-up fetches it (scripts/setup.sh test)", path.display())
    });
    Session::load(bytes).unwrap()
}

#[test]
fn an_english_chat_never_samples_chinese_tokens() {
    let s = qwen();
    let t0 = Instant::now();
    let guard = ScriptGuard::new(&s.tokenizer);
    eprintln!("guard over {} tokens built in {} ms", s.tokenizer.vocab_size(), t0.elapsed().as_millis());

    let english = allowed("<|im_start|>system\nYou are Wren, who runs a tea room.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>");
    assert_eq!(english, Script::Latin.bit());
    let banned = guard.suppressed(english);
    let ids = |text: &str| s.tokenizer.encode(text, false).unwrap();
    for word in ["值得", "爱好", "こんにちは", "привет"] {
        for id in ids(word) {
            assert!(banned.binary_search(&id).is_ok(), "{word}: token {id} is allowed");
        }
    }
    for text in [" hello", "’s", " café, naïve", " 42!", "\n\n", " “quoted”"] {
        for id in ids(text) {
            assert!(banned.binary_search(&id).is_err(), "{text:?}: token {id} is suppressed");
        }
    }
    assert!(banned.len() > 10_000, "{} tokens suppressed: Qwen has tens of thousands of CJK ones", banned.len());

    let japanese = allowed("You are Wren.\nuser: こんにちは、元気ですか");
    let banned_ja = guard.suppressed(japanese);
    for id in ids("こんにちは") {
        assert!(banned_ja.binary_search(&id).is_err(), "a Japanese message allows Japanese");
    }
}

#[test]
fn asked_for_chinese_the_guarded_reply_stays_in_latin() {
    let mut s = qwen();
    let prompt = "<|im_start|>user\nWrite the Chinese characters for \"thank you\" and \"friend\".<|im_end|>\n<|im_start|>assistant\n";
    let ids = s.encode_prompt(prompt).unwrap();
    let greedy = |suppress: Vec<u32>| GenerateOptions {
        sampler: SamplerOptions { suppress: suppress.into(), ..SamplerOptions::greedy() },
        max_tokens: 24,
        ..GenerateOptions::default()
    };
    let free = s.generate(&ids, greedy(Vec::new()), |_| true).unwrap().text;
    assert!(mask(&free) & Script::Han.bit() != 0, "without the guard the model writes Chinese: {free:?}");
    let guard = ScriptGuard::new(&s.tokenizer);
    let guarded = s.generate(&ids, greedy(guard.suppressed(allowed(prompt))), |_| true).unwrap().text;
    eprintln!("free: {free:?}\nguarded: {guarded:?}");
    assert_eq!(mask(&guarded) & !Script::Latin.bit(), 0, "guarded: {guarded:?}");
    assert!(!guarded.trim().is_empty());
}
