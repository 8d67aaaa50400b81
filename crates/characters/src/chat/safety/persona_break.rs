//! Persona breaks: the model stepping out of character ("as an AI language
//! model…") or writing the user's lines. Flagged so the app can offer a
//! regenerate; for the second case the reply can also be cut where the
//! user's line begins.

use serde::{Deserialize, Serialize};

use super::words::{find_all, phrase_words, words};

/// Out-of-character phrases, matched whole-word and case-insensitively
/// (apostrophes split words, so "I'm" and "I’m" both match "i m").
const AI_PHRASES: &[&str] = &[
    "as an ai language model",
    "as a large language model",
    "as a language model",
    "as an ai model",
    "as an ai assistant",
    "as an ai",
    "i am an ai",
    "i'm an ai",
    "i am just an ai",
    "i'm just an ai",
    "i am only an ai",
    "i'm only an ai",
    "i am a language model",
    "i'm a language model",
    "i am just a language model",
    "i'm just a language model",
    "i am an artificial intelligence",
    "i'm an artificial intelligence",
    "i am a large language model",
    "i'm a large language model",
    "i am an ai assistant",
    "i'm an ai assistant",
    "i cannot fulfill that request",
    "i can't fulfill that request",
    "i cannot fulfill this request",
    "i can't fulfill this request",
    "i cannot continue this roleplay",
    "i can't continue this roleplay",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhraseHit {
    pub phrase: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonaBreak {
    /// Out-of-character phrases, in text order (longest phrase per place).
    pub ai_disclaimers: Vec<PhraseHit>,
    /// Byte offset where a line spoken as the user begins.
    pub user_line_at: Option<usize>,
    /// Keep `text[..truncate_at]` to drop the user's lines and what follows.
    pub truncate_at: Option<usize>,
}

impl PersonaBreak {
    pub fn is_break(&self) -> bool {
        !self.ai_disclaimers.is_empty() || self.user_line_at.is_some()
    }
}

/// Look for persona breaks in a model reply. `user_name` is the persona's
/// name; lines starting with `{{user}}:` are caught as well.
pub fn detect_persona_break(text: &str, user_name: &str) -> PersonaBreak {
    let text_words = words(text);
    let mut hits: Vec<PhraseHit> = Vec::new();
    for phrase in AI_PHRASES {
        for (start, end) in find_all(&text_words, &phrase_words(phrase)) {
            hits.push(PhraseHit {
                phrase: (*phrase).to_owned(),
                start,
                end,
            });
        }
    }
    // Keep the longest phrase among those that overlap.
    hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<PhraseHit> = Vec::new();
    for h in hits {
        if kept.last().is_none_or(|k| h.start >= k.end) {
            kept.push(h);
        }
    }

    let user_line_at = find_user_line(text, user_name);
    let truncate_at = user_line_at.map(|at| text.get(..at).unwrap_or("").trim_end().len());
    PersonaBreak {
        ai_disclaimers: kept,
        user_line_at,
        truncate_at,
    }
}

/// Byte offset of the first line that starts with the user's name (or
/// `{{user}}`) followed by a colon, ignoring leading spaces and emphasis.
fn find_user_line(text: &str, user_name: &str) -> Option<usize> {
    let mut names = vec!["{{user}}".to_owned()];
    let trimmed_name = user_name.trim();
    if !trimmed_name.is_empty() {
        names.push(trimmed_name.to_lowercase());
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(|c: char| c.is_whitespace() || c == '*' || c == '_');
        let lower = body.to_lowercase();
        for name in &names {
            if let Some(rest) = lower.strip_prefix(name.as_str()) {
                if rest
                    .trim_start_matches([' ', '\t', '*', '_'])
                    .starts_with(':')
                {
                    return Some(offset);
                }
            }
        }
        offset += line.len();
    }
    None
}
