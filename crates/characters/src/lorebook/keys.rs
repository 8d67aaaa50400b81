//! Matching lorebook keys against scanned chat text.
//!
//! A key is either plain text or a regular expression written `/pattern/flags`
//! (or any key when the entry sets `use_regex`). Regexes come from strangers'
//! cards, so they are compiled with size limits; a key that fails to compile
//! simply never matches, as the V3 spec requires.

use regex::{Regex, RegexBuilder};

/// Longest key pattern accepted; longer ones never match.
pub const MAX_KEY_LEN: usize = 1_000;
/// Compiled program and lazy-DFA limits for one key regex.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 1 << 20;

/// How keys of one entry are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MatchOptions {
    pub case_sensitive: bool,
    pub whole_words: bool,
    /// Every key is a regex even without the `/.../` wrapping.
    pub use_regex: bool,
}

/// Text to scan, with its lowercase twin computed once for all keys.
#[derive(Debug, Clone, Default)]
pub struct ScanText {
    raw: String,
    lower: String,
}

impl ScanText {
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let lower = raw.to_lowercase();
        Self { raw, lower }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn view(&self) -> TextView<'_> {
        TextView { raw: &self.raw, lower: &self.lower }
    }
}

/// A borrowed piece of scanned text and its lowercase twin. Scan windows
/// are views into one joined chat text, so no window is ever copied.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextView<'a> {
    pub raw: &'a str,
    pub lower: &'a str,
}

impl TextView<'_> {
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// One compiled key.
#[derive(Debug, Clone)]
pub enum Key {
    /// Plain text; stored lowercased when matching is case-insensitive.
    Plain(String),
    Regex(Regex),
    /// Empty, too long, or a regex that did not compile: never matches.
    Never,
}

impl Key {
    pub fn compile(key: &str, opts: MatchOptions) -> Key {
        let trimmed = key.trim();
        if trimmed.is_empty() || trimmed.len() > MAX_KEY_LEN {
            return Key::Never;
        }
        if let Some((pattern, flags)) = split_slashed(trimmed) {
            return compile_regex(pattern, Some(flags), opts.case_sensitive);
        }
        if opts.use_regex {
            return compile_regex(trimmed, None, opts.case_sensitive);
        }
        if opts.case_sensitive {
            Key::Plain(trimmed.to_string())
        } else {
            Key::Plain(trimmed.to_lowercase())
        }
    }

    pub fn matches(&self, text: TextView<'_>, opts: MatchOptions) -> bool {
        match self {
            Key::Never => false,
            Key::Regex(re) => re.is_match(text.raw),
            Key::Plain(needle) => {
                let hay = if opts.case_sensitive { text.raw } else { text.lower };
                if opts.whole_words {
                    contains_whole_word(hay, needle)
                } else {
                    hay.contains(needle.as_str())
                }
            }
        }
    }
}

/// Compiles a list of keys, skipping none (order is kept for diagnostics).
pub fn compile_all(keys: &[String], opts: MatchOptions) -> Vec<Key> {
    keys.iter().map(|k| Key::compile(k, opts)).collect()
}

