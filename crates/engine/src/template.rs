//! Chat templates: the file's own Jinja template (`tokenizer.chat_template`)
//! rendered with minijinja, or a built-in one for files without it (the
//! Gemma 3 base file has none): Gemma turns, ChatML, Llama 3, and a plain
//! transcript for base models of other families.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gguf::Gguf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// Speaker name, used by the transcript format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ChatMessage {
    pub fn new(role: &str, content: &str) -> Self {
        ChatMessage { role: role.into(), content: content.into(), name: None }
    }
}

#[derive(Debug, Clone)]
pub enum ChatTemplate {
    Jinja { source: String, bos: String, eos: String },
    Gemma,
    ChatMl,
    Llama3,
    Transcript,
}

impl ChatTemplate {
    pub fn from_gguf(g: &Gguf, arch: &str) -> Self {
        let tokens = g.get_str_array("tokenizer.ggml.tokens").unwrap_or_default();
        let tok = |key: &str| {
            g.get_usize(key).ok().and_then(|i| tokens.get(i).cloned()).unwrap_or_default()
        };
        if let Ok(source) = g.get_str("tokenizer.chat_template") {
            return ChatTemplate::Jinja { source, bos: tok("tokenizer.ggml.bos_token_id"), eos: tok("tokenizer.ggml.eos_token_id") };
        }
        let has = |t: &str| tokens.iter().any(|s| s == t);
        if arch.starts_with("gemma") || has("<start_of_turn>") {
            ChatTemplate::Gemma
        } else if has("<|im_start|>") {
            ChatTemplate::ChatMl
        } else if has("<|start_header_id|>") {
            ChatTemplate::Llama3
        } else {
            ChatTemplate::Transcript
        }
    }

    /// Instruct-tuned models ship their chat template in the file; a file
    /// without one (Gemma 3 270M base) is taken for a base model.
    pub fn is_instruct(&self) -> bool {
        matches!(self, ChatTemplate::Jinja { .. })
    }

