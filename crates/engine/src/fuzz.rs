//! What each fuzz target (`crates/engine/fuzz`, run by `scripts/fuzz.sh`)
//! does with its bytes: here, so `tests/fuzz_regressions.rs` replays every
//! input the fuzzer kept through the same code in the ordinary test run.
//! Each returns normally for any input; a panic is the bug being looked for.

use crate::models::header_check::check_header;
use crate::session::{GenerateOptions, Session};
use crate::template::{ChatMessage, ChatTemplate};
use crate::{Gguf, Tokenizer};

/// A whole model file: loading gives a model or an error; a model that
/// loads also renders a chat, reads a short prompt and samples two tokens.
pub fn model_file(data: &[u8]) {
    let Ok(mut s) = Session::load(data.to_vec()) else { return };
    s.set_context(32);
    let _ = s.render_chat(&[ChatMessage::new("system", "Be brief."), ChatMessage::new("user", "Hi")]);
    let Ok(mut prompt) = s.encode_prompt("Hello there, friend.") else { return };
    prompt.truncate(8);
    if prompt.is_empty() || s.start(&prompt, GenerateOptions { max_tokens: 2, ..Default::default() }).is_err() {
        return;
    }
    for _ in 0..2 {
        if s.next().map_or(true, |step| step.done) {
            break;
        }
    }
}

/// A download's first bytes: the first input byte says how much of the
/// rest has arrived and how much longer the whole file claims to be.
pub fn header(data: &[u8]) {
    let Some((&k, rest)) = data.split_first() else { return };
    let arrived = rest.len() * usize::from(k) / 255;
    let _ = check_header(&rest[..arrived], rest.len() + usize::from(k) * 4096);
    let _ = check_header(rest, rest.len());
}

/// A chat template from a file: the text up to the first NUL, then
/// messages split at NULs. Rendering ends (fuel) and stays bounded.
pub fn chat_template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let source = parts.next().unwrap_or_default().to_string();
    let roles = ["system", "user", "assistant"];
    let messages: Vec<ChatMessage> =
        parts.take(16).enumerate().map(|(i, c)| ChatMessage::new(roles[i % 3], c)).collect();
    let template = ChatTemplate::Jinja { source, bos: "<s>".into(), eos: "</s>".into() };
    let _ = template.render(&messages, true);
}

/// A tokenizer built from a file's metadata, then used: a length byte,
/// that many bytes of text, then the GGUF file. Every id it gives is in
/// the vocabulary and decodes.
pub fn tokenizer(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else { return };
    let (text, file) = rest.split_at(usize::from(n).min(rest.len()));
    let Ok(g) = Gguf::from_bytes(file.to_vec()) else { return };
    let Ok(tok) = Tokenizer::from_gguf(&g) else { return };
    let text = String::from_utf8_lossy(text);
    if let Ok(ids) = tok.encode(&text, true) {
        assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()), "an id past the vocabulary");
        let _ = tok.decode(&ids);
    }
    let _ = tok.guard(&text);
}
