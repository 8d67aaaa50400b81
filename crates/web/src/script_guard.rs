//! Keeps a reply in the writing systems its chat uses. Small models drift:
//! Qwen's replies to an English card slip into Chinese words ("值得",
//! "爱好"), most often when a penalty has pushed the English word down. The
//! guard reads every token of the vocabulary once, notes the scripts of its
//! letters, and a reply's sampler then never picks a token with letters of a
//! script that appears nowhere in the prompt (the card, the persona, the
//! messages, the template). A person who writes in another script brings it
//! in with their message.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use kindred_characters::script::{mask, Script};
use kindred_engine::{Session, Tokenizer};

pub struct ScriptGuard {
    /// Per token: the script families its letters belong to (`Script::bit`s).
    families: Vec<u16>,
}

impl ScriptGuard {
    pub fn new(tokenizer: &Tokenizer) -> Self {
        let mut ranges = HashMap::new();
        let families = (0..tokenizer.vocab_size() as u32)
            .map(|id| tokenizer.piece_bytes(id).map_or(0, |b| piece_families(&b, &mut ranges)))
            .collect();
        ScriptGuard { families }
    }

    /// The tokens with letters outside `allowed` (a set of families), sorted.
    pub fn suppressed(&self, allowed: u16) -> Vec<u32> {
        self.families.iter().enumerate().filter(|(_, &f)| f & !allowed != 0).map(|(i, _)| i as u32).collect()
    }
}

thread_local! {
    /// The last model's guard, by its file's fingerprint: read once a model
    /// (a chat's prompts, the page's worker and a command's replies each run
    /// on one thread).
    static GUARD: RefCell<Option<(u64, ScriptGuard)>> = const { RefCell::new(None) };
}

/// The tokens a reply to `prompt` may not use on `session`'s model: those
/// with letters of scripts the prompt does not use.
pub fn suppressed_for(session: &Session, prompt: &str) -> Arc<[u32]> {
    GUARD.with_borrow_mut(|cached| {
        let key = session.fingerprint();
        if cached.as_ref().is_none_or(|(k, _)| *k != key) {
            *cached = Some((key, ScriptGuard::new(&session.tokenizer)));
        }
        cached.as_ref().map(|(_, g)| g.suppressed(allowed(prompt)).into()).unwrap_or_default()
    })
}

/// The families a prompt's text allows.
pub fn allowed(prompt: &str) -> u16 {
    mask(prompt)
}

/// The families of a token's letters. A piece that ends inside a character
/// (byte-level vocabularies split rare characters) counts the script that
/// fills the range of characters its first bytes can begin.
fn piece_families(bytes: &[u8], ranges: &mut HashMap<(u32, u32), u16>) -> u16 {
    let mut f = 0;
    for chunk in bytes.utf8_chunks() {
        f |= mask(chunk.valid());
        let cut = chunk.invalid();
        let span = match *cut {
            [b0 @ 0xC2..=0xDF, ..] => Some((u32::from(b0 & 0x1F) << 6, 64)),
            [b0 @ 0xE0..=0xEF, b1 @ 0x80..=0xBF, ..] => Some((u32::from(b0 & 0x0F) << 12 | u32::from(b1 & 0x3F) << 6, 64)),
            [b0 @ 0xE0..=0xEF] => Some((u32::from(b0 & 0x0F) << 12, 4096)),
            _ => None,
        };
        if let Some(span) = span {
            f |= *ranges.entry(span).or_insert_with(|| range_families(span.0, span.1));
        }
    }
    f
}

/// The families whose letters fill at least half of `len` code points from
/// `lo`: a range mostly of punctuation (U+2000..) counts as none.
fn range_families(lo: u32, len: u32) -> u16 {
    let mut counts: HashMap<u16, u32> = HashMap::new();
    for c in (lo..lo + len).filter_map(char::from_u32) {
        if let Some(s) = Script::of(c) {
            *counts.entry(s.bit()).or_default() += 1;
        }
    }
    counts.into_iter().filter(|&(_, n)| n * 2 >= len).fold(0, |m, (bit, _)| m | bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn families(s: &[u8]) -> u16 {
        piece_families(s, &mut HashMap::new())
    }

    #[test]
    fn pieces_count_their_letters_and_the_characters_they_begin() {
        let (latin, han, cyr) = (Script::Latin.bit(), Script::Han.bit(), Script::Cyrillic.bit());
        assert_eq!(families(" hello".as_bytes()), latin);
        assert_eq!(families("值得".as_bytes()), han);
        assert_eq!(families("の".as_bytes()), han, "kana is in Han's family");
        assert_eq!(families(" 42, ...!".as_bytes()), 0, "no letters");
        assert_eq!(families("privet мир".as_bytes()), latin | cyr);
        // Cut characters: 值 is E5 80 BC; "д" is D0 B4.
        assert_eq!(families(&[b'a', 0xE5]), latin | han);
        assert_eq!(families(&[0xE5, 0x80]), han);
        assert_eq!(families(&[0xD0]), cyr);
        // ’ is E2 80 99: its first bytes begin punctuation, not a script.
        assert_eq!(families(&[0xE2, 0x80]), 0);
        assert_eq!(families(&[0xE2]), 0);
        // A lone continuation byte begins nothing.
        assert_eq!(families(&[0x99]), 0);
    }

    #[test]
    fn a_prompt_allows_the_scripts_it_uses() {
        let en = allowed("<|im_start|>system\nYou are Wren.<|im_end|>");
        assert_eq!(en, Script::Latin.bit());
        let ja = allowed("You are Wren.\nuser: こんにちは");
        assert_eq!(ja, Script::Latin.bit() | Script::Han.bit());
    }
}
