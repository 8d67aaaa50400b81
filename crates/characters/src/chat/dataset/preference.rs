//! Preference pairs from rated swipes: for one message, a higher-rated swipe
//! is "chosen" over a lower-rated one, with the conversation before the
//! message as the shared prompt.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::conversation::{ChatMessage, DatasetContext};
use super::{jsonl, DatasetError};
use crate::chat::chat::Chat;

/// Pairs taken per message; the widest rating gaps come first.
pub const MAX_PAIRS_PER_MESSAGE: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferencePair {
    /// Where the pair came from (a message id, or a trait-studio question).
    pub source: String,
    pub prompt: Vec<ChatMessage>,
    pub chosen: String,
    pub rejected: String,
    /// Stars of the two swipes; `None` for pairs from the trait studio
    /// (ranked, not rated).
    pub chosen_rating: Option<u8>,
    pub rejected_rating: Option<u8>,
}

/// Every preference pair of one chat for the context's character.
pub fn preference_pairs(chat: &Chat, ctx: &DatasetContext) -> Vec<PreferencePair> {
    let mut out = Vec::new();
    for (pos, m) in chat.messages.iter().enumerate() {
        if m.hidden || !ctx.is_assistant(&m.author) {
            continue;
        }
        let rated: Vec<(&str, u8)> = m
            .rated_swipes()
            .map(|(_, s, r)| (s.text.as_str(), r.stars()))
            .filter(|(t, _)| !t.trim().is_empty())
            .collect();
        let mut pairs: Vec<(&str, u8, &str, u8)> = Vec::new();
        for &(a, ra) in &rated {
            for &(b, rb) in &rated {
                if ra > rb && a.trim() != b.trim() {
                    pairs.push((a, ra, b, rb));
                }
            }
        }
        if pairs.is_empty() {
            continue;
        }
        pairs.sort_by_key(|&(_, ra, _, rb)| std::cmp::Reverse(ra - rb));
        pairs.truncate(MAX_PAIRS_PER_MESSAGE);
        let prompt = ctx.prompt_before(chat, pos);
        for (chosen, chosen_rating, rejected, rejected_rating) in pairs {
            out.push(PreferencePair {
                source: m.id.clone(),
                prompt: prompt.clone(),
                chosen: ctx.names_in(chosen),
                rejected: ctx.names_in(rejected),
                chosen_rating: Some(chosen_rating),
                rejected_rating: Some(rejected_rating),
            });
        }
    }
    out
}

fn assistant(content: &str) -> [ChatMessage; 1] {
    [ChatMessage::new("assistant", content)]
}

/// TRL's conversational preference format: `prompt`, `chosen`, `rejected`
/// as lists of `{role, content}`.
pub fn to_trl_jsonl(pairs: &[PreferencePair]) -> Result<String, DatasetError> {
    jsonl(pairs.iter().map(|p| {
        json!({
            "prompt": p.prompt,
            "chosen": assistant(&p.chosen),
            "rejected": assistant(&p.rejected),
        })
    }))
}

/// OpenAI's DPO fine-tuning format.
pub fn to_openai_dpo_jsonl(pairs: &[PreferencePair]) -> Result<String, DatasetError> {
    jsonl(pairs.iter().map(|p| {
        json!({
            "input": { "messages": p.prompt },
            "preferred_output": assistant(&p.chosen),
            "non_preferred_output": assistant(&p.rejected),
        })
    }))
}

/// Pairs in the preference format named as the CLI and the page name it
/// (`trl-preference` or `openai-dpo`); `None` for another name.
pub fn preference_jsonl(format: &str, pairs: &[PreferencePair]) -> Option<Result<String, DatasetError>> {
    match format {
        "trl-preference" => Some(to_trl_jsonl(pairs)),
        "openai-dpo" => Some(to_openai_dpo_jsonl(pairs)),
        _ => None,
    }
}
