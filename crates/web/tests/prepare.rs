//! A reply's prompt as the worker and the CLI get it (`prepare`), on a tiny
//! random-weight model with a real tokenizer and chat template: it fits the
//! context the model and the chat allow, says when turns were left out (so
//! the engine may shift its cache), and a continuation ends inside the
//! character's turn.

use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::Session;
use kindred_web::prepare::prepare;
use kindred_web::prompt::PromptRequest;
use serde_json::json;

fn session() -> Session {
    Session::load(synthetic::write(&Spec::tiny("qwen3", QType::Q8_0)).unwrap()).unwrap()
}

fn request(messages: usize, context: usize, mode: &str) -> PromptRequest {
    let mut history = vec![json!({"author": "char", "text": "Hello {{user}}, the lamp is lit."})];
    for i in 1..messages {
        let author = if i % 2 == 1 { "user" } else { "char" };
        history.push(json!({"author": author, "text": format!("Message {i} about the ships and the tide.")}));
    }
    serde_json::from_value(json!({
        "card": {"name": "Mara", "description": "{{char}} keeps the lighthouse.", "first_mes": "Hello {{user}}."},
        "persona": {"name": "Sam"},
        "history": history,
        "settings": {"context_tokens": context},
        "mode": mode,
    }))
    .unwrap()
}

#[test]
fn a_long_chat_is_cut_to_fit_and_may_be_shifted() {
    let s = session();
    let short = prepare(&s, request(4, 1024, "reply"), 64).unwrap();
    assert!(!short.shift && short.reply.cut.is_empty(), "a short chat keeps everything");

    let long = prepare(&s, request(120, 600, "reply"), 64).unwrap();
    assert!(long.ids.len() <= 600 - 64, "the prompt leaves the reply its room: {}", long.ids.len());
    assert!(long.ids.len() > 300, "and uses the rest: {}", long.ids.len());
    assert!(!long.reply.cut.is_empty() && long.shift, "old turns left out, so the cache may shift");
    let text = s.tokenizer.decode(&long.ids).unwrap();
    assert!(text.contains("Message 119 about"), "the newest turn stays");
    assert!(!text.contains("Message 1 about"), "the oldest goes");
}

#[test]
fn the_model_caps_the_context_and_a_continuation_ends_inside_the_turn() {
    let s = session();
    let p = prepare(&s, request(4, 1_000_000, "reply"), 100).unwrap();
    assert_eq!(p.reply.budget, s.context() - 100, "the chat's setting is capped by the model's context");

    let mut req = request(3, 1024, "continue");
    req.history.push(kindred_characters::prompt::HistoryMessage::char("The tide came in and"));
    let c = prepare(&s, req, 64).unwrap();
    assert!(c.continuing);
    let text = s.tokenizer.decode(&c.ids).unwrap();
    assert!(text.ends_with("The tide came in and"), "the prompt stops where the message does: {text:?}");
    let answer = prepare(&s, request(4, 1024, "reply"), 64).unwrap();
    assert!(!answer.continuing);
    assert!(!s.tokenizer.decode(&answer.ids).unwrap().ends_with("tide."), "a reply opens the character's turn");
}

/// The settings' `keep_scripts` (on by default) gives the reply the tokens
/// it may not use: here the byte tokens that begin a Chinese character
/// (an English chat); off, none.
#[test]
fn an_english_chat_suppresses_other_scripts_unless_the_settings_say_not() {
    let s = session();
    let han_lead = s.tokenizer.token_id(&kindred_engine::synthetic::byte_char(0xE4).to_string()).unwrap();
    let on = prepare(&s, request(4, 1024, "reply"), 64).unwrap();
    assert!(on.suppress.binary_search(&han_lead).is_ok(), "{} suppressed", on.suppress.len());
    assert!(on.suppress.iter().all(|&t| s.tokenizer.piece_bytes(t).is_some()), "no control token is suppressed");
    let mut req = request(4, 1024, "reply");
    req.settings.keep_scripts = false;
    assert!(prepare(&s, req, 64).unwrap().suppress.is_empty());
}

#[test]
fn the_prompt_text_shown_is_the_one_the_model_reads() {
    let s = session();
    let mut req = request(4, 1024, "reply");
    req.persona = serde_json::from_value(json!({"name": "Sam", "description": "{{user}} is a ferry pilot with a limp."})).unwrap();
    let p = prepare(&s, req, 64).unwrap();
    assert_eq!(s.encode_prompt(&p.prompt_text).unwrap(), p.ids, "the text is what was tokenized");
    assert!(p.prompt_text.contains("Sam is a ferry pilot with a limp."), "the persona is in the prompt: {}", p.prompt_text);
    assert!(p.prompt_text.contains("Mara keeps the lighthouse."));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["prompt_text"], p.prompt_text.as_str());
    assert_eq!(json["prompt_tokens"], p.ids.len());
}
