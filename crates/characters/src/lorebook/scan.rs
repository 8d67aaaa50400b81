//! Lorebook activation: which entries go into this turn's prompt.
//!
//! One pass over the recent messages, then (when recursion is on) further
//! passes over the content of the entries that fired, up to a step limit;
//! then probability rolls (already done per entry as it matched), the token
//! budget, and the timed-effect bookkeeping for the next turn.

use serde::{Deserialize, Serialize};

use super::decorators::UiPrompt;
use super::entry::{LoreEntry, Lorebook};
use super::gate::{gate, Gate, HitReason, ScanContext};
use super::keys::{ScanText, TextView};
use super::matcher::{CompiledKeys, MatchDefaults};
use crate::rng::{mix_seed, Rng};
use super::timed::TimedState;
use super::types::Position;

/// Messages scanned at most, whatever a book asks for.
pub const MAX_SCAN_DEPTH: u32 = 1_000;
/// Recursion buffer cap in bytes: content of fired entries scanned again.
/// Far more lore than any small model's context holds.
const MAX_RECURSION_BYTES: usize = 64 * 1024;

/// Scan options the app sets (books may override some).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanSettings {
    /// Recent messages scanned when neither the entry nor its book says.
    pub scan_depth: u32,
    pub case_sensitive: bool,
    pub whole_words: bool,
    /// Recursion for books that leave `recursive_scanning` unset.
    pub recursive: bool,
    /// Passes over fired content after the first scan.
    pub max_recursion_steps: u32,
    /// Tokens for all lorebook content together; overrides the books'.
    pub token_budget: Option<usize>,
    /// Seed for probability rolls (mixed with the chat length and entry).
    pub seed: u64,
}

impl Default for ScanSettings {
    fn default() -> Self {
        Self {
            scan_depth: 2,
            case_sensitive: false,
            whole_words: true,
            recursive: false,
            max_recursion_steps: 3,
            token_budget: None,
            seed: 0,
        }
    }
}

/// One entry in the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoreHit {
    pub uid: String,
    pub label: String,
    pub content: String,
    pub position: Position,
    pub insertion_order: i64,
    pub tokens: usize,
    pub reason: HitReason,
    /// 0 for the chat pass, n for the n-th recursion pass.
    pub step: u32,
}

/// Result of one scan.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScanResult {
    /// Fired entries, ordered by insertion order (then book and entry order).
    pub hits: Vec<LoreHit>,
    /// Uids that fired but did not fit the token budget.
    #[serde(default)]
    pub dropped: Vec<String>,
    /// UI prompts the fired entries switch off.
    #[serde(default)]
    pub disabled_ui_prompts: Vec<UiPrompt>,
    /// Timed state to store for the next scan.
    pub state: TimedState,
}

struct Candidate<'a> {
    entry: &'a LoreEntry,
    book: usize,
    index: usize,
    reason: HitReason,
    step: u32,
}

/// Runs activation over `books` against `messages` (oldest first, hidden
/// ones already left out).
pub fn scan<S: AsRef<str>>(
    books: &[Lorebook],
    messages: &[S],
    ctx: &ScanContext,
    settings: &ScanSettings,
    state: &TimedState,
    count_tokens: &dyn Fn(&str) -> usize,
) -> ScanResult {
    let defaults = MatchDefaults { case_sensitive: settings.case_sensitive, whole_words: settings.whole_words };
    let windows = Windows::new(messages);

    struct Slot<'a> {
        entry: &'a LoreEntry,
        book: usize,
        index: usize,
        keys: CompiledKeys,
        gate: Gate,
        depth: u32,
        recursable: bool,
        decided: bool,
    }
    let mut slots: Vec<Slot> = Vec::new();
    for (b, book) in books.iter().enumerate() {
        let book_recursive = book.recursive_scanning.unwrap_or(settings.recursive);
        for (i, entry) in book.entries.iter().enumerate() {
            slots.push(Slot {
                entry,
                book: b,
                index: i,
                keys: CompiledKeys::new(entry, defaults),
                gate: gate(entry, ctx, state),
                depth: entry.scan_depth.or(book.scan_depth).unwrap_or(settings.scan_depth).min(MAX_SCAN_DEPTH),
                recursable: book_recursive && !entry.exclude_recursion,
                decided: false,
            });
        }
    }

    let mut fired: Vec<Candidate> = Vec::new();
    let mut buffer = String::new();
    let mut step = 0u32;
    loop {
        // Lowercased once per pass, shared by every entry.
        let recursion_text = ScanText::new(buffer.as_str());
        let mut new_content = String::new();
        for slot in slots.iter_mut().filter(|s| !s.decided) {
            let e = slot.entry;
            let reason = match slot.gate {
                Gate::Never => {
                    slot.decided = true;
                    continue;
                }
                Gate::Force(r) if step == 0 => Some(r),
                Gate::Constant if step == 0 => Some(HitReason::Constant),
                Gate::Keys if step == 0 && !e.delay_until_recursion => {
                    slot.keys.matches(&[windows.get(slot.depth)], e.logic).then_some(HitReason::Keys)
                }
                Gate::Keys if step > 0 && slot.recursable => {
                    let texts = [windows.get(slot.depth), recursion_text.view()];
                    slot.keys.matches(&texts, e.logic).then_some(HitReason::Recursion)
                }
                _ => None,
            };
            let Some(reason) = reason else { continue };
            slot.decided = true;
            let rolls = !matches!(reason, HitReason::Sticky | HitReason::Decorator);
            if rolls && !roll(settings.seed, ctx.chat_length, &e.uid, e.probability) {
                continue;
            }
            if !e.prevent_recursion && buffer.len() + new_content.len() < MAX_RECURSION_BYTES {
                new_content.push('\n');
                new_content.push_str(&e.content);
            }
            fired.push(Candidate { entry: e, book: slot.book, index: slot.index, reason, step });
        }
        let any_recursive = slots.iter().any(|s| !s.decided && s.recursable);
        if new_content.is_empty() || !any_recursive || step >= settings.max_recursion_steps {
            break;
        }
        buffer.push_str(&new_content);
        step += 1;
    }

    let budget = settings.token_budget.or_else(|| books.iter().filter_map(|b| b.token_budget).min());
    let (kept, dropped) = apply_budget(fired, budget, count_tokens);

    let mut next = state.clone();
    next.rewind(ctx.chat_length);
    let mut disabled = Vec::new();
    for (c, _) in &kept {
        let e = c.entry;
        let d = &e.decorators;
        let remember = e.sticky > 0 || e.cooldown > 0 || d.keep_activate_after_match || d.dont_activate_after_match;
        if remember && c.reason != HitReason::Sticky {
            next.record(&e.uid, ctx.chat_length, e.sticky, e.cooldown);
        }
        for ui in &d.disable_ui_prompt {
            if !disabled.contains(ui) {
                disabled.push(*ui);
            }
        }
    }
    let mut hits: Vec<(i64, usize, usize, LoreHit)> = kept
        .into_iter()
        .map(|(c, tokens)| {
            let e = c.entry;
            let hit = LoreHit {
                uid: e.uid.clone(),
                label: e.label.clone(),
                content: e.content.clone(),
                position: e.position,
                insertion_order: e.insertion_order,
                tokens,
                reason: c.reason,
                step: c.step,
            };
            (e.insertion_order, c.book, c.index, hit)
        })
        .collect();
    hits.sort_by_key(|(order, book, index, _)| (*order, *book, *index));
    ScanResult {
        hits: hits.into_iter().map(|(_, _, _, h)| h).collect(),
        dropped,
        disabled_ui_prompts: disabled,
        state: next,
    }
}

