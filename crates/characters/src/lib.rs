//! Characters: cards, profiles, prompt assembly and lorebooks. Pure Rust, no I/O.

// Character cards: data types, JSON/PNG/CHARX import and export, macros.
pub mod book;
pub mod card;
pub mod charx;
pub mod error;
pub mod macros;
pub mod png;
pub mod rng;

pub use book::{BookEntry, CharacterBook};
pub use card::{read_any, Card, CardSpec, ImportedCard};
pub use error::CardError;

// Lorebooks, profiles, personas and prompt assembly.
pub mod lorebook;
pub mod persona;
pub mod profile;
pub mod prompt;

pub mod chat;
// Where a reply ends, and how well a character talks.
pub mod eval;
pub mod reply;
pub mod script;
