//! Built-in renderings of a message list for the template families Kindred
//! ships models for, plus a plain transcript for base models.
//!
//! The engine normally renders with the model's own GGUF chat template;
//! these are the fallback, the reference for tests, and the transcript form
//! that no chat template provides. None adds a BOS token: the tokenizer
//! does that. Each ends ready for the character's reply.

use super::assemble::Prompt;
use super::message::{Part, PromptMessage, Role};
use super::settings::TemplateFamily;

impl Prompt {
    /// The prompt as model text in the given family.
    pub fn render(&self, family: TemplateFamily) -> String {
        match family {
            TemplateFamily::Gemma => gemma(&self.messages),
            TemplateFamily::ChatMl => chatml(&self.messages),
            TemplateFamily::Llama3 => llama3(&self.messages),
            TemplateFamily::Transcript => transcript(&self.messages, &self.char_name),
        }
    }
}

/// Gemma has only `user` and `model` turns that must alternate: system
/// text joins the user turn it precedes (or follows), and neighbouring
/// turns of one side are merged.
pub fn gemma(messages: &[PromptMessage]) -> String {
    let mut turns: Vec<(bool, String)> = Vec::new();
    for m in messages {
        let model = m.role == Role::Assistant;
        match turns.last_mut() {
            Some((was_model, text)) if *was_model == model => {
                text.push_str("\n\n");
                text.push_str(&m.content);
            }
            _ => turns.push((model, m.content.clone())),
        }
    }
    let mut out = String::new();
    for (model, text) in &turns {
        out.push_str("<start_of_turn>");
        out.push_str(if *model { "model" } else { "user" });
        out.push('\n');
        out.push_str(text);
        out.push_str("<end_of_turn>\n");
    }
    out.push_str("<start_of_turn>model\n");
    out
}

pub fn chatml(messages: &[PromptMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str("<|im_start|>");
        out.push_str(m.role.as_str());
        out.push('\n');
        out.push_str(&m.content);
        out.push_str("<|im_end|>\n");
    }
    out.push_str("<|im_start|>assistant\n");
    out
}

pub fn llama3(messages: &[PromptMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str("<|start_header_id|>");
        out.push_str(m.role.as_str());
        out.push_str("<|end_header_id|>\n\n");
        out.push_str(&m.content);
        out.push_str("<|eot_id|>");
    }
    out.push_str("<|start_header_id|>assistant<|end_header_id|>\n\n");
    out
}

/// `Name: text` lines after the context block; notes and instructions in
/// square brackets; ends with `Char:` for the model to continue.
pub fn transcript(messages: &[PromptMessage], char_name: &str) -> String {
    let mut out = String::new();
    for m in messages {
        match (m.part, &m.name) {
            (Part::Context, _) => {
                out.push_str(&m.content);
                out.push_str("\n\n");
            }
            (Part::History(_), Some(name)) => {
                if m.content.starts_with(&format!("{name}:")) {
                    out.push_str(&m.content);
                } else {
                    out.push_str(name);
                    out.push_str(": ");
                    out.push_str(&m.content);
                }
                out.push('\n');
            }
            _ => {
                out.push('[');
                out.push_str(&m.content);
                out.push_str("]\n");
            }
        }
    }
    out.push_str(char_name);
    out.push(':');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: Role, content: &str, part: Part) -> PromptMessage {
        PromptMessage { role, content: content.into(), name: None, part }
    }

    #[test]
    fn gemma_folds_system_and_merges() {
        let msgs = vec![
            m(Role::System, "sys", Part::Context),
            m(Role::User, "hi", Part::History(0)),
            m(Role::Assistant, "hello", Part::History(1)),
            m(Role::Assistant, "again", Part::History(2)),
        ];
        assert_eq!(
            gemma(&msgs),
            "<start_of_turn>user\nsys\n\nhi<end_of_turn>\n<start_of_turn>model\nhello\n\nagain<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn chatml_and_llama3_shapes() {
        let msgs = vec![m(Role::System, "s", Part::Context), m(Role::User, "u", Part::History(0))];
        assert_eq!(chatml(&msgs), "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n");
        assert_eq!(
            llama3(&msgs),
            "<|start_header_id|>system<|end_header_id|>\n\ns<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nu<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        );
    }
}