    pub fn name(&self) -> &'static str {
        match self {
            ChatTemplate::Jinja { .. } => "jinja",
            ChatTemplate::Gemma => "gemma",
            ChatTemplate::ChatMl => "chatml",
            ChatTemplate::Llama3 => "llama3",
            ChatTemplate::Transcript => "transcript",
        }
    }

    /// Whether the template renders the simplest chat. A file's template
    /// that fails here (a syntax error, an exception, a loop that runs out
    /// of fuel) would fail every reply, so the model is refused when it is
    /// loaded, and a download as soon as its header arrives.
    pub fn check(&self) -> Result<()> {
        match self.render(&[ChatMessage::new("user", "Hello!")], true) {
            Err(Error::Template(why)) => Err(Error::Template(format!("the model's own template cannot render a chat: {why}"))),
            other => other.map(|_| ()),
        }
    }

    /// Renders the conversation, ending with the opener of the assistant's
    /// turn when `add_generation_prompt`.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let mut out = String::new();
        match self {
            ChatTemplate::Jinja { source, bos, eos } => {
                // A template that takes only alternating turns refuses a
                // character's chat (a system turn, a greeting first): it gets
                // the chat reshaped as it takes it.
                return render_jinja(source, bos, eos, messages, add_generation_prompt).or_else(|refused| {
                    render_jinja(source, bos, eos, &crate::template_turns::alternating(messages), add_generation_prompt).map_err(|_| refused)
                });
            }
            ChatTemplate::Gemma => {
                // Gemma has no system role.
                for m in crate::template_turns::alternating(messages) {
                    let role = if m.role == "assistant" { "model" } else { "user" };
                    out.push_str(&format!("<start_of_turn>{role}\n{}<end_of_turn>\n", m.content));
                }
                if add_generation_prompt {
                    out.push_str("<start_of_turn>model\n");
                }
            }
            ChatTemplate::ChatMl => {
                for m in messages {
                    out.push_str(&format!("<|im_start|>{}\n{}<|im_end|>\n", m.role, m.content));
                }
                if add_generation_prompt {
                    out.push_str("<|im_start|>assistant\n");
                }
            }
            ChatTemplate::Llama3 => {
                for m in messages {
                    out.push_str(&format!("<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>", m.role, m.content.trim()));
                }
                if add_generation_prompt {
                    out.push_str("<|start_header_id|>assistant<|end_header_id|>\n\n");
                }
            }
            ChatTemplate::Transcript => {
                for m in messages {
                    match m.role.as_str() {
                        "system" => {
                            out.push_str(m.content.trim());
                            out.push_str("\n\n");
                        }
                        role => {
                            let name = m.name.clone().unwrap_or_else(|| default_name(role).into());
                            out.push_str(&format!("{}: {}\n", name, m.content.trim()));
                        }
                    }
                }
                if add_generation_prompt {
                    let name = messages
                        .iter()
                        .rev()
                        .find(|m| m.role == "assistant")
                        .and_then(|m| m.name.clone())
                        .unwrap_or_else(|| default_name("assistant").into());
                    out.push_str(&format!("{name}:"));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: &str, text: &str) -> ChatMessage {
        ChatMessage::new(role, text)
    }

    #[test]
    fn a_template_with_a_thinking_switch_renders_it_off() {
        // The shape of Qwen3's switch: an empty thinking block opens the reply.
        let source = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}\
            {% if add_generation_prompt %}<|im_start|>assistant\n\
            {% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}";
        let t = ChatTemplate::Jinja { source: source.into(), bos: String::new(), eos: String::new() };
        let out = t.render(&[m("user", "Hi")], true).unwrap();
        assert_eq!(out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    }

    /// A template is code from a file: one that loops forever, or writes
    /// without end, gives an error instead of hanging the worker or filling
    /// its memory; a real one over a chat of thousands of messages renders.
    #[test]
    fn a_hostile_template_ends_with_an_error() {
        let jinja = |source: &str| ChatTemplate::Jinja { source: source.into(), bos: String::new(), eos: String::new() };
        let spin = jinja("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}");
        let e = spin.render(&[m("user", "Hi")], true).unwrap_err().to_string();
        assert!(e.contains("runs too long"), "{e}");
        let flood = jinja("{% for a in range(100000) %}{% for m in messages %}{{ m.content }}{% endfor %}{% endfor %}");
        let e = flood.render(&[m("user", &"x".repeat(1000))], true).unwrap_err().to_string();
        assert!(e.contains("writes more than"), "{e}");
        let chatml = jinja(
            "{% for m in messages %}{% if loop.first and m.role != 'system' %}<|im_start|>system\nYou are helpful.<|im_end|>\n{% endif %}\
             <|im_start|>{{ m.role }}\n{{ m.content | trim }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
        );
        let chat: Vec<ChatMessage> = (0..5000).map(|i| m(if i % 2 == 0 { "user" } else { "assistant" }, "A line of chat.")).collect();
        let out = chatml.render(&chat, true).unwrap();
        assert_eq!(out.matches("<|im_start|>").count(), 5002);
    }

    /// SmolLM3's system turn opens with today's date, from a function the
    /// template calls without checking for it.
    #[test]
    fn a_template_that_prints_today_renders() {
        let source = "{%- set today = strftime_now(\"%d %B %Y\") -%}Today Date: {{ today }}\n{{ messages[0].content }}";
        let t = ChatTemplate::Jinja { source: source.into(), bos: String::new(), eos: String::new() };
        let out = t.render(&[m("user", "Hi")], true).unwrap();
        let today = crate::template_date::Now::current().format("%d %B %Y");
        assert_eq!(out, format!("Today Date: {today}\nHi"));
        assert!(today.len() >= "01 May 2026".len() && today.ends_with(|c: char| c.is_ascii_digit()), "{today}");
    }

    #[test]
    fn gemma_folds_system_into_the_first_user_turn() {
        let out = ChatTemplate::Gemma.render(&[m("system", "Be kind."), m("user", "Hi"), m("assistant", "Hello!")], true).unwrap();
        assert_eq!(
            out,
            "<start_of_turn>user\nBe kind.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn gemma_puts_instructions_before_a_greeting() {
        let out = ChatTemplate::Gemma.render(&[m("system", "Be kind."), m("assistant", "Welcome!"), m("user", "Hi")], true).unwrap();
        assert_eq!(
            out,
            "<start_of_turn>user\nBe kind.<end_of_turn>\n<start_of_turn>model\nWelcome!<end_of_turn>\n\
             <start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn chatml_llama3_and_transcript() {
        let msgs = [m("system", "S"), m("user", "U"), m("assistant", "A")];
        assert_eq!(
            ChatTemplate::ChatMl.render(&msgs, true).unwrap(),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(
            ChatTemplate::Llama3.render(&msgs, false).unwrap(),
            "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>\
             <|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|>"
        );
        assert_eq!(ChatTemplate::Transcript.render(&msgs, true).unwrap(), "S\n\nUser: U\nAssistant: A\nAssistant:");
    }

    #[test]
    fn jinja_templates_render_and_report_errors() {
        let t = ChatTemplate::Jinja {
            source: "{% for m in messages %}[{{ m.role }}]{{ m.content | trim }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}".into(),
            bos: "<s>".into(),
            eos: "</s>".into(),
        };
        assert_eq!(t.render(&[m("user", " hi ")], true).unwrap(), "[user]hi[assistant]");
        let bad = ChatTemplate::Jinja { source: "{{ raise_exception('roles must alternate') }}".into(), bos: String::new(), eos: String::new() };
        let e = bad.render(&[], true).unwrap_err().to_string();
        assert!(e.contains("roles must alternate"), "{e}");
        let broken = ChatTemplate::Jinja { source: "{% for %}".into(), bos: String::new(), eos: String::new() };
        assert!(broken.render(&[], true).is_err());
    }
}

fn default_name(role: &str) -> &'static str {
    if role == "assistant" {
        "Assistant"
    } else {
        "User"
    }
}

/// A template from a file runs at most this many steps (one per
/// instruction): real templates take a few hundred per message, so a chat
/// of thousands of messages fits, and a hostile loop ends in milliseconds.
pub const TEMPLATE_FUEL: u64 = 5_000_000;

/// A template writes at most this many bytes per byte it is given (messages
/// and template): real ones write each message once with a little markup.
const OUTPUT_PER_INPUT: usize = 8;

fn render_jinja(source: &str, bos: &str, eos: &str, messages: &[ChatMessage], add_gen: bool) -> Result<String> {
    let mut env = minijinja::Environment::new();
    // As transformers and llama.cpp render chat templates: a block tag takes
    // its line's leading blanks and the newline after it with it.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.add_function("raise_exception", |msg: String| -> std::result::Result<String, minijinja::Error> {
        Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg))
    });
    // SmolLM3's and Granite's templates put today's date in the system turn.
    env.add_function("strftime_now", |fmt: String| crate::template_date::Now::current().format(&fmt));
    env.add_template("chat", source).map_err(|e| Error::Template(e.to_string()))?;
    let tmpl = env.get_template("chat").map_err(|e| Error::Template(e.to_string()))?;
    let given = source.len() + messages.iter().map(|m| m.content.len() + 16).sum::<usize>();
    let mut out = Bounded { buf: Vec::new(), max: OUTPUT_PER_INPUT * given + (1 << 16), over: false };
    let rendered = tmpl.render_captured_to(
        minijinja::context! {
            messages => messages,
            add_generation_prompt => add_gen,
            // Characters answer, they do not deliberate: templates with a
            // thinking switch (Qwen3's) open the reply with an empty block.
            enable_thinking => false,
            bos_token => bos,
            eos_token => eos,
        },
        &mut out,
    );
    if out.over {
        return Err(Error::Template(format!("writes more than {} bytes for this chat", out.max)));
    }
    rendered.map_err(|e| match e.kind() {
        minijinja::ErrorKind::OutOfFuel => Error::Template(format!("runs too long (over {TEMPLATE_FUEL} steps)")),
        _ => Error::Template(e.to_string()),
    })?;
    String::from_utf8(out.buf).map_err(|e| Error::Template(e.to_string()))
}

/// The rendered prompt, refusing to grow past `max` bytes.
struct Bounded {
    buf: Vec<u8>,
    max: usize,
    over: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + bytes.len() > self.max {
            self.over = true;
            return Err(std::io::Error::other("the chat template's output is too long"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
