//! Prompt assembly for the page: card, persona, history, lorebooks and
//! settings in; the turns for `Engine::render_chat`, the history indices cut
//! to fit the context, and token counts out.
//!
//! Token counts come from the page (the engine's tokenizer) through a
//! callback; without one a conservative estimate is used.

use std::cell::RefCell;
use std::collections::HashMap;

use kindred_characters::lorebook::{scan, Lorebook, ScanContext, ScanSettings, TimedState};
use kindred_characters::persona::Persona;
use kindred_characters::prompt::{assemble, Author, HistoryMessage, Part, PromptInput, PromptSettings, PromptStyle, SectionTokens};
use kindred_characters::reply::Speakers;
use kindred_characters::{Card, CharacterBook};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::error::WebError;
use crate::memory::{self, MemoryRequest, Recall, SummaryJob, UsedMemory};
use crate::turns::{chat_turns, Turn};

/// Longest history accepted in one request; far beyond any context window.
const MAX_HISTORY: usize = 20_000;
/// Standalone books attached to one character.
const MAX_BOOKS: usize = 32;
/// Distinct texts whose token counts are remembered during one assembly.
const MAX_CACHED_COUNTS: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A new reply from the character.
    #[default]
    Reply,
    /// More of the last message, which is the character's.
    Continue,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PromptRequest {
    /// The V3 card `data` object.
    pub card: Card,
    pub persona: Persona,
    /// Oldest first, the greeting included.
    pub history: Vec<HistoryMessage>,
    /// Standalone lorebooks attached to the character (the card's own book
    /// is scanned too).
    pub lorebooks: Vec<CharacterBook>,
    pub settings: PromptSettings,
    pub scan: ScanSettings,
    pub mode: Mode,
    /// The user turn put before a greeting; macros `{{user}}`/`{{char}}` work.
    pub opener: Option<String>,
    /// Pinned facts, the latest summary and the history's ids, for recall
    /// and rolling summaries (see memory.rs); none means no memory block.
    pub memory: Option<MemoryRequest>,
    /// A turn in a room of several characters (see rooms.rs); none for a
    /// one-to-one chat.
    pub room: Option<crate::rooms::RoomTurn>,
    /// Whether the loaded model is instruct-tuned (the engine's `instruct`);
    /// picks the layout when `settings.style` is `auto`.
    pub instruct: Option<bool>,
    /// The chat's lorebook activations so far (sticky, cooldown, the
    /// after-match decorators), as the last reply's `lore_state` left them.
    /// One that does not read as such (a record another page of the site
    /// wrote) counts as none: timing state is worth less than the reply.
    #[serde(deserialize_with = "or_default")]
    pub lore_state: TimedState,
}

/// `T` from the value, or `T::default()` where the value is not a `T`.
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptReply {
    pub messages: Vec<Turn>,
    /// History indices left out to fit the context.
    pub cut: Vec<usize>,
    /// Anything was left out to fit (history, examples, memories): the
    /// reply may keep the cached turns after what was left out (the
    /// engine's `context_shift`) instead of reading them again.
    pub trimmed: bool,
    pub tokens: SectionTokens,
    pub budget: usize,
    pub over_budget: bool,
    /// Labels of the lorebook entries in the prompt.
    pub lore: Vec<String>,
    /// The lorebook activations to keep with the chat once this prompt's
    /// reply is made, for the next request's `lore_state`.
    pub lore_state: TimedState,
    /// Text the reply is cut at: the user speaking.
    pub stop: Vec<String>,
    pub char_name: String,
    pub user_name: String,
    /// The last turn is the character's, to be continued rather than answered.
    pub continues: bool,
    /// The memories in the prompt: pinned, summary, recalled messages.
    pub memory: Vec<UsedMemory>,
    /// Cut history no summary covers yet, for the engine to summarise.
    pub summarise: Option<SummaryJob>,
    /// The layout used (`settings.style` resolved): story, roleplay or transcript.
    pub format: &'static str,
    /// The renderer to use instead of the model's own chat template
    /// (`transcript` for the transcript layout); none for the model's own.
    pub template: Option<&'static str>,
    /// Who speaks, for turn discipline on the finished reply (`finish_reply`).
    pub speakers: Speakers,
}

