//! An entry's keys compiled once per scan, and the key test itself:
//! primary keys, secondary keys under the selective logic, and the
//! `@@additional_keys` / `@@exclude_keys` decorators.

use super::entry::LoreEntry;
use super::keys::{any_match, compile_all, Key, MatchOptions, TextView};
use super::types::SelectiveLogic;

/// Defaults used when an entry leaves case or whole-word matching unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchDefaults {
    pub case_sensitive: bool,
    pub whole_words: bool,
}

#[derive(Debug, Clone)]
pub struct CompiledKeys {
    opts: MatchOptions,
    primary: Vec<Key>,
    secondary: Vec<Key>,
    additional: Vec<Key>,
    exclude: Vec<Key>,
}

impl CompiledKeys {
    pub fn new(entry: &LoreEntry, defaults: MatchDefaults) -> Self {
        let opts = MatchOptions {
            case_sensitive: entry.case_sensitive.unwrap_or(defaults.case_sensitive),
            whole_words: entry.whole_words.unwrap_or(defaults.whole_words),
            use_regex: entry.use_regex,
        };
        let secondary = if entry.selective { compile_all(&entry.secondary_keys, opts) } else { Vec::new() };
        // The spec ignores exclusions for regex entries.
        let exclude =
            if entry.use_regex { Vec::new() } else { compile_all(&entry.decorators.exclude_keys, opts) };
        Self {
            opts,
            primary: compile_all(&entry.keys, opts),
            secondary,
            additional: compile_all(&entry.decorators.additional_keys, opts),
            exclude,
        }
    }

    /// The full key test against `texts` (a key found in any of them counts).
    pub fn matches(&self, texts: &[TextView<'_>], logic: SelectiveLogic) -> bool {
        if texts.iter().all(TextView::is_empty) || !any_match(&self.primary, texts, self.opts) {
            return false;
        }
        if !self.secondary.is_empty() {
            let hit = self.secondary.iter().filter(|k| texts.iter().any(|t| k.matches(*t, self.opts))).count();
            if !logic.passes(hit, self.secondary.len()) {
                return false;
            }
        }
        if !self.additional.is_empty() && !any_match(&self.additional, texts, self.opts) {
            return false;
        }
        !any_match(&self.exclude, texts, self.opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lorebook::keys::ScanText;

    const D: MatchDefaults = MatchDefaults { case_sensitive: false, whole_words: true };

    fn entry(keys: &[&str], secondary: &[&str], logic: SelectiveLogic) -> LoreEntry {
        LoreEntry {
            keys: keys.iter().map(|s| s.to_string()).collect(),
            secondary_keys: secondary.iter().map(|s| s.to_string()).collect(),
            selective: !secondary.is_empty(),
            logic,
            content: "c".into(),
            ..LoreEntry::default()
        }
    }

    fn check(e: &LoreEntry, text: &str) -> bool {
        CompiledKeys::new(e, D).matches(&[ScanText::new(text).view()], e.logic)
    }

    #[test]
    fn selective_logics_on_text() {
        use SelectiveLogic::*;
        let any = entry(&["sword"], &["fire", "ice"], AndAny);
        assert!(check(&any, "a sword of fire"));
        assert!(!check(&any, "a plain sword"));
        let all = entry(&["sword"], &["fire", "ice"], AndAll);
        assert!(!check(&all, "a sword of fire"));
        assert!(check(&all, "a sword of fire and ice"));
        let not_any = entry(&["sword"], &["fire", "ice"], NotAny);
        assert!(check(&not_any, "a plain sword"));
        assert!(!check(&not_any, "a sword of ice"));
        let not_all = entry(&["sword"], &["fire", "ice"], NotAll);
        assert!(check(&not_all, "a sword of ice"));
        assert!(!check(&not_all, "sword, fire, ice"));
    }

    #[test]
    fn secondary_ignored_when_not_selective() {
        let mut e = entry(&["sword"], &["fire"], SelectiveLogic::AndAll);
        e.selective = false;
        assert!(check(&e, "just a sword"));
    }

    #[test]
    fn additional_and_exclude_decorators() {
        let mut e = entry(&["tower"], &[], SelectiveLogic::AndAny);
        e.decorators.additional_keys = vec!["night".into()];
        e.decorators.exclude_keys = vec!["ruin".into()];
        assert!(check(&e, "the tower at night"));
        assert!(!check(&e, "the tower at noon"));
        assert!(!check(&e, "the tower at night, a ruin"));
    }
}
