//! Lorebooks (World Info): entries whose content enters the prompt when
//! their keys show up in the recent chat.
//!
//! A card's `character_book` or a standalone file (V3 `lorebook_v3`, a bare
//! book, or SillyTavern World Info) is read into [`crate::book::CharacterBook`],
//! resolved into a [`Lorebook`] (fields, extensions and decorators folded
//! together), then [`scan`]ned each turn.

pub mod decorators;
pub mod entry;
pub mod error;
pub mod file;
pub mod gate;
pub mod keys;
pub mod matcher;
pub mod scan;
pub mod timed;
pub mod types;
pub mod worldinfo;

pub use decorators::{Decorators, UiPrompt};
pub use entry::{LoreEntry, Lorebook};
pub use error::LorebookError;
pub use file::{read_lorebook_json, to_lorebook_v3_json, LorebookFormat};
pub use gate::{HitReason, ScanContext};
pub use scan::{scan, LoreHit, ScanResult, ScanSettings};
pub use timed::TimedState;
pub use types::{LoreRole, Position, SelectiveLogic};
pub use worldinfo::from_world_info;
