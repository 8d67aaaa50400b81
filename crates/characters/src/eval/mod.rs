//! The character-quality harness: scripted probe conversations, scored
//! deterministically on CharacterGLM's dimensions (consistency,
//! human-likeness, engagement), each verdict shown with the text that
//! earned it. `kindred eval` and the app's Check both run it.

pub mod judge;
pub mod probes;
pub mod report;
pub mod run;
pub mod score;
pub mod text;

pub use probes::{Kind, ProbeSet, ReadyProbe};
pub use report::{markdown, summaries, Summary};
pub use run::{CharacterRun, ProbeRun, ReplyRecord};
pub use score::{Check, Dimension};
