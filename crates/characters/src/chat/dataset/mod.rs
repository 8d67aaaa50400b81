//! Datasets from chats and ratings: preference pairs (TRL, OpenAI DPO), KTO,
//! OpenAI chat fine-tuning, adaptive example dialogues, the trait studio, and
//! import of question/answer pairs.

pub mod adaptive_examples;
pub mod backup;
pub mod conversation;
pub mod example;
pub mod import;
pub mod kto;
pub mod parse;
pub mod preference;
pub mod sft;
pub mod studio_run;
pub mod trait_studio;

use serde::Serialize;
use thiserror::Error;

pub use adaptive_examples::{adaptive_examples, AdaptiveConfig};
pub use conversation::{ChatMessage, DatasetContext};
pub use example::{ExampleDialogue, ExampleSource};
pub use import::{
    import_examples, parse_csv_pairs, parse_jsonl_pairs, ImportError, ImportFormat, QaPair,
};
pub use kto::{kto_examples, to_kto_jsonl, KtoExample};
pub use preference::{preference_jsonl, preference_pairs, to_openai_dpo_jsonl, to_trl_jsonl, PreferencePair};
pub use sft::{sft_messages, to_openai_chat_jsonl};
pub use studio_run::{run_trait_studio, StudioRun, StudioStep};
pub use trait_studio::{StudioConfig, StudioError, StudioItem, StudioResult, TraitSpec};

#[derive(Debug, Error)]
pub enum DatasetError {
    #[error("could not write a JSON line: {0}")]
    Json(#[from] serde_json::Error),
}

/// One JSON value per line, each line ending in '\n'.
pub(crate) fn jsonl<T: Serialize>(
    records: impl IntoIterator<Item = T>,
) -> Result<String, DatasetError> {
    let mut out = String::new();
    for r in records {
        out.push_str(&serde_json::to_string(&r)?);
        out.push('\n');
    }
    Ok(out)
}
