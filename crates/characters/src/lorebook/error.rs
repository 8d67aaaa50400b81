//! Errors from reading standalone lorebooks.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LorebookError {
    #[error("lorebook file is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },

    #[error("lorebook JSON is invalid: {0}")]
    Json(#[source] serde_json::Error),

    #[error("not a lorebook: {0}")]
    NotALorebook(&'static str),

    #[error("unsupported lorebook spec {0:?}")]
    UnsupportedSpec(String),

    #[error("lorebook has {count} entries, over the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
}