/// True when any key matches any of the texts.
pub fn any_match(keys: &[Key], texts: &[TextView<'_>], opts: MatchOptions) -> bool {
    keys.iter().any(|k| texts.iter().any(|t| k.matches(*t, opts)))
}

/// `/pattern/flags` → (pattern, flags). Flags must be letters only, so a
/// plain key such as `/shrug/ ok` stays plain.
fn split_slashed(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix('/')?;
    let end = rest.rfind('/')?;
    let (pattern, flags_with_slash) = rest.split_at(end);
    let flags = flags_with_slash.get(1..)?;
    if pattern.is_empty() || !flags.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((pattern, flags))
}

fn compile_regex(pattern: &str, flags: Option<&str>, case_sensitive: bool) -> Key {
    let slashed = flags.is_some();
    let flags = flags.unwrap_or("");
    let mut builder = RegexBuilder::new(pattern);
    builder
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .nest_limit(64);
    // A slashed key follows its own flags, as in JavaScript (no `i`: case
    // matters); a bare pattern of a `use_regex` entry follows the entry.
    let mut insensitive = !slashed && !case_sensitive;
    for flag in flags.chars() {
        match flag {
            'i' => insensitive = true,
            'm' => {
                builder.multi_line(true);
            }
            's' => {
                builder.dot_matches_new_line(true);
            }
            'x' => {
                builder.ignore_whitespace(true);
            }
            // JavaScript's global/unicode/sticky flags change nothing for a
            // yes/no match.
            'g' | 'u' | 'y' | 'd' => {}
            _ => return Key::Never,
        }
    }
    builder.case_insensitive(insensitive);
    match builder.build() {
        Ok(re) => Key::Regex(re),
        Err(_) => Key::Never,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Occurrence of `needle` bounded by non-word characters (or the ends).
fn contains_whole_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let needs_left = needle.chars().next().is_some_and(is_word_char);
    let needs_right = needle.chars().next_back().is_some_and(is_word_char);
    let mut from = 0;
    while let Some(found) = hay.get(from..).and_then(|h| h.find(needle)) {
        let start = from + found;
        let end = start + needle.len();
        let left_ok = !needs_left
            || hay.get(..start).and_then(|s| s.chars().next_back()).is_none_or(|c| !is_word_char(c));
        let right_ok = !needs_right
            || hay.get(end..).and_then(|s| s.chars().next()).is_none_or(|c| !is_word_char(c));
        if left_ok && right_ok {
            return true;
        }
        // Step one character forward to find overlapping occurrences.
        let step = hay.get(start..).and_then(|s| s.chars().next()).map_or(1, char::len_utf8);
        from = start + step;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(case_sensitive: bool, whole_words: bool) -> MatchOptions {
        MatchOptions { case_sensitive, whole_words, use_regex: false }
    }

    #[test]
    fn plain_case_insensitive() {
        let t = ScanText::new("The ELDORIA woods");
        let o = opts(false, false);
        assert!(Key::compile("eldoria", o).matches(t.view(), o));
        assert!(!Key::compile("glade", o).matches(t.view(), o));
    }

    #[test]
    fn plain_case_sensitive() {
        let t = ScanText::new("The ELDORIA woods");
        let o = opts(true, false);
        assert!(!Key::compile("eldoria", o).matches(t.view(), o));
        assert!(Key::compile("ELDORIA", o).matches(t.view(), o));
    }

    #[test]
    fn whole_words() {
        let o = opts(false, true);
        let k = Key::compile("beast", o);
        assert!(!k.matches(ScanText::new("the beasts roar").view(), o));
        assert!(k.matches(ScanText::new("a beast, then beasts").view(), o));
        assert!(k.matches(ScanText::new("beast").view(), o));
        let multi = Key::compile("magical forest", o);
        assert!(multi.matches(ScanText::new("into the magical forest.").view(), o));
        assert!(!multi.matches(ScanText::new("the magical forests").view(), o));
        // Overlapping occurrences: second one is whole.
        let aa = Key::compile("aa", o);
        assert!(aa.matches(ScanText::new("aaa aa").view(), o));
    }

    #[test]
    fn slashed_regex_with_flags() {
        let o = opts(true, false);
        let k = Key::compile("/shadow ?fangs?/i", o);
        assert!(matches!(k, Key::Regex(_)));
        assert!(k.matches(ScanText::new("SHADOW FANG attack").view(), o));
        let strict = Key::compile("/Shadowfang/", opts(false, false));
        assert!(!strict.matches(ScanText::new("shadowfang").view(), o), "no flags: case sensitive");
    }

    #[test]
    fn bad_regex_never_matches() {
        let o = opts(false, false);
        assert!(matches!(Key::compile("/(unclosed/", o), Key::Never));
        assert!(matches!(Key::compile("/abc/q", o), Key::Never));
        let o_re = MatchOptions { use_regex: true, ..o };
        assert!(matches!(Key::compile("[", o_re), Key::Never));
    }

    #[test]
    fn huge_regex_is_refused() {
        let o = MatchOptions { use_regex: true, ..opts(false, false) };
        // Within the length limit but explodes when compiled.
        let k = Key::compile("(\\w{100}){100}", o);
        assert!(matches!(k, Key::Never));
    }

    #[test]
    fn use_regex_follows_entry_case() {
        let o = MatchOptions { use_regex: true, case_sensitive: false, whole_words: false };
        assert!(Key::compile("dr[ae]gon", o).matches(ScanText::new("DRAGON").view(), o));
        let cs = MatchOptions { case_sensitive: true, ..o };
        assert!(!Key::compile("dr[ae]gon", cs).matches(ScanText::new("DRAGON").view(), cs));
    }

    #[test]
    fn empty_and_slash_plain_keys() {
        let o = opts(false, false);
        assert!(matches!(Key::compile("   ", o), Key::Never));
        assert!(matches!(Key::compile("/shrug/ ok", o), Key::Plain(_)));
    }
}