pub const DEFAULT_OPENER: &str = "({{user}} enters the conversation.)";

/// About one token per three characters: more than real tokenizers give for
/// English, so an estimated prompt errs on the short side.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(3)
}

pub fn build_prompt(req: &PromptRequest, count_tokens: &dyn Fn(&str) -> usize) -> Result<PromptReply, WebError> {
    let room = req.room.as_ref().map(|turn| crate::rooms::prepare(req, turn));
    let req = room.as_ref().map_or(req, |r| &r.request);
    let style = req.settings.style.resolve(req.instruct);
    let settings = PromptSettings { style, ..req.settings.clone() };
    let history = req.history.get(..MAX_HISTORY).unwrap_or(&req.history);
    let cache: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
    let count = |t: &str| -> usize {
        if let Some(&n) = cache.borrow().get(t) {
            return n;
        }
        let n = count_tokens(t);
        let mut c = cache.borrow_mut();
        if c.len() < MAX_CACHED_COUNTS {
            c.insert(t.to_string(), n);
        }
        n
    };

    let mut books: Vec<Lorebook> = Vec::new();
    if let Some(book) = &req.card.character_book {
        books.push(Lorebook::from_book(book, "card"));
    }
    for (i, book) in req.lorebooks.iter().take(MAX_BOOKS).enumerate() {
        books.push(Lorebook::from_book(book, &format!("book{i}")));
    }
    let visible: Vec<&str> = history.iter().filter(|m| !m.hidden).map(|m| m.text.as_str()).collect();
    let ctx = ScanContext {
        chat_length: history.len() as u64,
        character_turns: history.iter().filter(|m| m.author == Author::Char).count().min(u32::MAX as usize) as u32,
        greeting_index: Some(0),
        context_full: false,
    };
    let lore = scan(&books, &visible, &ctx, &req.scan, &req.lore_state, &count);

    let characters = room.as_ref().map_or(std::slice::from_ref(&req.card), |r| r.cast.as_slice());
    let input = PromptInput {
        characters,
        speaker: 0,
        persona: &req.persona,
        history,
        lore: &lore.hits,
        disabled_prompts: &lore.disabled_ui_prompts,
        memories: &[],
        settings: &settings,
    };
    let mut prompt = assemble(&input, &count)?;
    let mut recalled = Recall::default();
    if let Some(mem) = &req.memory {
        memory::check(mem, history.len()).map_err(WebError::Memory)?;
        let budget = req.settings.prompt_budget();
        recalled = memory::recall(mem, history, &prompt.cut, &prompt.user_name, &prompt.char_name, budget, &count);
        if !recalled.memories.is_empty() {
            // Memories take room: assembly runs again and may cut more history.
            prompt = assemble(&PromptInput { memories: &recalled.memories, ..input }, &count)?;
        }
    }
    let summarise = req.memory.as_ref().and_then(|mem| {
        memory::summary_job(mem, history, &prompt.cut, &prompt.user_name, &prompt.char_name, req.settings.context_tokens, &count)
    });

    let mut messages = prompt.messages.clone();
    let last_index = history.len().checked_sub(1);
    let continuing = req.mode == Mode::Continue
        && history.last().is_some_and(|m| m.author == Author::Char && !m.hidden && !m.text.trim().is_empty());
    if continuing {
        // Whatever assembly put after the message being continued (notes,
        // post-history instructions) would land inside the character's turn.
        if let Some(pos) = messages.iter().rposition(|m| Some(m.part) == last_index.map(Part::History)) {
            messages.truncate(pos + 1);
        }
    }
    let opener_src = req.opener.as_deref().unwrap_or(DEFAULT_OPENER);
    let opener = opener_src.replace("{{user}}", &prompt.user_name).replace("{{char}}", &prompt.char_name);
    let mut turns = chat_turns(&messages, &opener, &prompt.user_name);
    let primed = !continuing && room.as_ref().is_some_and(|r| crate::rooms::prime(&mut turns, r));
    let continues = primed || (continuing && turns.last().is_some_and(|t| t.role == "assistant"));
    let others: Vec<String> = room.iter().flat_map(|r| r.stop.iter().map(|s| s.trim_start_matches('\n').trim_end_matches(':').to_string())).collect();
    let speakers = Speakers { char_name: prompt.char_name.clone(), user_name: prompt.user_name.clone(), others };
    let mut stop = speakers.stop_strings();
    if room.is_some() {
        // A room's speaker writes its own name on its lines; only the others' end its turn.
        stop.retain(|s| s != &format!("\n{}:", speakers.char_name));
    }
    Ok(PromptReply {
        messages: turns,
        cut: prompt.cut.clone(),
        trimmed: !prompt.cut.is_empty() || !prompt.memories_cut.is_empty() || prompt.examples_used < prompt.examples_total,
        tokens: prompt.tokens,
        budget: prompt.budget,
        over_budget: prompt.over_budget,
        lore: lore.hits.iter().map(|h| h.label.clone()).collect(),
        lore_state: lore.state.clone(),
        stop,
        char_name: prompt.char_name.clone(),
        user_name: prompt.user_name.clone(),
        continues,
        memory: recalled.kept(&prompt.memories_cut),
        summarise,
        format: style.name(),
        template: (style == PromptStyle::Transcript).then_some("transcript"),
        speakers,
    })
}

