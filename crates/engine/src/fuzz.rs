//! What each fuzz target (`crates/engine/fuzz`, run by `scripts/fuzz.sh`)
//! does with its bytes: here, so `tests/fuzz_regressions.rs` replays every
//! input the fuzzer kept through the same code in the ordinary test run.
//! Each returns normally for any input; a panic is the bug being looked for.

use crate::json_output::matcher::Matcher;
use crate::json_output::schema::Schema;
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

/// A LoRA adapter file for a minute qwen3 model: taken or refused with a
/// reason; one taken reads a short prompt and samples a token, and comes
/// off again.
pub fn lora_adapter(data: &[u8]) {
    thread_local! {
        static MODEL: std::cell::RefCell<Option<Session>> = const { std::cell::RefCell::new(None) };
    }
    MODEL.with(|cell| {
        let mut cell = cell.borrow_mut();
        let s = cell.get_or_insert_with(|| {
            let spec = crate::synthetic::Spec::micro("qwen3", crate::quant::QType::Q8_0);
            Session::load(crate::synthetic::write(&spec).expect("a minute model")).expect("it loads")
        });
        if s.set_adapter(Some((data.to_vec(), 1.0))).is_ok() {
            let _ = s.start(&[3, 4, 5], GenerateOptions { max_tokens: 1, ..Default::default() });
            let _ = s.set_adapter(None);
        }
    });
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

/// A JSON Schema from a page, then text written against it: the schema
/// text up to the first NUL, the bytes after it fed while they are
/// accepted. Compiling ends with a schema or a reason; whatever was
/// accepted can always go on (some byte is accepted until the value is
/// done), and a value walked to its end with closing bytes first parses.
pub fn json_schema(data: &[u8]) {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&data[..split]) else { return };
    let Ok(schema) = Schema::compile(&value) else { return };
    let mut m = Matcher::new(&schema);
    let mut out = Vec::new();
    for &b in data.get(split + 1..).unwrap_or_default() {
        let mut probe = m.clone();
        if !probe.feed(&schema, b) {
            break;
        }
        m = probe;
        out.push(b);
    }
    const CLOSERS: &[u8] = b"\"]}0,:1tfn";
    for _ in 0..512 {
        if m.done() {
            break;
        }
        let pick = CLOSERS.iter().copied().chain(0..=255).find(|&b| m.clone().feed(&schema, b));
        let b = pick.expect("an accepted prefix can always go on");
        m.feed(&schema, b);
        out.push(b);
    }
    if m.done() {
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok(), "a complete value parses: {:?}", String::from_utf8_lossy(&out));
    }
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
