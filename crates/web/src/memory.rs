//! Long-chat memory in the page's prompt: pinned facts, the latest rolling
//! summary and past messages recalled for the latest turn (the chat domain's
//! `assemble_memory`), and the span of dropped history still waiting for a
//! summary (the domain's `summary_prompt`, answered by the engine in the
//! worker).
//!
//! The page keeps messages and memories in IndexedDB; the request carries the
//! history's ids alongside its texts so that what was recalled and what a
//! summary covers can be named back to the page.

use kindred_characters::chat::memory::{
    assemble_memory, echoes_instruction, extractive_summary, summary_prompt, MemoryConfig, MemorySource, NoEmbedder, PinnedBy, PinnedMemory, Summary,
    SummaryConfig,
};
use kindred_characters::chat::{Author as ChatAuthor, Chat, Message, Names};
use kindred_characters::prompt::{Author, HistoryMessage, Memory};
use serde::{Deserialize, Serialize};

/// Pinned memories read from one request.
const MAX_PINNED: usize = 1_000;
/// Messages folded into a summary by one engine call.
const MESSAGES_PER_SUMMARY: usize = 40;
/// Tokens a summary answer may take at most.
const MAX_SUMMARY_TOKENS: usize = 160;
/// Shortest share of text a message gets in a summary prompt.
const MIN_CHARS_PER_MESSAGE: usize = 60;
/// Tokens kept free in the summary prompt for template markup.
const SUMMARY_MARGIN: usize = 24;
/// Longest summary kept from an answer.
pub const MAX_SUMMARY_CHARS: usize = 4_000;
/// Id given to the character's messages inside the memory chat.
const CHAR_ID: &str = "char";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MemoryRequest {
    /// The ids of the history messages, in the history's order.
    pub message_ids: Vec<String>,
    pub pinned: Vec<PinIn>,
    /// The newest rolling summary (it tells the whole story up to `to_id`).
    pub summary: Option<SummaryIn>,
    /// Tokens the memory block may use; 0 takes a share of the prompt budget.
    pub budget_tokens: usize,
    /// Ask for a summary of history that left the prompt and none covers yet.
    pub summarise: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PinIn {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SummaryIn {
    pub text: String,
    pub to_id: String,
}

/// A memory that went into the prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsedMemory {
    /// "pinned", "summary" or "message".
    pub kind: &'static str,
    /// The pin's id, the summary's last message id, or the recalled message's id.
    pub id: String,
    /// The line as the prompt holds it (before macros are expanded).
    pub text: String,
}

/// The dropped span the engine should fold into the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryJob {
    /// The whole instruction, sent to the model as one user turn.
    pub prompt: String,
    pub from_id: String,
    pub to_id: String,
    pub message_ids: Vec<String>,
    /// Tokens the answer may take.
    pub max_tokens: usize,
    /// The summary to keep when the model's answer is none (empty, or the
    /// instruction repeated back): the span's first sentences, extracted.
    pub fallback: String,
}

/// The summary to keep from the model's `answer` to a `SummaryJob`: the
/// answer, or the job's `fallback` when it is empty or repeats the
/// instruction (so a base model's echo never becomes a memory).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn summary_answer(answer: &str, fallback: &str) -> String {
    let answer = answer.trim();
    if answer.is_empty() || echoes_instruction(answer) {
        fallback.trim().to_string()
    } else {
        answer.to_string()
    }
}

/// Memories ready for assembly, and what each of them is.
#[derive(Debug, Clone, Default)]
pub struct Recall {
    pub memories: Vec<Memory>,
    pub used: Vec<UsedMemory>,
}

impl Recall {
    /// The memories assembly kept (`cut` lists positions it dropped).
    pub fn kept(&self, cut: &[usize]) -> Vec<UsedMemory> {
        self.used.iter().enumerate().filter(|(i, _)| !cut.contains(i)).map(|(_, u)| u.clone()).collect()
    }
}

/// The ids must name the history one to one; anything else is refused.
pub fn check(req: &MemoryRequest, history_len: usize) -> Result<(), String> {
    if req.message_ids.len() != history_len {
        return Err(format!(
            "memory.message_ids has {} ids for {} history messages",
            req.message_ids.len(),
            history_len
        ));
    }
    Ok(())
}

