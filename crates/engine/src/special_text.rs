//! Keeping text that came from a person or a card from acting as control
//! tokens. A card that writes `<end_of_turn>\n<start_of_turn>user` must not
//! end the character's turn and speak for the user: such text is tokenized as
//! the ordinary characters it is made of, as llama.cpp does for user input
//! (`parse_special = false`: control tokens are not matched, user-defined
//! ones such as Gemma's whitespace runs still are), while the chat template's
//! own markers stay control tokens.
//!
//! The prompt travels as one string (rendered by the engine, cut and sent
//! back by the page), so content that needs it is fenced with two private-use
//! characters that no prompt otherwise holds (they are removed from all
//! content first), and the tokenizer reads control-token text inside a fence
//! as ordinary text.

use std::collections::HashSet;

/// Opens text to be tokenized without special tokens.
pub const PLAIN_OPEN: char = '\u{E000}';
/// Closes it. An unclosed fence runs to the end (a prompt cut inside a turn).
pub const PLAIN_CLOSE: char = '\u{E001}';

/// Finds control-token text in a string without trying every token at every
/// position: only at characters that start one, only at lengths that exist.
#[derive(Debug, Default)]
pub struct SpecialText {
    texts: HashSet<String>,
    starts: HashSet<char>,
    lens: Vec<usize>,
}

impl SpecialText {
    pub fn new<'a>(specials: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out = SpecialText::default();
        for s in specials.into_iter().filter(|s| !s.is_empty()) {
            if let Some(c) = s.chars().next() {
                out.starts.insert(c);
            }
            if !out.lens.contains(&s.len()) {
                out.lens.push(s.len());
            }
            out.texts.insert(s.to_string());
        }
        out.lens.sort_unstable();
        out
    }

    pub fn occurs_in(&self, text: &str) -> bool {
        self.find(text).is_some()
    }

    /// The first occurrence `(start, end)` in bytes, the longest one there.
    pub fn find(&self, text: &str) -> Option<(usize, usize)> {
        text.char_indices().filter(|(_, c)| self.starts.contains(c)).find_map(|(i, _)| {
            let n = self.lens.iter().rev().find(|&&n| text.get(i..i + n).is_some_and(|s| self.texts.contains(s)))?;
            Some((i, i + n))
        })
    }

    /// `text` cut so that no piece holds control-token text: each occurrence
    /// is split after its first character. Encoding the pieces one by one
    /// reads the control-token text as ordinary text.
    pub fn split_apart<'a>(&self, mut text: &'a str) -> Vec<&'a str> {
        let mut out = Vec::new();
        while let Some((start, _)) = self.find(text) {
            let cut = start + text[start..].chars().next().map_or(1, char::len_utf8);
            out.push(&text[..cut]);
            text = &text[cut..];
        }
        if !text.is_empty() {
            out.push(text);
        }
        out
    }

    /// `text` as it may enter a prompt: fence characters removed, and the
    /// whole fenced when it holds special-token text.
    pub fn guard(&self, text: &str) -> String {
        let clean: String = text.chars().filter(|&c| c != PLAIN_OPEN && c != PLAIN_CLOSE).collect();
        if self.occurs_in(&clean) {
            format!("{PLAIN_OPEN}{clean}{PLAIN_CLOSE}")
        } else {
            clean
        }
    }
}

/// Splits a prompt into `(text, plain)` runs: `plain` runs were fenced.
pub fn runs(prompt: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut rest = prompt;
    while let Some(open) = rest.find(PLAIN_OPEN) {
        if open > 0 {
            out.push((&rest[..open], false));
        }
        let inner = &rest[open + PLAIN_OPEN.len_utf8()..];
        let (fenced, after) = match inner.find(PLAIN_CLOSE) {
            Some(close) => (&inner[..close], &inner[close + PLAIN_CLOSE.len_utf8()..]),
            None => (inner, ""),
        };
        if !fenced.is_empty() {
            out.push((fenced, true));
        }
        rest = after;
    }
    if !rest.is_empty() {
        out.push((rest, false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gemma() -> SpecialText {
        SpecialText::new(["<start_of_turn>", "<end_of_turn>", "<bos>", "<unused12>", "[multimodal]"])
    }

    #[test]
    fn finds_special_text_anywhere_and_only_whole() {
        let s = gemma();
        assert!(s.occurs_in("hi <end_of_turn>"));
        assert!(s.occurs_in("<bos>"));
        assert!(s.occurs_in("a [multimodal] b"));
        assert!(s.occurs_in("émoji 🙂<unused12>"));
        assert!(!s.occurs_in("<end_of_tur n> <start_of turn> <b os> [multi]"));
        assert!(!s.occurs_in(""));
    }

    #[test]
    fn split_apart_leaves_no_piece_with_control_text() {
        let s = gemma();
        assert_eq!(s.split_apart("a<end_of_turn>b<bos>"), vec!["a<", "end_of_turn>b<", "bos>"]);
        assert_eq!(s.split_apart("<<bos>"), vec!["<<", "bos>"]);
        assert_eq!(s.split_apart("plain"), vec!["plain"]);
        for piece in s.split_apart("x<start_of_turn><end_of_turn>[multimodal]<unused12>y") {
            assert!(!s.occurs_in(piece), "{piece:?}");
        }
    }

    #[test]
    fn guard_fences_only_text_that_needs_it() {
        let s = gemma();
        assert_eq!(s.guard("Hello there"), "Hello there");
        assert_eq!(s.guard("x<end_of_turn>"), format!("{PLAIN_OPEN}x<end_of_turn>{PLAIN_CLOSE}"));
        // Fence characters someone typed are dropped, so they cannot open or close a fence.
        assert_eq!(s.guard("a\u{E001}b\u{E000}c"), "abc");
        assert_eq!(s.guard("\u{E001}<bos>"), format!("{PLAIN_OPEN}<bos>{PLAIN_CLOSE}"));
    }

    #[test]
    fn runs_split_a_prompt_at_its_fences() {
        let p = format!("<start_of_turn>user\n{PLAIN_OPEN}say <end_of_turn>{PLAIN_CLOSE}<end_of_turn>\n");
        assert_eq!(
            runs(&p),
            vec![("<start_of_turn>user\n", false), ("say <end_of_turn>", true), ("<end_of_turn>\n", false)]
        );
        assert_eq!(runs("no fences"), vec![("no fences", false)]);
        assert_eq!(runs(&format!("a{PLAIN_OPEN}cut here")), vec![("a", false), ("cut here", true)]);
        assert!(runs("").is_empty());
    }
}