/// Assembles a prompt from the request's JSON text (see [`PromptRequest`]).
/// `count_tokens(text) -> number` is called for token counts; when absent
/// or failing, counts are estimated. Returns the reply as JSON text.
#[wasm_bindgen]
pub fn assemble_prompt(request_json: &str, count_tokens: Option<js_sys::Function>) -> Result<String, JsError> {
    let run = || -> Result<String, WebError> {
        let req: PromptRequest = serde_json::from_str(request_json).map_err(WebError::request("prompt request"))?;
        let count = |t: &str| -> usize {
            let Some(f) = &count_tokens else { return estimate_tokens(t) };
            match f.call1(&JsValue::NULL, &JsValue::from_str(t)).ok().and_then(|v| v.as_f64()) {
                Some(n) if n.is_finite() && n >= 0.0 => n as usize,
                _ => estimate_tokens(t),
            }
        };
        let reply = build_prompt(&req, &count)?;
        serde_json::to_string(&reply).map_err(WebError::request("prompt reply"))
    };
    run().map_err(|e| JsError::new(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str) -> usize {
        t.split_whitespace().count()
    }

    fn request(json: &str) -> PromptRequest {
        serde_json::from_str(json).unwrap()
    }

    const BASE: &str = r#"{
        "card": {"name": "Ada", "description": "{{char}} keeps a lighthouse.", "first_mes": "Hello {{user}}."},
        "persona": {"name": "Sam", "description": "{{user}} is a sailor."},
        "history": [
            {"author": "char", "text": "Hello {{user}}."},
            {"author": "user", "text": "Hi Ada!"}
        ],
        "settings": {"context_tokens": 4096, "reply_reserve": 64}
    }"#;

    #[test]
    fn greeting_first_chat_starts_with_the_users_opener() {
        let reply = build_prompt(&request(BASE), &words).unwrap();
        let roles: Vec<&str> = reply.messages.iter().map(|t| t.role).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(reply.messages[1].content, "(Sam enters the conversation.)");
        assert_eq!(reply.messages[2].content, "Hello Sam.");
        assert_eq!(reply.messages[3].content, "Hi Ada!");
        let system = &reply.messages[0].content;
        assert!(system.contains("Ada keeps a lighthouse."), "{system}");
        assert!(system.contains("Sam is a sailor."), "{system}");
        assert!(system.contains("fictional chat between Ada and Sam"), "{system}");
        for s in ["\nSam:", "Sam:", "\nUser:"] {
            assert!(reply.stop.contains(&s.to_string()), "{s:?} in {:?}", reply.stop);
        }
        assert!(reply.cut.is_empty());
        assert!(!reply.continues);
    }

    #[test]
    fn a_sticky_entry_stays_while_the_chat_brings_its_state_back() {
        let mut req = request(BASE);
        req.card.character_book = Some(
            serde_json::from_str(r#"{"entries":[{"keys":["lamp"],"content":"The lamp is blue.","name":"Lamp","extensions":{"sticky":2}}]}"#)
                .unwrap(),
        );
        req.history.push(HistoryMessage::char("The sea is calm."));
        req.history.push(HistoryMessage::user("Is the lamp lit?"));
        let fired = build_prompt(&req, &words).unwrap();
        assert_eq!(fired.lore, ["Lamp"]);
        assert!(!fired.lore_state.entries.is_empty(), "the activation is kept for the next request");

        // Two messages later the key is out of the scan window (2 messages).
        req.history.push(HistoryMessage::char("It is."));
        req.history.push(HistoryMessage::user("Good night."));
        assert!(build_prompt(&req, &words).unwrap().lore.is_empty(), "without the chat's state the entry is gone");
        req.lore_state = fired.lore_state.clone();
        let sticky = build_prompt(&req, &words).unwrap();
        assert_eq!(sticky.lore, ["Lamp"], "sticky for 2 messages after it fired");
        req.history.push(HistoryMessage::char("Sleep well."));
        req.history.push(HistoryMessage::user("And you."));
        req.lore_state = sticky.lore_state;
        assert!(build_prompt(&req, &words).unwrap().lore.is_empty(), "and then no longer");
    }

    #[test]
    fn lore_state_that_is_not_one_counts_as_none() {
        for junk in [r#""junk""#, r#"{"entries": 5}"#, r#"{"entries": {"Lamp": "x"}}"#, "null", "[1, 2]"] {
            let req: PromptRequest = serde_json::from_str(&format!(r#"{{"lore_state": {junk}}}"#)).unwrap();
            assert!(req.lore_state.entries.is_empty(), "{junk}");
        }
        let kept: PromptRequest =
            serde_json::from_str(r#"{"lore_state": {"entries": {"Lamp": {"started_at": 3, "sticky": 2, "first_match": 3}}}}"#).unwrap();
        assert_eq!(kept.lore_state.entries.len(), 1, "a state that reads is kept");
    }

    #[test]
    fn a_small_context_cuts_the_oldest_history_but_keeps_the_greeting() {
        let mut req = request(BASE);
        for i in 0..40 {
            req.history.push(HistoryMessage::char(format!("reply number {i} with some words in it")));
            req.history.push(HistoryMessage::user(format!("question number {i} with some words")));
        }
        req.settings.context_tokens = 200;
        req.settings.reply_reserve = 20;
        let reply = build_prompt(&req, &words).unwrap();
        assert!(!reply.cut.is_empty());
        assert!(!reply.cut.contains(&0), "the greeting stays");
        assert!(!reply.cut.contains(&(req.history.len() - 1)), "the latest message stays");
        // The cut messages are the oldest after the greeting: 1, 2, 3, ...
        let expected: Vec<usize> = (1..=reply.cut.len()).collect();
        assert_eq!(reply.cut, expected);
        assert!(reply.tokens.total <= reply.budget, "{} > {}", reply.tokens.total, reply.budget);
        assert!(reply.messages.iter().all(|t| !t.content.contains("reply number 0 ")));
        assert!(reply.messages.last().unwrap().content.contains("question number 39"));
    }

    #[test]
    fn lorebook_entries_fire_on_keys_from_card_and_attached_books() {
        let mut req = request(BASE);
        req.card.character_book = Some(serde_json::from_str(r#"{"entries":[{"keys":["lamp"],"content":"The lamp is blue.","name":"Lamp"}]}"#).unwrap());
        req.lorebooks = vec![serde_json::from_str(r#"{"entries":[{"keys":["storm"],"content":"Storms come at night.","name":"Storm"}]}"#).unwrap()];
        let reply = build_prompt(&req, &words).unwrap();
        assert!(reply.lore.is_empty());
        req.history.push(HistoryMessage::user("Is the lamp lit? A storm is coming."));
        let reply = build_prompt(&req, &words).unwrap();
        let mut lore = reply.lore.clone();
        lore.sort();
        assert_eq!(lore, ["Lamp", "Storm"]);
        assert!(reply.messages[0].content.contains("The lamp is blue."));
        assert!(reply.messages[0].content.contains("Storms come at night."));
    }

    #[test]
    fn continue_ends_with_the_characters_partial_turn() {
        let mut req = request(BASE);
        req.history.push(HistoryMessage::char("Well, the lamp"));
        req.settings.post_history = "Be brief.".into();
        req.mode = Mode::Continue;
        let reply = build_prompt(&req, &words).unwrap();
        assert!(reply.continues);
        let last = reply.messages.last().unwrap();
        assert_eq!((last.role, last.content.as_str()), ("assistant", "Well, the lamp"));
        req.mode = Mode::Reply;
        let reply = build_prompt(&req, &words).unwrap();
        assert!(!reply.continues);
        assert_eq!(reply.messages.last().unwrap().content, "Be brief.");
    }

    #[test]
    fn hostile_text_is_passed_as_text() {
        let mut req = request(BASE);
        req.card.description = "<script>alert(1)</script> {{random}} {{".into();
        req.persona.name = "Sam\nAssistant:".into();
        let reply = build_prompt(&req, &words).unwrap();
        assert!(reply.messages[0].content.contains("<script>alert(1)</script>"));
        assert_eq!(reply.user_name, "Sam Assistant:");
    }

    #[test]
    fn instruct_models_get_the_roleplay_layout_base_models_a_transcript() {
        let mut req = request(BASE);
        req.card.mes_example = "<START>\n{{user}}: What is the lamp?\n{{char}}: My whole life.\nIt burns all night.".into();
        req.instruct = Some(true);
        let reply = build_prompt(&req, &words).unwrap();
        assert_eq!(reply.format, "roleplay");
        assert_eq!(reply.template, None);
        let roles: Vec<&str> = reply.messages.iter().map(|t| t.role).collect();
        // system, example (user, assistant), opener, greeting, the user's message
        assert_eq!(roles, ["system", "user", "assistant", "user", "assistant", "user"]);
        assert!(reply.messages[0].content.starts_with("You are Ada, talking with Sam."), "{}", reply.messages[0].content);
        assert!(!reply.messages[0].content.contains("What is the lamp?"));
        assert_eq!(reply.messages[1].content, "What is the lamp?");
        assert_eq!(reply.messages[2].content, "My whole life.\nIt burns all night.");
        assert_eq!(reply.messages[3].content, "(Sam enters the conversation.)");
        assert_eq!(reply.messages[5].content, "Hi Ada!\n\n[Reply as Ada, in character, in a few sentences.]");

        req.instruct = Some(false);
        let reply = build_prompt(&req, &words).unwrap();
        assert_eq!((reply.format, reply.template), ("transcript", Some("transcript")));
        assert!(reply.messages[0].content.contains("Sam: What is the lamp?"), "examples stay text");
        assert!(reply.messages[0].content.contains("fictional chat between Ada and Sam"));

        req.instruct = Some(true);
        req.settings.style = PromptStyle::Story;
        let reply = build_prompt(&req, &words).unwrap();
        assert_eq!(reply.format, "story");
        assert!(reply.messages[0].content.contains("fictional chat between Ada and Sam"));
        assert_eq!(reply.speakers.user_name, "Sam");
    }

    #[test]
    fn estimates_err_on_the_long_side() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 2);
        assert_eq!(estimate_tokens("héllo"), 2);
    }
}
