//! Errors the page sees from the card and prompt functions. Each becomes a
//! JS exception whose message a person can act on.

use kindred_characters::lorebook::LorebookError;
use kindred_characters::prompt::PromptError;
use kindred_characters::CardError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum WebError {
    #[error("{0}")]
    Card(#[from] CardError),

    #[error("{0}")]
    Lorebook(#[from] LorebookError),

    #[error("{0}")]
    Prompt(#[from] PromptError),

    #[error("{0}")]
    Engine(#[from] kindred_engine::Error),

    /// The page sent JSON that does not have the expected shape.
    #[error("{what}: {source}")]
    Request {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The memory part of a prompt request does not match its history.
    #[error("{0}")]
    Memory(String),

    #[error("unknown {what} {given:?} (expected one of: {expected})")]
    UnknownChoice {
        what: &'static str,
        given: String,
        expected: &'static str,
    },
}

impl WebError {
    pub(crate) fn request(what: &'static str) -> impl FnOnce(serde_json::Error) -> WebError {
        move |source| WebError::Request { what, source }
    }
}
