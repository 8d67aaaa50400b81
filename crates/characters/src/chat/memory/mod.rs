//! Long-chat memory: rolling summaries of history that left the context
//! window, pinned facts, and BM25 retrieval of past messages into a memory
//! block under a token budget.

pub mod bm25;
pub mod pinned;
pub mod retrieve;
pub mod summary;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

pub use bm25::{tokenize, Bm25Index};
pub use pinned::{keep_requests, PinnedBy, PinnedMemory};
pub use retrieve::{
    assemble_memory, Embedder, MemoryBlock, MemoryConfig, MemoryItem, MemorySource, NoEmbedder,
};
pub use summary::{
    echoes_instruction, extractive_summary, roll_summaries, summary_prompt, window_start, Summary, SummaryConfig,
    SummaryError,
};

/// The memory stored with a chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatMemory {
    /// Rolling summaries, oldest first; each one describes the whole chat up
    /// to its `to_id`.
    #[serde(default)]
    pub summaries: Vec<Summary>,
    #[serde(default)]
    pub pinned: Vec<PinnedMemory>,
    #[serde(default)]
    pub next_pin_seq: u64,
}

impl ChatMemory {
    /// A message changed or went away: the first summary that covered it and
    /// every later one (they were built on it) are dropped. Returns how many.
    pub fn invalidate_message(&mut self, message_id: &str) -> usize {
        match self.summaries.iter().position(|s| s.covers(message_id)) {
            Some(first) => {
                let removed = self.summaries.len() - first;
                self.summaries.truncate(first);
                removed
            }
            None => 0,
        }
    }

    /// The newest summary, if any.
    pub fn latest_summary(&self) -> Option<&Summary> {
        self.summaries.last()
    }

    /// The part of this memory that only concerns the given messages (for a
    /// branch): summaries whose messages all survive, pinned memories whose
    /// source survives or that have no source.
    pub fn restricted_to(&self, kept: &HashSet<&str>) -> ChatMemory {
        let summaries = self
            .summaries
            .iter()
            .take_while(|s| s.message_ids.iter().all(|id| kept.contains(id.as_str())))
            .cloned()
            .collect();
        let pinned = self
            .pinned
            .iter()
            .filter(|p| {
                p.source_message_id
                    .as_deref()
                    .is_none_or(|id| kept.contains(id))
            })
            .cloned()
            .collect();
        ChatMemory {
            summaries,
            pinned,
            next_pin_seq: self.next_pin_seq,
        }
    }
}
