//! Word and script helpers the scorers share.

/// Words too common to say anything about what a reply is about.
const STOPWORDS: &[&str] = &[
    "about", "above", "after", "again", "against", "their", "there", "these", "those", "which", "while", "would",
    "could", "should", "where", "being", "other", "because", "before", "between", "through", "during", "under",
    "until", "every", "still", "though", "thing", "things", "something", "anything", "really", "maybe", "always",
    "never", "often", "little", "tell", "today", "right", "yourself", "myself", "what", "when", "your", "yours",
    "have", "with", "this", "that", "from", "they", "them", "were", "will", "just", "like", "more", "most", "some",
    "than", "then", "into", "over", "only", "very", "much", "many", "such", "well", "also", "here", "does", "doing",
    "done", "make", "made", "know", "think", "want", "feel", "said", "says", "char", "user", "the", "and",
    "you", "are", "was", "for", "but", "not", "all", "can", "her", "his", "she", "him", "our", "out", "one",
    "any", "who", "why", "how", "its", "let", "say", "see", "too", "yes", "get", "got", "has", "had", "did",
    "may", "own", "way", "now", "new", "off", "too", "use", "two", "also", "i'm", "it's", "don't", "can't",
    "you're", "that's", "what's", "i've", "i'll", "let's", "there's", "well", "oh", "hey", "hello",
];

/// Lower-cased words of letters and digits (apostrophes kept inside).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || (c == '\'' && !cur.is_empty()) {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(bare(&std::mem::take(&mut cur)));
        }
    }
    if !cur.is_empty() {
        out.push(bare(&cur));
    }
    out
}

/// "dog's" -> "dog", "tides'" -> "tides".
fn bare(w: &str) -> String {
    let w = w.trim_end_matches('\'');
    w.strip_suffix("'s").unwrap_or(w).to_string()
}

/// Words that carry meaning: three letters or more, not a stopword.
pub fn content_words(text: &str) -> Vec<String> {
    words(text).into_iter().filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str())).collect()
}

/// Two words match when they share their first five letters (or are equal
/// when shorter): "engine" and "engines", "calm" and "calm".
pub fn same_stem(a: &str, b: &str) -> bool {
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    if a.chars().count() < 5 || b.chars().count() < 5 {
        return a == b;
    }
    stem(a) == stem(b)
}

pub use crate::script::Script;

/// The script most of the text's letters are in (Latin when it has none).
pub fn main_script(text: &str) -> Script {
    let mut counts: std::collections::BTreeMap<Script, usize> = Default::default();
    for s in text.chars().filter_map(Script::of) {
        *counts.entry(s.family()).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map_or(Script::Latin, |(s, _)| s)
}

/// The first run of letters outside `main` (with a little context), if the
/// text has at least `min` such letters.
pub fn foreign_run(text: &str, main: Script, min: usize) -> Option<String> {
    let foreign = |c: char| Script::of(c).is_some_and(|s| s.family() != main.family());
    let count = text.chars().filter(|&c| foreign(c)).count();
    if count < min {
        return None;
    }
    let start = text.char_indices().find(|&(_, c)| foreign(c)).map(|(i, _)| i)?;
    let from = floor_boundary(text, start.saturating_sub(12));
    let to = ceil_boundary(text, (start + 24).min(text.len()));
    Some(text[from..to].to_string())
}

pub fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// `text` around byte `at`, about `radius` bytes each side, on one line.
pub fn around(text: &str, at: usize, radius: usize) -> String {
    let from = floor_boundary(text, at.saturating_sub(radius));
    let to = ceil_boundary(text, (at + radius).min(text.len()));
    text[from..to].replace('\n', " ").trim().to_string()
}

/// Sentences (split after . ! ? and newlines), trimmed, non-empty.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        cur.push(c);
        if matches!(c, '.' | '!' | '?' | '\n' | '…') {
            let t = cur.trim().to_string();
            if !t.is_empty() {
                out.push(t);
            }
            cur.clear();
        }
    }
    let t = cur.trim().to_string();
    if !t.is_empty() {
        out.push(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_stems() {
        assert_eq!(words("It's the Engine's day!"), ["it", "the", "engine", "day"]);
        assert!(same_stem("engines", "engine"));
        assert!(!same_stem("calm", "calmer"));
        assert_eq!(content_words("What about the Analytical Engine?"), ["analytical", "engine"]);
    }

    #[test]
    fn scripts() {
        assert_eq!(main_script("Hello there, friend"), Script::Latin);
        assert_eq!(main_script("こんにちは、元気ですか"), Script::Han);
        assert!(foreign_run("Hello, に通话モデル friend", Script::Latin, 2).unwrap().contains("に通话"));
        assert_eq!(foreign_run("Café au lait, naïve", Script::Latin, 1), None);
        assert_eq!(foreign_run("日本語と English", Script::Han, 20), None);
    }
}
