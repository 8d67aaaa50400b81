//! `{{roll:…}}` dice for text games: `{{roll:d20}}`, `{{roll:20}}`,
//! `{{roll:3d6}}`, `{{roll:2d8+3}}`, `{{roll:d100-10}}`.
//!
//! The narrator's output and the user's input may both hold roll macros; they
//! are expanded here with the room's seeded generator, and every roll is
//! returned so the UI can show the dice. (This is a small parser of its own,
//! kept independent of the card macro expander so a room's dice follow the
//! room's stored random sequence.)

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

pub const MAX_DICE: u32 = 100;
pub const MAX_SIDES: u32 = 1_000_000;
pub const MAX_MODIFIER: i64 = 1_000_000;
/// Roll macros expanded per text; later ones stay as written.
pub const MAX_ROLLS_PER_TEXT: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiceExpr {
    pub count: u32,
    pub sides: u32,
    pub modifier: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiceRoll {
    /// As written inside the macro, trimmed.
    pub expression: String,
    pub rolls: Vec<u32>,
    pub modifier: i64,
    pub total: i64,
}

impl DiceExpr {
    /// Parse `d20`, `20`, `3d6`, `2d8+3`, `d100 - 10`. `None` when malformed
    /// or out of bounds.
    pub fn parse(expr: &str) -> Option<Self> {
        let s: String = expr
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let (dice, modifier) = match s.find(['+', '-']) {
            Some(p) => {
                let (d, m) = s.split_at(p);
                let value: i64 = m.get(1..)?.parse().ok()?;
                (d, if m.starts_with('-') { -value } else { value })
            }
            None => (s.as_str(), 0),
        };
        if modifier.abs() > MAX_MODIFIER {
            return None;
        }
        let (count, sides) = match dice.split_once('d') {
            Some(("", sides)) => (1, sides.parse().ok()?),
            Some((count, sides)) => (count.parse().ok()?, sides.parse().ok()?),
            None => (1, dice.parse().ok()?),
        };
        if !(1..=MAX_DICE).contains(&count) || !(1..=MAX_SIDES).contains(&sides) {
            return None;
        }
        Some(Self {
            count,
            sides,
            modifier,
        })
    }

    pub fn roll(&self, rng: &mut Rng) -> (Vec<u32>, i64) {
        let rolls: Vec<u32> = (0..self.count)
            .map(|_| rng.below(u64::from(self.sides)) as u32 + 1)
            .collect();
        let total = rolls.iter().map(|&r| i64::from(r)).sum::<i64>() + self.modifier;
        (rolls, total)
    }
}

/// Replace every valid `{{roll:…}}` with its total. Malformed macros stay as
/// written.
pub fn expand_rolls(text: &str, rng: &mut Rng) -> (String, Vec<DiceRoll>) {
    let mut out = String::with_capacity(text.len());
    let mut rolls = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        let Some(close) = from_open.find("}}") else {
            out.push_str(from_open);
            return (out, rolls);
        };
        let inner = from_open.get(2..close).unwrap_or("");
        let whole = from_open.get(..close + 2).unwrap_or(from_open);
        rest = from_open.get(close + 2..).unwrap_or("");
        let expr = roll_argument(inner);
        match expr.and_then(|e| DiceExpr::parse(e).map(|d| (e, d))) {
            Some((e, dice)) if rolls.len() < MAX_ROLLS_PER_TEXT => {
                let (faces, total) = dice.roll(rng);
                out.push_str(&total.to_string());
                rolls.push(DiceRoll {
                    expression: e.trim().to_owned(),
                    rolls: faces,
                    modifier: dice.modifier,
                    total,
                });
            }
            _ => out.push_str(whole),
        }
    }
    out.push_str(rest);
    (out, rolls)
}

/// The argument of `roll:X` / `roll X`, case-insensitive.
fn roll_argument(inner: &str) -> Option<&str> {
    let t = inner.trim();
    let head = t.get(..4)?;
    if !head.eq_ignore_ascii_case("roll") {
        return None;
    }
    let tail = t.get(4..)?;
    tail.strip_prefix(':')
        .or_else(|| tail.strip_prefix(' '))
        .map(str::trim)
}
