//! Writing systems, told apart by their letters: what the quality
//! harness's drift check and a chat's script guard (which keeps replies in
//! the writing systems the chat uses) both read text by.

/// Writing systems told apart (`Other` holds the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Script {
    Latin,
    Cyrillic,
    Greek,
    Han,
    Kana,
    Hangul,
    Arabic,
    Hebrew,
    Devanagari,
    Thai,
    Other,
}

impl Script {
    pub fn of(c: char) -> Option<Script> {
        if !c.is_alphabetic() {
            return None;
        }
        let u = c as u32;
        Some(match u {
            0x41..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
            0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
            0x400..=0x52F => Script::Cyrillic,
            0x590..=0x5FF => Script::Hebrew,
            0x600..=0x6FF | 0x750..=0x77F => Script::Arabic,
            0x900..=0x97F => Script::Devanagari,
            0xE00..=0xE7F => Script::Thai,
            0x3040..=0x30FF | 0x31F0..=0x31FF => Script::Kana,
            0xAC00..=0xD7AF | 0x1100..=0x11FF => Script::Hangul,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => Script::Han,
            _ => Script::Other,
        })
    }

    /// Scripts that write one language together (Japanese mixes kana and
    /// Han; Korean may use Han).
    pub fn family(self) -> Script {
        match self {
            Script::Kana | Script::Han | Script::Hangul => Script::Han,
            s => s,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Cyrillic => "Cyrillic",
            Script::Greek => "Greek",
            Script::Han => "CJK",
            Script::Kana => "kana",
            Script::Hangul => "Hangul",
            Script::Arabic => "Arabic",
            Script::Hebrew => "Hebrew",
            Script::Devanagari => "Devanagari",
            Script::Thai => "Thai",
            Script::Other => "other",
        }
    }

    /// The bit of this script's family in a set of families (`mask`).
    pub fn bit(self) -> u16 {
        1 << self.family() as u16
    }
}

/// The families of the letters in `text`, as a set of `Script::bit`s.
pub fn mask(text: &str) -> u16 {
    text.chars().filter_map(Script::of).fold(0, |m, s| m | s.bit())
}
