//! Whole-word, case-insensitive phrase matching with byte spans, shared by
//! the rule layer and persona-break detection.

/// A word of the text: lowercased, with its byte span in the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub lower: String,
    pub start: usize,
    pub end: usize,
}

/// Alphanumeric runs; everything else (spaces, punctuation, apostrophes,
/// hyphens) separates words, so "self-harm" matches "self harm" and "I'm"
/// is the words "i", "m".
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(word(text, s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(word(text, s, text.len()));
    }
    out
}

fn word(text: &str, start: usize, end: usize) -> Word {
    Word {
        lower: text.get(start..end).unwrap_or("").to_lowercase(),
        start,
        end,
    }
}

/// A phrase split the same way as the text it is matched against.
pub fn phrase_words(phrase: &str) -> Vec<String> {
    words(phrase).into_iter().map(|w| w.lower).collect()
}

/// Byte spans of every whole-word occurrence of `phrase` in `text_words`.
pub fn find_all(text_words: &[Word], phrase: &[String]) -> Vec<(usize, usize)> {
    if phrase.is_empty() || phrase.len() > text_words.len() {
        return Vec::new();
    }
    text_words
        .windows(phrase.len())
        .filter(|w| w.iter().zip(phrase).all(|(a, b)| &a.lower == b))
        .filter_map(|w| Some((w.first()?.start, w.last()?.end)))
        .collect()
}
