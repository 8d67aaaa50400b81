//! Streaming text: stop strings cut the reply and are never shown, text
//! that may begin a stop string is held back, and a character split across
//! byte tokens is shown whole.

use kindred_engine::gguf::Gguf;
use kindred_engine::quant::QType;
use kindred_engine::stream::TextStream;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::Tokenizer;

fn tok() -> Tokenizer {
    Tokenizer::from_gguf(&Gguf::from_bytes(synthetic::write(&Spec::tiny("llama", QType::Q8_0)).unwrap()).unwrap()).unwrap()
}

#[test]
fn stop_string_cuts_and_holds_back() {
    let t = tok();
    let (hello, world) = (t.token_id("▁hello").unwrap(), t.token_id("▁world").unwrap());
    let mut s = TextStream::new(vec!["o w".into()]);
    let p = s.push(&t, hello).unwrap();
    assert_eq!(p.text, " hell", "the final 'o' may begin the stop string");
    assert!(!p.stopped);
    let p = s.push(&t, world).unwrap();
    assert!(p.stopped);
    assert_eq!(p.text, "");
    assert_eq!(s.shown(), " hell");
}

#[test]
fn held_back_text_is_released_when_no_stop_follows() {
    let t = tok();
    let mut s = TextStream::new(vec!["o w".into()]);
    assert_eq!(s.push(&t, t.token_id("▁hello").unwrap()).unwrap().text, " hell");
    assert_eq!(s.push(&t, t.token_id("!").unwrap()).unwrap().text, "o!");
    assert_eq!(s.flush(), "");
}

#[test]
fn split_utf8_is_shown_whole() {
    let t = tok();
    let mut s = TextStream::new(vec![]);
    assert_eq!(s.push(&t, t.token_id("<0xC3>").unwrap()).unwrap().text, "");
    assert_eq!(s.push(&t, t.token_id("<0xA9>").unwrap()).unwrap().text, "é");
}
