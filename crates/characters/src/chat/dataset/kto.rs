//! KTO examples: every rated swipe on its own, labelled desirable (3–4
//! stars) or undesirable (1–2 stars).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::conversation::{ChatMessage, DatasetContext};
use super::{jsonl, DatasetError};
use crate::chat::chat::Chat;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KtoExample {
    pub message_id: String,
    pub prompt: Vec<ChatMessage>,
    pub completion: String,
    pub rating: u8,
    pub label: bool,
}

pub fn kto_examples(chat: &Chat, ctx: &DatasetContext) -> Vec<KtoExample> {
    let mut out = Vec::new();
    for (pos, m) in chat.messages.iter().enumerate() {
        if m.hidden || !ctx.is_assistant(&m.author) || m.rated_swipes().next().is_none() {
            continue;
        }
        let prompt = ctx.prompt_before(chat, pos);
        for (_, swipe, rating) in m.rated_swipes() {
            if swipe.text.trim().is_empty() {
                continue;
            }
            out.push(KtoExample {
                message_id: m.id.clone(),
                prompt: prompt.clone(),
                completion: ctx.names_in(&swipe.text),
                rating: rating.stars(),
                label: rating.is_good(),
            });
        }
    }
    out
}

/// TRL's conversational unpaired-preference format.
pub fn to_kto_jsonl(examples: &[KtoExample]) -> Result<String, DatasetError> {
    jsonl(examples.iter().map(|e| {
        json!({
            "prompt": e.prompt,
            "completion": [ChatMessage::new("assistant", e.completion.clone())],
            "label": e.label,
        })
    }))
}
