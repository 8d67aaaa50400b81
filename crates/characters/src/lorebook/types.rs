//! Small value types shared by lorebook parsing, scanning and prompt
//! assembly: where an entry goes, with which role, and how secondary keys
//! combine.

use serde::{Deserialize, Serialize};

/// Role of an entry inserted into the chat history at a depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoreRole {
    #[default]
    System,
    User,
    Assistant,
}

impl LoreRole {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "system" => Some(Self::System),
            "user" => Some(Self::User),
            "assistant" | "char" | "model" => Some(Self::Assistant),
            _ => None,
        }
    }

    /// SillyTavern's numeric role (0 system, 1 user, 2 assistant).
    pub fn from_st(n: i64) -> Self {
        match n {
            1 => Self::User,
            2 => Self::Assistant,
            _ => Self::System,
        }
    }

    pub fn to_st(self) -> i64 {
        match self {
            Self::System => 0,
            Self::User => 1,
            Self::Assistant => 2,
        }
    }
}

/// Where an activated entry's content is placed in the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum Position {
    /// Before the character block (ahead of persona and description).
    #[default]
    BeforeChar,
    /// After the character block (description, personality, scenario).
    AfterChar,
    /// Right before / after the description field.
    BeforeDesc,
    AfterDesc,
    /// Inside the personality / scenario sections.
    Personality,
    Scenario,
    /// Around the example dialogues.
    BeforeExamples,
    AfterExamples,
    /// Around the author's note.
    AuthorsNoteTop,
    AuthorsNoteBottom,
    /// Inside the history, `depth` messages from the newest.
    AtDepth { depth: u32, role: LoreRole },
}

impl Position {
    /// Values of the `@@position` decorator. The spec's four plus the two
    /// card positions and the example-dialogue ones.
    pub fn parse_decorator(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "after_desc" => Some(Self::AfterDesc),
            "before_desc" => Some(Self::BeforeDesc),
            "personality" => Some(Self::Personality),
            "scenario" => Some(Self::Scenario),
            "before_char" => Some(Self::BeforeChar),
            "after_char" => Some(Self::AfterChar),
            "before_example" | "before_examples" => Some(Self::BeforeExamples),
            "after_example" | "after_examples" => Some(Self::AfterExamples),
            "an_top" => Some(Self::AuthorsNoteTop),
            "an_bottom" => Some(Self::AuthorsNoteBottom),
            _ => None,
        }
    }

    /// SillyTavern's numeric position, with its depth and role fields.
    pub fn from_st(position: i64, depth: u32, role: LoreRole) -> Self {
        match position {
            1 => Self::AfterChar,
            2 => Self::AuthorsNoteTop,
            3 => Self::AuthorsNoteBottom,
            4 => Self::AtDepth { depth, role },
            5 => Self::BeforeExamples,
            6 => Self::AfterExamples,
            _ => Self::BeforeChar,
        }
    }

    /// Back to SillyTavern's number; positions it lacks map to the nearest.
    pub fn to_st(self) -> i64 {
        match self {
            Self::BeforeChar | Self::BeforeDesc => 0,
            Self::AfterChar | Self::AfterDesc | Self::Personality | Self::Scenario => 1,
            Self::AuthorsNoteTop => 2,
            Self::AuthorsNoteBottom => 3,
            Self::AtDepth { .. } => 4,
            Self::BeforeExamples => 5,
            Self::AfterExamples => 6,
        }
    }

    /// The V2/V3 card field (`before_char` / `after_char`) closest to this.
    pub fn card_field(self) -> &'static str {
        match self {
            Self::BeforeChar | Self::BeforeDesc | Self::BeforeExamples | Self::AuthorsNoteTop => {
                "before_char"
            }
            _ => "after_char",
        }
    }
}

/// How secondary keys combine with the primary match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectiveLogic {
    /// At least one secondary key must match.
    #[default]
    AndAny,
    /// Not every secondary key may match.
    NotAll,
    /// No secondary key may match.
    NotAny,
    /// Every secondary key must match.
    AndAll,
}

impl SelectiveLogic {
    /// SillyTavern numbering: 0 AND ANY, 1 NOT ALL, 2 NOT ANY, 3 AND ALL.
    pub fn from_st(n: i64) -> Self {
        match n {
            1 => Self::NotAll,
            2 => Self::NotAny,
            3 => Self::AndAll,
            _ => Self::AndAny,
        }
    }

    pub fn to_st(self) -> i64 {
        match self {
            Self::AndAny => 0,
            Self::NotAll => 1,
            Self::NotAny => 2,
            Self::AndAll => 3,
        }
    }

    /// Decides from how many of `total` secondary keys matched.
    pub fn passes(self, matched: usize, total: usize) -> bool {
        if total == 0 {
            return true;
        }
        match self {
            Self::AndAny => matched > 0,
            Self::AndAll => matched == total,
            Self::NotAny => matched == 0,
            Self::NotAll => matched < total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selective_logic_table() {
        use SelectiveLogic::*;
        // (logic, matched, total, expected)
        let cases = [
            (AndAny, 0, 2, false),
            (AndAny, 1, 2, true),
            (AndAll, 1, 2, false),
            (AndAll, 2, 2, true),
            (NotAny, 0, 2, true),
            (NotAny, 1, 2, false),
            (NotAll, 1, 2, true),
            (NotAll, 2, 2, false),
            (NotAll, 0, 0, true),
        ];
        for (logic, m, t, want) in cases {
            assert_eq!(logic.passes(m, t), want, "{logic:?} {m}/{t}");
        }
    }

    #[test]
    fn st_numbers_round_trip() {
        for n in 0..4 {
            assert_eq!(SelectiveLogic::from_st(n).to_st(), n);
        }
        for n in 0..7 {
            assert_eq!(Position::from_st(n, 3, LoreRole::User).to_st(), n);
        }
        for n in 0..3 {
            assert_eq!(LoreRole::from_st(n).to_st(), n);
        }
        assert_eq!(Position::from_st(4, 3, LoreRole::User), Position::AtDepth { depth: 3, role: LoreRole::User });
    }
}
