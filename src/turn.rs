//! One reply, natively, the way the app makes it: the page's prompt
//! (`kindred_web::prepare`: assembled, rendered, fitted and tokenized with
//! the model), the reply's stop strings, and turn discipline on the
//! result; and the read-ahead of a chat's prompt.
//! `kindred chat`, `kindred eval` and the chat bench use it.

use kindred_characters::persona::Persona;
use kindred_characters::prompt::{HistoryMessage, PromptStyle};
use kindred_characters::reply::{finish, Ending};
use kindred_characters::Card;
use kindred_engine::{GenerateOptions, Session, StartInfo, StopReason};
use kindred_web::prepare::prepare;
use kindred_web::prompt::PromptRequest;

pub struct TurnOut {
    /// The model's text before turn discipline.
    pub raw: String,
    /// What a person sees.
    pub shown: String,
    pub ending: Ending,
    pub tokens: usize,
    pub ms: u64,
    /// From the start to the first piece of text.
    pub first_ms: Option<u64>,
    /// Prompt tokens found in the cache, of `prompt_tokens`.
    pub reused: usize,
    /// Of those, the ones kept past turns left out to fit (context shift).
    pub shifted: usize,
    pub prompt_tokens: usize,
}

pub fn ending(r: StopReason) -> Ending {
    match r {
        StopReason::Eos => Ending::Eos,
        StopReason::Stop => Ending::Stop,
        StopReason::MaxTokens => Ending::MaxTokens,
        StopReason::ContextFull => Ending::ContextFull,
        // A warm-up samples nothing: no reply came.
        StopReason::Cancelled | StopReason::Prefilled => Ending::User,
    }
}

/// A chat's prompt request as the app sends it: the card, the person's
/// name, the history, the layout (`auto` picks by the model) and the seed
/// its macros use.
pub fn request(card: &Card, user: &str, history: Vec<HistoryMessage>, style: PromptStyle, seed: u64) -> PromptRequest {
    let mut req = PromptRequest { card: card.clone(), persona: Persona::new(user, ""), history, ..PromptRequest::default() };
    req.settings.style = style;
    req.settings.chat_seed = seed;
    req
}

/// Generates the character's reply to `req`.
pub fn reply(
    session: &mut Session,
    req: PromptRequest,
    opts: &GenerateOptions,
    mut on_piece: impl FnMut(&str) -> bool,
) -> Result<TurnOut, String> {
    let prepared = prepare(session, req, opts.max_tokens).map_err(|e| e.to_string())?;
    let mut opts = opts.clone();
    opts.stop.extend(prepared.reply.stop.iter().cloned());
    // `opts.context_shift` allows it (the commands' `--no-shift` does not);
    // the prompt says whether it left turns out.
    opts.context_shift &= prepared.shift;
    opts.sampler.suppress = prepared.suppress.clone();
    let t0 = std::time::Instant::now();
    let mut first_ms = None;
    let out = session
        .generate(&prepared.ids, opts, |piece| {
            first_ms.get_or_insert(t0.elapsed().as_millis() as u64);
            on_piece(piece)
        })
        .map_err(|e| e.to_string())?;
    let ending = ending(out.stop_reason);
    let shown = finish(&out.text, ending, &prepared.reply.speakers, false).text;
    Ok(TurnOut {
        raw: out.text,
        shown,
        ending,
        tokens: out.ids.len(),
        ms: t0.elapsed().as_millis() as u64,
        first_ms,
        reused: out.start.n_reused,
        shifted: out.start.n_shifted,
        prompt_tokens: out.start.n_prompt,
    })
}

/// Reads the prompt of a reply to `req` (the history as it stands) into the
/// cache, as the app does while the person types: the reply to the next
/// message then reads only that message's turn.
pub fn warm(session: &mut Session, req: PromptRequest, opts: &GenerateOptions) -> Result<StartInfo, String> {
    let prepared = prepare(session, req, opts.max_tokens).map_err(|e| e.to_string())?;
    session.warm(&prepared.ids, opts.context_shift && prepared.shift).map_err(|e| e.to_string())
}
