//! Conversations: messages with swipes and ratings, chats with branches and
//! checkpoints, rooms of several characters, memory, safety and datasets.
//!
//! Everything here is plain data plus pure functions: timestamps, ids and
//! random seeds come from the caller, and every type serialises with serde so
//! the web app can keep it in IndexedDB as JSON.

pub mod autonomous;
pub mod branch;
pub mod character;
#[allow(clippy::module_inception)]
pub mod chat;
pub mod dataset;
pub mod dice;
pub mod error;
pub mod memory;
pub mod message;
pub mod names;
pub mod narrator;
pub mod room;
pub mod safety;
pub mod speaker;
pub mod swipe;

pub use autonomous::{Autonomous, AutonomousState, StopReason};
pub use branch::{BranchLink, Checkpoint};
pub use character::ChatCharacter;
pub use chat::Chat;
pub use error::ChatError;
pub use message::{Author, Message};
pub use names::Names;
pub use crate::rng::Rng;
pub use room::{Member, PromptMode, Room, SpeakerPrompt};
pub use speaker::{Speaker, SpeakerStrategy};
pub use swipe::{EditRecord, Rating, Swipe};
