//! Per-chat memory of lorebook activations: sticky, cooldown and the
//! "matched before" flag of `@@keep_activate_after_match`.
//!
//! Time is counted in messages: the caller passes the chat length at each
//! scan. The state is plain serde data the app stores with the chat.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most entries remembered; the oldest activations are forgotten first.
pub const MAX_TRACKED: usize = 8_192;

/// What is remembered about one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimedEntry {
    /// Chat length at the activation that started the current sticky /
    /// cooldown period.
    pub started_at: u64,
    /// Messages it stays active after `started_at`.
    #[serde(default)]
    pub sticky: u32,
    /// Messages it stays blocked once the sticky period is over.
    #[serde(default)]
    pub cooldown: u32,
    /// Chat length when it first fired.
    pub first_match: u64,
}

impl TimedEntry {
    fn sticky_end(&self) -> u64 {
        self.started_at.saturating_add(u64::from(self.sticky))
    }

    /// Active by stickiness at chat length `now`.
    pub fn is_sticky(&self, now: u64) -> bool {
        self.sticky > 0 && now > self.started_at && now <= self.sticky_end()
    }

    /// Blocked by cooldown at chat length `now`.
    pub fn is_cooling(&self, now: u64) -> bool {
        let end = self.sticky_end();
        self.cooldown > 0 && now > end && now <= end.saturating_add(u64::from(self.cooldown))
    }
}

/// Activation memory for one chat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimedState {
    #[serde(default)]
    pub entries: BTreeMap<String, TimedEntry>,
}

impl TimedState {
    pub fn get(&self, uid: &str, now: u64) -> Option<&TimedEntry> {
        // A record from "the future" means messages were deleted or the chat
        // was branched back: it no longer applies.
        self.entries.get(uid).filter(|t| t.started_at <= now)
    }

    /// True when the entry fired at an earlier chat length.
    pub fn matched_before(&self, uid: &str, now: u64) -> bool {
        self.entries.get(uid).is_some_and(|t| t.first_match < now)
    }

    /// Records a fresh activation at chat length `now`.
    pub fn record(&mut self, uid: &str, now: u64, sticky: u32, cooldown: u32) {
        let first_match = match self.entries.get(uid) {
            Some(t) if t.first_match <= now => t.first_match,
            _ => now,
        };
        self.entries.insert(uid.to_string(), TimedEntry { started_at: now, sticky, cooldown, first_match });
        self.prune();
    }

    /// Drops records that start after `now` (the chat was rewound).
    pub fn rewind(&mut self, now: u64) {
        self.entries.retain(|_, t| t.started_at <= now);
    }

    fn prune(&mut self) {
        while self.entries.len() > MAX_TRACKED {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, t)| t.started_at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticky_then_cooldown_windows() {
        let t = TimedEntry { started_at: 10, sticky: 2, cooldown: 3, first_match: 10 };
        let sticky: Vec<u64> = (8..20).filter(|n| t.is_sticky(*n)).collect();
        let cooling: Vec<u64> = (8..20).filter(|n| t.is_cooling(*n)).collect();
        assert_eq!(sticky, vec![11, 12]);
        assert_eq!(cooling, vec![13, 14, 15]);
    }

    #[test]
    fn rewind_forgets_future() {
        let mut s = TimedState::default();
        s.record("a", 5, 1, 0);
        s.record("b", 9, 1, 0);
        s.rewind(6);
        assert!(s.entries.contains_key("a"));
        assert!(!s.entries.contains_key("b"));
    }

    #[test]
    fn first_match_is_kept() {
        let mut s = TimedState::default();
        s.record("a", 3, 0, 0);
        s.record("a", 8, 0, 0);
        assert_eq!(s.entries.get("a").map(|t| t.first_match), Some(3));
        assert!(s.matched_before("a", 4));
        assert!(!s.matched_before("a", 3));
    }
}
