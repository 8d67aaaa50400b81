//! Pinned memories: facts the user pins from a message, or that a character
//! is told to keep ("remember that …").

use serde::{Deserialize, Serialize};

use super::summary::cut_chars;
use crate::chat::chat::Chat;
use crate::chat::error::ChatError;

pub const MAX_PINNED: usize = 1_000;
pub const MAX_PIN_CHARS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinnedBy {
    /// The user pinned it from the chat.
    User,
    /// The character was told to keep it.
    Character,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedMemory {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub source_message_id: Option<String>,
    pub pinned_by: PinnedBy,
    pub created_at_ms: u64,
}

impl Chat {
    /// Pin a fact; `source` is the message it came from, if any. Returns the
    /// pin's id.
    pub fn pin(
        &mut self,
        text: &str,
        source: Option<&str>,
        by: PinnedBy,
        at_ms: u64,
    ) -> Result<String, ChatError> {
        if let Some(src) = source {
            self.get(src)?;
        }
        if self.memory.pinned.len() >= MAX_PINNED {
            return Err(ChatError::LimitReached {
                what: "pinned memories",
                max: MAX_PINNED,
            });
        }
        self.memory.next_pin_seq = self.memory.next_pin_seq.wrapping_add(1);
        let id = format!("p{}", self.memory.next_pin_seq);
        self.memory.pinned.push(PinnedMemory {
            id: id.clone(),
            text: cut_chars(text.trim(), MAX_PIN_CHARS).to_owned(),
            source_message_id: source.map(str::to_owned),
            pinned_by: by,
            created_at_ms: at_ms,
        });
        Ok(id)
    }

    /// Pin the shown text of a message (or a selected part of it).
    pub fn pin_message(
        &mut self,
        message_id: &str,
        selection: Option<&str>,
        at_ms: u64,
    ) -> Result<String, ChatError> {
        let text = match selection {
            Some(s) => s.to_owned(),
            None => self.get(message_id)?.text().to_owned(),
        };
        self.pin(&text, Some(message_id), PinnedBy::User, at_ms)
    }

    /// Pin every "remember that …" request found in a message. Returns the
    /// new pins' ids.
    pub fn pin_keep_requests(
        &mut self,
        message_id: &str,
        at_ms: u64,
    ) -> Result<Vec<String>, ChatError> {
        let facts = keep_requests(self.get(message_id)?.text());
        let mut ids = Vec::new();
        for fact in facts {
            if !self
                .memory
                .pinned
                .iter()
                .any(|p| p.text.eq_ignore_ascii_case(&fact))
            {
                ids.push(self.pin(&fact, Some(message_id), PinnedBy::Character, at_ms)?);
            }
        }
        Ok(ids)
    }

    pub fn unpin(&mut self, pin_id: &str) -> bool {
        let before = self.memory.pinned.len();
        self.memory.pinned.retain(|p| p.id != pin_id);
        before != self.memory.pinned.len()
    }
}

const KEEP_CUES: &[&str] = &[
    "please remember that ",
    "remember that ",
    "remember: ",
    "don't forget that ",
    "do not forget that ",
    "keep in mind that ",
    "never forget that ",
];

/// Facts a message asks the character to keep: the rest of the sentence after
/// a cue such as "remember that". Case-insensitive; the fact keeps its case.
pub fn keep_requests(text: &str) -> Vec<String> {
    // The cues are ASCII: ASCII lowercasing keeps every byte offset valid in
    // the original text.
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for cue in KEEP_CUES {
        let mut from = 0;
        while let Some(found) = lower.get(from..).and_then(|rest| rest.find(cue)) {
            let at = from + found;
            let starts_word = !lower
                .get(..at)
                .and_then(|s| s.chars().next_back())
                .is_some_and(char::is_alphanumeric);
            let fact_start = at + cue.len();
            from = fact_start;
            if !starts_word {
                continue;
            }
            let rest = text.get(fact_start..).unwrap_or("");
            let end = rest.find(['.', '!', '?', '\n']).unwrap_or(rest.len());
            let fact = rest.get(..end).unwrap_or("").trim();
            if !fact.is_empty() && !out.iter().any(|f: &String| f == fact) {
                out.push(cut_chars(fact, MAX_PIN_CHARS).to_owned());
            }
        }
    }
    out
}