fn names(user: &str, char_name: &str, history: &[HistoryMessage]) -> Names {
    let mut names = Names::new(user).with_character(CHAR_ID, char_name);
    for m in history {
        if m.author == Author::Char && !m.name.is_empty() {
            names = names.with_character(m.name.clone(), m.name.clone());
        }
    }
    names
}

fn chat_message(id: &str, m: &HistoryMessage) -> Message {
    let author = match m.author {
        Author::User => ChatAuthor::User,
        Author::Char if m.name.is_empty() => ChatAuthor::character(CHAR_ID),
        Author::Char => ChatAuthor::character(m.name.clone()),
        Author::System => ChatAuthor::System,
        Author::Narrator => ChatAuthor::Narrator,
    };
    let mut msg = Message::new(id, author, m.text.clone(), 0);
    msg.hidden = m.hidden;
    msg
}

/// The memory block for the next reply: pinned facts, the summary, and the
/// messages in `cut` (out of the prompt) that best match the latest turn.
pub fn recall(
    req: &MemoryRequest,
    history: &[HistoryMessage],
    cut: &[usize],
    user: &str,
    char_name: &str,
    prompt_budget: usize,
    count: &dyn Fn(&str) -> usize,
) -> Recall {
    // The id is a constant that passes the domain's check.
    let Ok(mut chat) = Chat::new("page", 0) else { return Recall::default() };
    chat.messages = cut
        .iter()
        .filter_map(|&i| Some(chat_message(req.message_ids.get(i)?, history.get(i)?)))
        .collect();
    chat.memory.pinned = req
        .pinned
        .iter()
        .filter(|p| !p.text.trim().is_empty())
        .take(MAX_PINNED)
        .map(|p| PinnedMemory {
            id: p.id.clone(),
            text: p.text.trim().to_string(),
            source_message_id: None,
            pinned_by: PinnedBy::User,
            created_at_ms: 0,
        })
        .collect();
    if let Some(s) = req.summary.as_ref().filter(|s| !s.text.trim().is_empty()) {
        chat.memory.summaries.push(Summary {
            text: s.text.clone(),
            from_id: s.to_id.clone(),
            to_id: s.to_id.clone(),
            message_ids: Vec::new(),
            created_at_ms: 0,
        });
    }
    let latest = history.iter().rev().find(|m| !m.hidden && !m.text.trim().is_empty()).map_or("", |m| m.text.as_str());
    let budget = if req.budget_tokens > 0 { req.budget_tokens } else { (prompt_budget / 3).clamp(96, 768) };
    let config = MemoryConfig { budget_tokens: budget, ..MemoryConfig::default() };
    let names = names(user, char_name, history);
    let window = chat.messages.len();
    let block = assemble_memory(&chat, window, latest, &names, &config, count, &mut NoEmbedder);
    let mut out = Recall::default();
    for item in block.items {
        let line = item.text.strip_prefix("- ").unwrap_or(&item.text).to_string();
        let (kind, id, pinned) = match item.source {
            MemorySource::Pinned { id } => ("pinned", id, true),
            MemorySource::Summary { to_id } => ("summary", to_id, false),
            MemorySource::Message { id } => ("message", id, false),
        };
        out.memories.push(Memory::new(line.clone(), pinned));
        out.used.push(UsedMemory { kind, id, text: line });
    }
    out
}

