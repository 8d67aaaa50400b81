//! Rolling summaries of the history that no longer fits the context window.
//!
//! Each summary is cumulative: it is written from the previous summary plus
//! the newly dropped span, so the prompt only needs the latest one. It keeps
//! the ids of the span it added, so editing or deleting any of those messages
//! rolls it (and every later summary) back.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::chat::chat::Chat;
use crate::chat::message::Message;
use crate::chat::names::Names;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub text: String,
    /// First and last message of the span this summary added.
    pub from_id: String,
    pub to_id: String,
    /// Every message of that span, hidden ones included.
    pub message_ids: Vec<String>,
    pub created_at_ms: u64,
}

impl Summary {
    pub fn covers(&self, message_id: &str) -> bool {
        self.message_ids.iter().any(|id| id == message_id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryConfig {
    /// Messages summarised per engine call.
    pub max_messages_per_call: usize,
    /// Characters of message text per engine call; a longer message is cut.
    pub max_prompt_chars: usize,
    /// Length asked of the model.
    pub target_words: usize,
    /// Longest summary kept; the rest of an over-long answer is cut.
    pub max_summary_chars: usize,
}

impl Default for SummaryConfig {
    fn default() -> Self {
        Self {
            max_messages_per_call: 40,
            max_prompt_chars: 12_000,
            target_words: 200,
            max_summary_chars: 4_000,
        }
    }
}

#[derive(Debug, Error)]
pub enum SummaryError<E: std::fmt::Display> {
    #[error("the summarisation engine failed: {0}")]
    Engine(E),
    #[error("the engine returned an empty summary")]
    EmptyAnswer,
}

/// Index of the first message that fits in a history budget of `budget`
/// tokens, walking back from the newest. Hidden messages cost nothing.
pub fn window_start(
    messages: &[Message],
    names: &Names,
    budget: usize,
    count: &dyn Fn(&str) -> usize,
) -> usize {
    let mut used = 0usize;
    for (i, m) in messages.iter().enumerate().rev() {
        if m.hidden {
            continue;
        }
        let cost = count(&format!("{}: {}\n", names.of(&m.author), m.text()));
        if used.saturating_add(cost) > budget {
            return i + 1;
        }
        used += cost;
    }
    0
}

/// The prompt asking the model to fold `span` into the previous summary.
pub fn summary_prompt(
    previous: Option<&str>,
    span: &[&Message],
    names: &Names,
    config: &SummaryConfig,
) -> String {
    let mut out = String::new();
    out.push_str(
        "You keep the memory of a long role-play chat. Write a concise summary of the story so far, \
         in the past tense and third person. Keep names, relationships, facts the characters learned \
         about each other, promises, places and unresolved threads; drop small talk.\n",
    );
    out.push_str(&format!(
        "Use at most {} words. Reply with the summary only.\n\n",
        config.target_words
    ));
    if let Some(prev) = previous.filter(|p| !p.trim().is_empty()) {
        out.push_str("Summary so far:\n");
        out.push_str(prev.trim());
        out.push_str("\n\n");
    }
    out.push_str("New messages:\n");
    let per_message = config.max_prompt_chars / span.len().max(1);
    for m in span {
        out.push_str(names.of(&m.author));
        out.push_str(": ");
        out.push_str(cut_chars(m.text().trim(), per_message));
        out.push('\n');
    }
    out.push_str("\nUpdated summary:");
    out
}

/// Phrases of `summary_prompt`'s own wording: an answer that holds one
/// repeats the instruction (as small base models often do) instead of
/// following it, and is no summary.
const INSTRUCTION_MARKS: &[&str] = &[
    "keep the memory of a long role-play chat",
    "summary of the story so far",
    "in the past tense and third person",
    "drop small talk",
    "reply with the summary only",
    "summary so far:",
    "new messages:",
];

pub fn echoes_instruction(answer: &str) -> bool {
    let answer = answer.to_lowercase();
    INSTRUCTION_MARKS.iter().any(|m| answer.contains(m))
}

/// A summary written without the model, for when its answer is none: the
/// previous summary, then each new message's first sentence after its
/// speaker's name, keeping the newest lines that fit in `target_words`.
pub fn extractive_summary(previous: Option<&str>, span: &[&Message], names: &Names, target_words: usize) -> String {
    let mut lines: Vec<String> = previous.map(str::trim).filter(|p| !p.is_empty()).map(String::from).into_iter().collect();
    for m in span {
        let sentence = first_sentence(m.text(), MAX_WORDS_PER_LINE);
        if !sentence.is_empty() {
            lines.push(format!("{}: {sentence}", names.of(&m.author)));
        }
    }
    let budget = target_words.max(1);
    let mut kept: Vec<&str> = Vec::new();
    let mut words = 0;
    for line in lines.iter().rev() {
        let n = line.split_whitespace().count();
        if words + n > budget {
            break;
        }
        words += n;
        kept.push(line);
    }
    if kept.is_empty() {
        // Even the newest line is too long: its first words.
        return lines.last().map(|l| l.split_whitespace().take(budget).collect::<Vec<_>>().join(" ")).unwrap_or_default();
    }
    kept.reverse();
    kept.join("\n")
}

const MAX_WORDS_PER_LINE: usize = 30;

/// Up to the first sentence end, on one line, at most `max_words` words.
fn first_sentence(text: &str, max_words: usize) -> String {
    let one_line = text.split_whitespace().take(max_words).collect::<Vec<_>>().join(" ");
    let end = one_line
        .char_indices()
        .find(|&(i, c)| matches!(c, '.' | '!' | '?') && one_line[i + c.len_utf8()..].starts_with(' '))
        .map_or(one_line.len(), |(i, c)| i + c.len_utf8());
    one_line[..end].to_string()
}

/// Summarise every message before `window_start` that no summary covers yet.
/// Returns how many summaries were added. On an engine error the summaries
/// added so far stay.
pub fn roll_summaries<E: std::fmt::Display>(
    chat: &mut Chat,
    window_start: usize,
    names: &Names,
    config: &SummaryConfig,
    summarise: &mut dyn FnMut(&str) -> Result<String, E>,
    at_ms: u64,
) -> Result<usize, SummaryError<E>> {
    let window_start = window_start.min(chat.messages.len());
    let mut start = match chat.memory.latest_summary() {
        Some(s) => match chat.position(&s.to_id) {
            Some(p) => p + 1,
            // The chat changed under the summaries without telling them.
            None => {
                chat.memory.summaries.clear();
                0
            }
        },
        None => 0,
    };
    let step = config.max_messages_per_call.max(1);
    let mut added = 0;
    while start < window_start {
        let end = (start + step).min(window_start);
        let span_msgs = chat.messages.get(start..end).unwrap_or(&[]);
        let visible: Vec<&Message> = span_msgs.iter().filter(|m| !m.hidden).collect();
        let previous = chat.memory.latest_summary().map(|s| s.text.clone());
        let text = if visible.is_empty() {
            previous.unwrap_or_default()
        } else {
            let prompt = summary_prompt(previous.as_deref(), &visible, names, config);
            let answer = summarise(&prompt).map_err(SummaryError::Engine)?;
            let cleaned = clean_answer(&answer, config.max_summary_chars);
            if cleaned.is_empty() {
                return Err(SummaryError::EmptyAnswer);
            }
            cleaned
        };
        let (Some(first), Some(last)) = (span_msgs.first(), span_msgs.last()) else {
            break;
        };
        let summary = Summary {
            text,
            from_id: first.id.clone(),
            to_id: last.id.clone(),
            message_ids: span_msgs.iter().map(|m| m.id.clone()).collect(),
            created_at_ms: at_ms,
        };
        chat.memory.summaries.push(summary);
        added += 1;
        start = end;
    }
    Ok(added)
}

/// Strip a leading "Summary:" label and surrounding whitespace, cap length.
fn clean_answer(answer: &str, max_chars: usize) -> String {
    let mut text = answer.trim();
    for label in ["updated summary:", "summary:"] {
        if text.len() >= label.len()
            && text
                .get(..label.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(label))
        {
            text = text.get(label.len()..).unwrap_or("").trim_start();
        }
    }
    cut_chars(text, max_chars).trim().to_owned()
}

/// The first `max` characters of `s`, on a char boundary.
pub(crate) fn cut_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}
