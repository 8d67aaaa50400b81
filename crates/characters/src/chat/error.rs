//! Errors of chat operations.

use thiserror::Error;

/// Why an operation on a chat or room was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ChatError {
    #[error("no message with id {0:?} in this chat")]
    UnknownMessage(String),
    #[error("a message with id {0:?} already exists in this chat")]
    DuplicateMessageId(String),
    #[error("message {message:?} has no swipe {index} (it has {count})")]
    SwipeOutOfRange {
        message: String,
        index: usize,
        count: usize,
    },
    #[error("rating must be 1 to 4 stars, got {0}")]
    InvalidRating(u8),
    #[error("message {0:?} has no swipes")]
    NoSwipes(String),
    #[error("id must be 1 to {max} characters, got {len}")]
    InvalidId { len: usize, max: usize },
    #[error("limit reached: {what} (at most {max})")]
    LimitReached { what: &'static str, max: usize },
    #[error("no room member with character id {0:?}")]
    UnknownMember(String),
    #[error("a member with character id {0:?} is already in the room")]
    DuplicateMember(String),
    #[error("talkativeness must be a number from 0 to 1, got {0}")]
    InvalidTalkativeness(f32),
    #[error("no checkpoint named {0:?}")]
    UnknownCheckpoint(String),
}
