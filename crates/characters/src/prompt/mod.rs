//! Prompt assembly: from a chat to the messages (or transcript) a model
//! reads, under a token budget.
//!
//! [`assemble`] takes the cards, persona, history, lorebook hits, memories
//! and settings and returns a [`Prompt`]: role-tagged messages, which
//! history messages were cut, and token counts per section.
//! [`Prompt::render`] turns it into Gemma, ChatML or Llama 3 turns, or a
//! plain `Name: text` transcript for base models.

pub mod assemble;
pub mod budget;
pub mod depth;
pub mod message;
pub mod sections;
pub mod settings;

pub use assemble::{assemble, Prompt, PromptError, PromptInput, SectionTokens};
pub use message::{Author, HistoryMessage, Memory, Part, PromptMessage, Role};
pub use settings::{
    PromptSettings, PromptStyle, DEFAULT_SYSTEM_PROMPT, ROLEPLAY_POST_HISTORY, ROLEPLAY_SYSTEM_PROMPT,
};
