//! The memory block of a prompt: pinned facts, the latest rolling summary and
//! past messages recalled for the latest turn, under a token budget.

use serde::{Deserialize, Serialize};

use super::bm25::Bm25Index;
use super::summary::cut_chars;
use crate::chat::chat::Chat;
use crate::chat::names::Names;

/// A semantic-similarity hook for later: an app with an embedding model
/// supplies one, and its cosine similarity is blended into the BM25 ranking.
pub trait Embedder {
    /// The text's embedding, or `None` when no model is available.
    fn embed(&mut self, text: &str) -> Option<Vec<f32>>;
}

/// The default: no embeddings, BM25 alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEmbedder;

impl Embedder for NoEmbedder {
    fn embed(&mut self, _text: &str) -> Option<Vec<f32>> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryConfig {
    /// Tokens the whole block may use.
    pub budget_tokens: usize,
    /// Past messages recalled at most.
    pub max_recalled: usize,
    /// Share of the budget pinned facts may take (0..1), so they cannot
    /// crowd out recall.
    #[serde(default = "half")]
    pub pinned_share: f32,
    /// Share of the budget the summary may take (0..1).
    pub summary_share: f32,
    /// A recalled message longer than this is cut.
    pub max_snippet_chars: usize,
    /// Weight of embedding similarity against BM25 when an embedder answers.
    pub embedding_weight: f32,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            budget_tokens: 512,
            max_recalled: 6,
            pinned_share: 0.5,
            summary_share: 0.4,
            max_snippet_chars: 600,
            embedding_weight: 0.5,
        }
    }
}

