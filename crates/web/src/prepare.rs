//! A reply's prompt from its request, in one place for the page's worker
//! and the CLI: assembled (`prompt::build_prompt`, counting with the
//! model's own tokenizer), rendered with the model's chat template or the
//! layout's, fitted to the context, and tokenized once.
//!
//! The model settles what the page cannot know: its context (the request's
//! is a cap), whether it is instruct-tuned (which picks the `auto` layout),
//! and the room the reply needs (`max_tokens`).

use kindred_engine::{ChatMessage, Session};
use serde::Serialize;

use crate::error::WebError;
use crate::prompt::{build_prompt, estimate_tokens, PromptReply, PromptRequest};

/// Marks the end of the message a continuation goes on from: the prompt is
/// cut there, so the model's template decides everything before it and
/// nothing after (its end-of-turn is not in the prompt). Private-use
/// characters, which no card or model text carries.
const CONTINUE_MARK: &str = "\u{F8FF}kindred-continue\u{F8FF}";

#[derive(Debug, Clone, Serialize)]
pub struct Prepared {
    /// What went into the prompt (cut history, lore, memory, token counts,
    /// stop strings, speakers).
    #[serde(flatten)]
    pub reply: PromptReply,
    /// The prompt's tokens; the page gets only their count.
    #[serde(rename = "prompt_tokens", serialize_with = "count")]
    pub ids: Vec<u32>,
    /// The prompt ends inside the character's turn.
    pub continuing: bool,
    /// The prompt as the model reads it (its template's text): shown to the
    /// person with the reply's memory, so that what a character knew can be
    /// read, not guessed.
    pub prompt_text: String,
    /// Turns left out to fit, by the assembly or by the fit after
    /// rendering: the engine may keep the cached turns after them
    /// (`GenerateOptions::context_shift`).
    pub shift: bool,
    /// Turns the fit after rendering left out (the assembly's estimate of
    /// the template's overhead fell short).
    pub dropped: usize,
    /// Tokens the reply may not use (of scripts the prompt does not use),
    /// when the settings keep replies to the prompt's (`script_guard`).
    #[serde(skip)]
    pub suppress: std::sync::Arc<[u32]>,
}

pub fn prepare(session: &Session, mut req: PromptRequest, max_tokens: usize) -> Result<Prepared, WebError> {
    let context = match req.settings.context_tokens {
        0 => session.context(),
        n => n.min(session.context()),
    };
    req.instruct = Some(session.template.is_instruct());
    req.settings.context_tokens = context;
    req.settings.reply_reserve = max_tokens;
    let count = |t: &str| session.encode_prompt(t).map_or_else(|_| estimate_tokens(t), |v| v.len());
    let reply = build_prompt(&req, &count)?;
    let mut messages: Vec<ChatMessage> = reply
        .messages
        .iter()
        .map(|t| ChatMessage { role: t.role.to_string(), content: t.content.clone(), name: t.name.clone() })
        .collect();
    let budget = context.saturating_sub(max_tokens);
    let first = usize::from(messages.first().is_some_and(|m| m.role == "system"));
    let mut dropped = 0;
    let (ids, continuing, text) = loop {
        let continuing = reply.continues && messages.last().is_some_and(|m| m.role == "assistant");
        let text = render(session, &messages, reply.template, continuing)?;
        let ids = session.encode_prompt(&text)?;
        // The oldest turns go two at a time, so user/assistant alternation
        // survives; the system text and the latest turn stay.
        if ids.len() <= budget || messages.len() - first <= 2 {
            break (ids, continuing, text);
        }
        messages.drain(first..first + 2);
        dropped += 2;
    };
    let suppress = match req.settings.keep_scripts {
        true => crate::script_guard::suppressed_for(session, &text),
        false => Default::default(),
    };
    Ok(Prepared { shift: reply.trimmed || dropped > 0, ids, continuing, prompt_text: text, dropped, suppress, reply })
}

fn count<S: serde::Serializer>(ids: &[u32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(ids.len() as u64)
}

fn render(session: &Session, messages: &[ChatMessage], layout: Option<&str>, continuing: bool) -> Result<String, WebError> {
    if !continuing {
        return Ok(session.render_chat_as(messages, layout)?);
    }
    let mut marked = messages.to_vec();
    if let Some(last) = marked.last_mut() {
        last.content.push_str(CONTINUE_MARK);
    }
    let text = session.render_chat_as(&marked, layout)?;
    match text.rfind(CONTINUE_MARK) {
        Some(at) => Ok(text[..at].to_string()),
        // A template that drops the last message's text: answer it instead.
        None => Ok(session.render_chat_as(messages, layout)?),
    }
}
