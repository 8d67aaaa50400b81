//! The chat templates of the families the engine runs (llama.cpp's copies
//! of Qwen3.5, Qwen3, Qwen2.5, SmolLM3, LFM2.5, Gemma 2, Phi-3.5, Granite,
//! Llama 3.2 and Mistral Nemo), rendered by the engine's minijinja exactly
//! as Jinja2 renders them for transformers' `apply_chat_template`
//! (tests/reference/templates.json, written by scripts/reference-llamacpp.sh):
//! the same text for a chat that opens with a character's greeting, for
//! several turns and for one message, with thinking off. Where Jinja2's
//! template refuses the chat (Gemma 2's takes no system turn, Mistral
//! Nemo's no greeting first), the engine renders it reshaped into
//! alternating turns, the system text first.

use kindred_engine::template::ChatTemplate;
use kindred_engine::template_date::Now;
use kindred_engine::ChatMessage;

/// Puts today's date where the reference's `strftime_now` left a marker.
fn dated(text: &str) -> String {
    let now = Now::current();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\u{0}DATE:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 6..];
        let end = after.find('\u{0}').expect("a closed date marker");
        out.push_str(&now.format(&after[..end]));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn family_templates_render_as_jinja2_renders_them() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/templates.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let chats = reference["chats"].as_object().unwrap();
    let templates = reference["templates"].as_object().unwrap();
    assert!(templates.contains_key("Qwen3.5-4B") && templates.len() >= 10, "the families are in the reference");
    let (mut compared, mut reshaped) = (0, 0);
    for (name, t) in templates {
        let template = ChatTemplate::Jinja { source: t["source"].as_str().unwrap().into(), bos: "<BOS>".into(), eos: "<EOS>".into() };
        for (chat, messages) in chats {
            let messages: Vec<ChatMessage> = serde_json::from_value(messages.clone()).unwrap();
            let got = template.render(&messages, true);
            match t["rendered"][chat].as_str() {
                Some(want) => {
                    let got = got.unwrap_or_else(|e| panic!("{name} {chat}: {e}"));
                    assert_eq!(got, dated(want), "{name} {chat}");
                    compared += 1;
                }
                None => {
                    let got = got.unwrap_or_else(|e| panic!("{name} {chat}: reshaped, the chat still fails: {e}"));
                    let at = |text: &str| got.find(text.trim()).unwrap_or_else(|| panic!("{name} {chat}: {text:?} missing from {got:?}"));
                    let places: Vec<usize> = messages.iter().map(|m| at(&m.content)).collect();
                    assert!(places.windows(2).all(|w| w[0] < w[1]), "{name} {chat}: every message, in order: {got:?}");
                    reshaped += 1;
                }
            }
        }
    }
    assert!(compared >= 25, "{compared} renderings compared");
    assert!(reshaped >= 3, "Gemma 2's and Mistral Nemo's refusals reshaped: {reshaped}");
}