fn half() -> f32 {
    0.5
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MemorySource {
    Pinned { id: String },
    Summary { to_id: String },
    Message { id: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryItem {
    pub source: MemorySource,
    /// The line as it appears in the block.
    pub text: String,
    pub score: f32,
    pub tokens: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryBlock {
    /// In the order they appear: pinned, summary, recalled (oldest first).
    pub items: Vec<MemoryItem>,
    pub text: String,
    /// Sum of the counted tokens of every line, headers included.
    pub tokens: usize,
}

impl MemoryBlock {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

const HEADER: &str = "[Memory]";
const PINNED_HEADER: &str = "Facts to keep:";
const RECALL_HEADER: &str = "Recalled from earlier in the chat:";

/// Build the memory block for the next reply. `window_start` is the index of
/// the first message that is in the prompt's history (only older ones are
/// recalled); `latest_turn` is the text the reply answers.
pub fn assemble_memory(
    chat: &Chat,
    window_start: usize,
    latest_turn: &str,
    names: &Names,
    config: &MemoryConfig,
    count: &dyn Fn(&str) -> usize,
    embedder: &mut dyn Embedder,
) -> MemoryBlock {
    let budget = config.budget_tokens;
    let line_cost = |s: &str| count(s).saturating_add(count("\n"));
    let mut used = line_cost(HEADER);
    if used >= budget {
        return MemoryBlock::default();
    }

    let pinned = &chat.memory.pinned;
    let past: Vec<_> = chat
        .messages
        .get(..window_start.min(chat.messages.len()))
        .unwrap_or(&[])
        .iter()
        .filter(|m| !m.hidden && !m.text().trim().is_empty())
        .collect();
    let index = Bm25Index::new(
        pinned
            .iter()
            .map(|p| p.text.as_str())
            .chain(past.iter().map(|m| m.text())),
    );
    let bm25 = index.scores(latest_turn);
    let (pin_scores, past_scores) = bm25.split_at(pinned.len().min(bm25.len()));

    // Pinned facts: the most relevant (then newest) first when they do not
    // all fit; shown in the order they were pinned.
    let mut pin_order: Vec<usize> = (0..pinned.len()).collect();
    pin_order.sort_by(|&a, &b| {
        let (sa, sb) = (
            pin_scores.get(a).copied().unwrap_or(0.0),
            pin_scores.get(b).copied().unwrap_or(0.0),
        );
        sb.total_cmp(&sa).then(b.cmp(&a))
    });
    let mut pin_items: Vec<(usize, MemoryItem)> = Vec::new();
    let pin_header = line_cost(PINNED_HEADER);
    let pin_limit = used + share_of(budget, config.pinned_share);
    for i in pin_order {
        let Some(p) = pinned.get(i) else { continue };
        let line = format!("- {}", p.text);
        let cost = line_cost(&line) + if pin_items.is_empty() { pin_header } else { 0 };
        if used + cost <= pin_limit.min(budget) {
            used += cost;
            let score = pin_scores.get(i).copied().unwrap_or(0.0);
            pin_items.push((
                i,
                MemoryItem {
                    source: MemorySource::Pinned { id: p.id.clone() },
                    text: line,
                    score,
                    tokens: cost,
                },
            ));
        }
    }
    pin_items.sort_by_key(|(i, _)| *i);

    // The latest rolling summary, cut from the front (older events) if it
    // exceeds its share.
    let mut summary_item = None;
    if let Some(s) = chat
        .memory
        .summaries
        .iter()
        .rev()
        .find(|s| !s.text.trim().is_empty())
    {
        let limit = share_of(budget, config.summary_share).min(budget.saturating_sub(used));
        if let Some((line, cost)) = fit_summary(&s.text, limit, &line_cost) {
            used += cost;
            summary_item = Some(MemoryItem {
                source: MemorySource::Summary {
                    to_id: s.to_id.clone(),
                },
                text: line,
                score: 0.0,
                tokens: cost,
            });
        }
    }

    // Recalled messages.
    let mut ranking: Vec<(usize, f32)> = past_scores.iter().copied().enumerate().collect();
    if let Some(q) = embedder.embed(latest_turn) {
        let max = past_scores.iter().copied().fold(0.0f32, f32::max);
        let w = config.embedding_weight.clamp(0.0, 1.0);
        for (i, score) in ranking.iter_mut() {
            let lexical = if max > 0.0 { *score / max } else { 0.0 };
            let semantic = past
                .get(*i)
                .and_then(|m| embedder.embed(m.text()))
                .map(|v| cosine(&q, &v))
                .unwrap_or(0.0);
            *score = (1.0 - w) * lexical + w * semantic.max(0.0);
        }
    }
    ranking.retain(|&(_, s)| s > 0.0);
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    let recall_header = line_cost(RECALL_HEADER);
    let mut recalled: Vec<(usize, MemoryItem)> = Vec::new();
    for (i, score) in ranking {
        if recalled.len() >= config.max_recalled {
            break;
        }
        let Some(m) = past.get(i) else { continue };
        let text = m.text().trim();
        let snippet = cut_chars(text, config.max_snippet_chars);
        let ellipsis = if snippet.len() < text.len() {
            "…"
        } else {
            ""
        };
        let line = format!("- {}: {}{}", names.of(&m.author), snippet, ellipsis);
        let cost = line_cost(&line)
            + if recalled.is_empty() {
                recall_header
            } else {
                0
            };
        if used + cost <= budget {
            used += cost;
            recalled.push((
                i,
                MemoryItem {
                    source: MemorySource::Message { id: m.id.clone() },
                    text: line,
                    score,
                    tokens: cost,
                },
            ));
        }
    }
    recalled.sort_by_key(|(i, _)| *i);

    if pin_items.is_empty() && summary_item.is_none() && recalled.is_empty() {
        return MemoryBlock::default();
    }
    let mut text = String::from(HEADER);
    text.push('\n');
    let mut items = Vec::new();
    if !pin_items.is_empty() {
        text.push_str(PINNED_HEADER);
        text.push('\n');
    }
    for (_, item) in pin_items {
        text.push_str(&item.text);
        text.push('\n');
        items.push(item);
    }
    if let Some(item) = summary_item {
        text.push_str(&item.text);
        text.push('\n');
        items.push(item);
    }
    if !recalled.is_empty() {
        text.push_str(RECALL_HEADER);
        text.push('\n');
    }
    for (_, item) in recalled {
        text.push_str(&item.text);
        text.push('\n');
        items.push(item);
    }
    MemoryBlock {
        items,
        text,
        tokens: used,
    }
}

fn share_of(budget: usize, share: f32) -> usize {
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (budget as f32 * share) as usize
}

/// "Story so far: …" within `limit` tokens, dropping the oldest words first.
fn fit_summary(
    summary: &str,
    limit: usize,
    cost: &dyn Fn(&str) -> usize,
) -> Option<(String, usize)> {
    let render = |words: &[&str], cut: bool| {
        format!(
            "Story so far: {}{}",
            if cut { "… " } else { "" },
            words.join(" ")
        )
    };
    let words: Vec<&str> = summary.split_whitespace().collect();
    let full = render(&words, false);
    let c = cost(&full);
    if c <= limit {
        return Some((full, c));
    }
    // Binary search the fewest words to drop.
    let (mut lo, mut hi) = (1usize, words.len());
    let mut best = None;
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        let line = render(words.get(mid..).unwrap_or(&[]), true);
        let c = cost(&line);
        if c <= limit {
            best = Some((line, c));
            if mid == 0 {
                break;
            }
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    best.filter(|(line, _)| line.len() > "Story so far: … ".len())
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na <= 0.0 || nb <= 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}