/// The oldest span of cut history that no summary covers, as a prompt for
/// the engine; `None` when everything cut is summarised already.
pub fn summary_job(
    req: &MemoryRequest,
    history: &[HistoryMessage],
    cut: &[usize],
    user: &str,
    char_name: &str,
    context_tokens: usize,
    count: &dyn Fn(&str) -> usize,
) -> Option<SummaryJob> {
    if !req.summarise {
        return None;
    }
    let last_cut = *cut.iter().max()?;
    let first_cut = *cut.iter().min()?;
    let known = req.summary.as_ref().and_then(|s| req.message_ids.iter().position(|id| *id == s.to_id));
    let previous = known.and(req.summary.as_ref()).map(|s| s.text.as_str());
    let start = known.map_or(first_cut, |p| p + 1);
    if start > last_cut {
        return None;
    }
    let names = names(user, char_name, history);
    let max_tokens = (context_tokens / 4).clamp(16, MAX_SUMMARY_TOKENS);
    let room = context_tokens.saturating_sub(max_tokens + SUMMARY_MARGIN);
    // A small context takes fewer messages per call, each shortened, until the prompt fits;
    // the rest is summarised by the next replies.
    let mut len = (last_cut + 1 - start).min(MESSAGES_PER_SUMMARY);
    while len > 0 {
        let end = start + len;
        let ids = req.message_ids.get(start..end)?;
        let span: Vec<Message> =
            history.get(start..end)?.iter().zip(ids).map(|(m, id)| chat_message(id, m)).collect();
        let visible: Vec<&Message> = span.iter().filter(|m| !m.hidden).collect();
        let mut config = SummaryConfig { target_words: max_tokens / 2, ..SummaryConfig::default() };
        loop {
            let prompt = summary_prompt(previous, &visible, &names, &config);
            if visible.is_empty() || count(&prompt) <= room {
                return (!visible.is_empty()).then(|| SummaryJob {
                    prompt,
                    from_id: ids.first().cloned().unwrap_or_default(),
                    to_id: ids.last().cloned().unwrap_or_default(),
                    message_ids: ids.to_vec(),
                    max_tokens,
                    fallback: extractive_summary(previous, &visible, &names, config.target_words),
                });
            }
            if config.max_prompt_chars / visible.len() < MIN_CHARS_PER_MESSAGE {
                break;
            }
            config.max_prompt_chars /= 2;
        }
        len /= 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str) -> usize {
        t.split_whitespace().count()
    }

    fn chat(n: usize) -> (Vec<HistoryMessage>, MemoryRequest) {
        let mut history = vec![HistoryMessage::char("Welcome aboard.")];
        for i in 1..n {
            let text = if i == 3 { "My sister Zelinda keeps bees on the roof.".to_string() } else { format!("small talk number {i}") };
            history.push(if i % 2 == 1 { HistoryMessage::user(text) } else { HistoryMessage::char(text) });
        }
        history.push(HistoryMessage::user("What does Zelinda keep?"));
        let req = MemoryRequest {
            message_ids: (0..history.len()).map(|i| format!("m{i}")).collect(),
            pinned: vec![PinIn { id: "p1".into(), text: "Sam is afraid of the sea.".into() }],
            summary: None,
            budget_tokens: 0,
            summarise: true,
        };
        (history, req)
    }

    #[test]
    fn recall_brings_back_a_cut_fact_and_the_pins() {
        let (history, req) = chat(30);
        let cut: Vec<usize> = (1..20).collect();
        let r = recall(&req, &history, &cut, "Sam", "Ada", 400, &words);
        let kinds: Vec<&str> = r.used.iter().map(|u| u.kind).collect();
        assert!(kinds.contains(&"pinned"), "{kinds:?}");
        let recalled: Vec<&UsedMemory> = r.used.iter().filter(|u| u.kind == "message").collect();
        assert_eq!(recalled.first().map(|u| u.id.as_str()), Some("m3"), "{recalled:?}");
        assert!(recalled[0].text.contains("Zelinda keeps bees"), "{}", recalled[0].text);
        assert!(recalled[0].text.starts_with("Sam: "), "{}", recalled[0].text);
        assert_eq!(r.memories.len(), r.used.len());
        assert!(r.memories[0].pinned);
        // Nothing cut: only the pins.
        let r = recall(&req, &history, &[], "Sam", "Ada", 400, &words);
        assert_eq!(r.used.len(), 1);
        assert_eq!(r.kept(&[0]).len(), 0);
    }

    #[test]
    fn the_summary_job_starts_after_the_last_summary() {
        let (history, mut req) = chat(30);
        let cut: Vec<usize> = (1..12).collect();
        let job = summary_job(&req, &history, &cut, "Sam", "Ada", 2048, &words).unwrap();
        assert_eq!((job.from_id.as_str(), job.to_id.as_str()), ("m1", "m11"));
        assert_eq!(job.message_ids.len(), 11);
        assert!(job.prompt.contains("Sam: My sister Zelinda keeps bees"), "{}", job.prompt);
        assert!(job.prompt.contains("Ada: small talk number 2"), "{}", job.prompt);
        req.summary = Some(SummaryIn { text: "They met.".into(), to_id: "m5".into() });
        let job = summary_job(&req, &history, &cut, "Sam", "Ada", 2048, &words).unwrap();
        assert_eq!(job.from_id, "m6");
        assert!(job.prompt.contains("They met."));
        assert!(job.fallback.ends_with("Ada: small talk number 10\nSam: small talk number 11"), "{}", job.fallback);
        req.summary = Some(SummaryIn { text: "All of it.".into(), to_id: "m11".into() });
        assert!(summary_job(&req, &history, &cut, "Sam", "Ada", 2048, &words).is_none());
        req.summarise = false;
        req.summary = None;
        assert!(summary_job(&req, &history, &cut, "Sam", "Ada", 2048, &words).is_none());
    }

    #[test]
    fn an_echoed_instruction_gives_way_to_the_fallback() {
        let (history, req) = chat(30);
        let cut: Vec<usize> = (1..12).collect();
        let job = summary_job(&req, &history, &cut, "Sam", "Ada", 2048, &words).unwrap();
        assert!(job.fallback.contains("Sam: My sister Zelinda keeps bees on the roof."), "{}", job.fallback);
        let echo = job.prompt.lines().next().unwrap();
        assert_eq!(summary_answer(echo, &job.fallback), job.fallback);
        assert_eq!(summary_answer("  ", &job.fallback), job.fallback);
        assert_eq!(summary_answer(" Sam told Ada about the bees. ", &job.fallback), "Sam told Ada about the bees.");
    }

    #[test]
    fn a_small_context_gets_a_prompt_that_fits() {
        let (mut history, mut req) = chat(30);
        for m in history.iter_mut().skip(1) {
            m.text = format!("{} {}", m.text, "word ".repeat(200));
        }
        req.message_ids = (0..history.len()).map(|i| format!("m{i}")).collect();
        let cut: Vec<usize> = (1..25).collect();
        let job = summary_job(&req, &history, &cut, "Sam", "Ada", 256, &words).unwrap();
        assert!(words(&job.prompt) + job.max_tokens <= 256, "{}", words(&job.prompt));
    }

    #[test]
    fn the_prompt_carries_pins_and_recall_and_asks_for_a_summary() {
        use crate::prompt::{build_prompt, PromptRequest};
        let (history, req) = chat(60);
        let mut p: PromptRequest = serde_json::from_str(
            r#"{"card": {"name": "Ada", "description": "{{char}} keeps a lighthouse."},
                "persona": {"name": "Sam"}, "settings": {"context_tokens": 300, "reply_reserve": 20}}"#,
        )
        .unwrap();
        p.history = history;
        p.memory = Some(req);
        let reply = build_prompt(&p, &words).unwrap();
        assert!(!reply.cut.is_empty());
        let system = &reply.messages[0].content;
        assert!(system.contains("- Sam is afraid of the sea."), "{system}");
        assert!(system.contains("Zelinda keeps bees"), "{system}");
        assert!(reply.memory.iter().any(|u| u.kind == "pinned" && u.id == "p1"), "{:?}", reply.memory);
        assert!(reply.memory.iter().any(|u| u.kind == "message" && u.id == "m3"), "{:?}", reply.memory);
        let job = reply.summarise.unwrap();
        assert_eq!(job.from_id, "m1");
        // Without memory in the request, nothing of it appears.
        p.memory = None;
        let reply = build_prompt(&p, &words).unwrap();
        assert!(reply.memory.is_empty() && reply.summarise.is_none());
        assert!(!reply.messages[0].content.contains("afraid of the sea"));
        // Ids that do not match the history are a clear error.
        p.memory = Some(MemoryRequest { message_ids: vec!["m0".into()], ..MemoryRequest::default() });
        assert!(build_prompt(&p, &words).unwrap_err().to_string().contains("message_ids"));
    }

    #[test]
    fn mismatched_ids_are_refused() {
        let (history, req) = chat(4);
        assert!(check(&req, history.len()).is_ok());
        assert!(check(&req, history.len() + 1).unwrap_err().contains("message_ids"));
    }
}