/// Keeps the most important entries that fit `budget` tokens: higher
/// priority (or insertion order when priority is unset) first, direct hits
/// before recursive ones. An entry that does not fit is skipped and smaller
/// ones after it may still go in.
fn apply_budget<'a>(
    fired: Vec<Candidate<'a>>,
    budget: Option<usize>,
    count_tokens: &dyn Fn(&str) -> usize,
) -> (Vec<(Candidate<'a>, usize)>, Vec<String>) {
    let mut with_tokens: Vec<(Candidate, usize)> =
        fired.into_iter().map(|c| {
            let t = count_tokens(&c.entry.content);
            (c, t)
        }).collect();
    let Some(budget) = budget else {
        return (with_tokens, Vec::new());
    };
    with_tokens.sort_by_key(|(c, _)| {
        let importance = c.entry.priority.unwrap_or(c.entry.insertion_order);
        (std::cmp::Reverse(importance), c.step, c.book, c.index)
    });
    let mut used = 0usize;
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (c, t) in with_tokens {
        if used.saturating_add(t) <= budget {
            used += t;
            kept.push((c, t));
        } else {
            dropped.push(c.entry.uid.clone());
        }
    }
    (kept, dropped)
}

/// Probability roll, reproducible for a given seed, chat length and entry.
fn roll(seed: u64, chat_length: u64, uid: &str, percent: u32) -> bool {
    if percent >= 100 {
        return true;
    }
    let mut rng = Rng::new(mix_seed(seed ^ chat_length.rotate_left(32), fnv1a(uid)));
    rng.chance(percent)
}

/// FNV-1a: a stable string hash (std's hasher is randomised per process).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The chat joined once (raw and lowercase), with where each message
/// starts in both: the window of the last N messages is a suffix of it.
struct Windows {
    raw: String,
    lower: String,
    /// Byte offsets of each message in `raw` and `lower`.
    starts: Vec<(usize, usize)>,
}

impl Windows {
    fn new<S: AsRef<str>>(messages: &[S]) -> Self {
        let keep = messages.len().min(MAX_SCAN_DEPTH as usize);
        let recent = messages.get(messages.len() - keep..).unwrap_or(&[]);
        let (mut raw, mut lower) = (String::new(), String::new());
        let mut starts = Vec::with_capacity(recent.len());
        for (i, m) in recent.iter().enumerate() {
            if i > 0 {
                raw.push('\n');
                lower.push('\n');
            }
            starts.push((raw.len(), lower.len()));
            raw.push_str(m.as_ref());
            lower.push_str(&m.as_ref().to_lowercase());
        }
        Self { raw, lower, starts }
    }

    /// The last `depth` messages (0: nothing).
    fn get(&self, depth: u32) -> TextView<'_> {
        let n = self.starts.len();
        let d = (depth as usize).min(n);
        if d == 0 {
            return TextView::default();
        }
        let (r, l) = self.starts.get(n - d).copied().unwrap_or((self.raw.len(), self.lower.len()));
        TextView { raw: self.raw.get(r..).unwrap_or(""), lower: self.lower.get(l..).unwrap_or("") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_suffixes() {
        let w = Windows::new(&["Ä one", "two", "THREE"]);
        assert_eq!(w.get(0).raw, "");
        assert_eq!(w.get(1).raw, "THREE");
        assert_eq!(w.get(1).lower, "three");
        assert_eq!(w.get(2).raw, "two\nTHREE");
        assert_eq!(w.get(3).lower, "ä one\ntwo\nthree");
        assert_eq!(w.get(99).raw, "Ä one\ntwo\nTHREE");
    }
}
