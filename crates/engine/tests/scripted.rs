//! The scripted model the browser tests load: Gemma 3's tokenizer and chat
//! format, replies made only of its script's words that end by themselves,
//! vary with the seed, and come out the same for the same seed.

mod common;

use std::collections::BTreeSet;

use kindred_engine::gguf::Gguf;
use kindred_engine::sampler::SamplerOptions;
use kindred_engine::session::{GenerateOptions, StopReason};
use kindred_engine::template::ChatMessage;
use kindred_engine::{scripted, Session};

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation()).to_string()).filter(|w| !w.is_empty()).collect()
}

fn session() -> Session {
    let source = Gguf::from_bytes(common::gemma_bytes()).unwrap();
    Session::load(scripted::write(&source).unwrap()).unwrap()
}

fn reply(s: &mut Session, seed: u64, sampler: SamplerOptions) -> (String, StopReason) {
    let text = s
        .render_chat(&[ChatMessage::new("system", "You are Wren."), ChatMessage::new("user", "Hello! What's 2+2? 你好")])
        .unwrap();
    let prompt = s.tokenizer.encode(&text, true).unwrap();
    let opts = GenerateOptions { sampler: SamplerOptions { seed, ..sampler }, max_tokens: 200, ..Default::default() };
    let out = s.generate(&prompt, opts, |_| true).unwrap();
    (out.text, out.stop_reason)
}

#[test]
fn replies_are_the_scripts_words_and_end_by_themselves() {
    let mut s = session();
    let vocabulary: BTreeSet<String> = scripted::SENTENCES.iter().flat_map(|t| words(t)).collect();
    let mut replies = BTreeSet::new();
    let mut lengths = Vec::new();
    for seed in 1..=8 {
        let (text, reason) = reply(&mut s, seed, SamplerOptions::default());
        assert_eq!(reason, StopReason::Eos, "seed {seed}: {text:?}");
        lengths.push(s.tokenizer.encode(&text, false).unwrap().len());
        assert!(text.trim_end().ends_with('.'), "seed {seed}: {text:?}");
        let w = words(&text);
        assert!(!w.is_empty());
        for word in &w {
            assert!(vocabulary.contains(word), "seed {seed}: {word:?} is not the script's, in {text:?}");
        }
        assert_eq!(reply(&mut s, seed, SamplerOptions::default()).0, text, "the same seed gives the same reply");
        replies.insert(text);
    }
    assert!(replies.len() >= 4, "replies vary with the seed: {replies:?}");
    // Mostly several sentences (the repetition penalty, which lowers the
    // next sentence's used openings, makes an end likelier as a reply goes on).
    lengths.sort();
    assert!(lengths[lengths.len() / 2] >= 12 && lengths[lengths.len() - 1] < 200, "reply lengths in tokens: {lengths:?}");
    // Greedy takes the first of each choice: without the end-of-turn boost
    // it never ends, and it is the same every time.
    let (greedy, reason) = reply(&mut s, 0, SamplerOptions::greedy());
    assert_eq!(reason, StopReason::MaxTokens);
    assert_eq!(reply(&mut s, 9, SamplerOptions::greedy()).0, greedy);
}

#[test]
fn it_keeps_the_source_files_tokenizer_and_chat_format() {
    let source = Gguf::from_bytes(common::gemma_bytes()).unwrap();
    let scripted = Gguf::from_bytes(scripted::write(&source).unwrap()).unwrap();
    assert_eq!(scripted.get_str_array("tokenizer.ggml.tokens").unwrap(), source.get_str_array("tokenizer.ggml.tokens").unwrap());
    assert_eq!(scripted.get_f32_array("tokenizer.ggml.scores").unwrap(), source.get_f32_array("tokenizer.ggml.scores").unwrap());
    for key in ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"] {
        assert_eq!(scripted.get_usize(key).unwrap(), source.get_usize(key).unwrap(), "{key}");
    }
    let (real, fake) = (Session::load(common::gemma_bytes()).unwrap(), session());
    let chat = [ChatMessage::new("user", "Hi")];
    assert_eq!(fake.render_chat(&chat).unwrap(), real.render_chat(&chat).unwrap());
    assert!(scripted.file_len() < 64 << 20, "small enough to download in a moment: {} bytes", scripted.file_len());
}

#[test]
fn a_model_told_one_sentence_says_it_once_and_ends() {
    let source = Gguf::from_bytes(common::gemma_bytes()).unwrap();
    let said = " The die shows {{roll:d20}} and the door opens.";
    let mut s = Session::load(scripted::write_script(&source, &[said], true).unwrap()).unwrap();
    for seed in 1..=4 {
        let (text, reason) = reply(&mut s, seed, SamplerOptions::default());
        assert_eq!(reason, StopReason::Eos);
        assert_eq!(text.trim(), said.trim(), "seed {seed}");
    }
    assert!(scripted::write_script(&source, &[" "], true).is_err(), "nothing to say is refused");
}
