//! Judge mode: an instruct model rates a reply 1-5 on each dimension with
//! a rubric. A model's judgement, reported beside the deterministic scores
//! and never mixed into them.

use serde::{Deserialize, Serialize};

use super::run::ReplyRecord;
use super::score::Dimension;

/// A judge's ratings of one reply (1-5 each; none where it gave no number).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub consistency: Option<u8>,
    pub human_likeness: Option<u8>,
    pub engagement: Option<u8>,
    /// The judge's own words, as written.
    pub raw: String,
}

/// The rubric prompt (a user turn) for one reply.
pub fn prompt(character: &str, card_summary: &str, rec: &ReplyRecord) -> String {
    format!(
        "You are grading one reply in a role-play chat. The character is {character}.\n\
         About the character: {card}\n\n\
         The user said: {user}\n\
         {character} replied: {reply}\n\n\
         Rate the reply from 1 (bad) to 5 (excellent) on:\n\
         consistency: stays in character, true to the description, never mentions being an AI;\n\
         human-likeness: sounds like a person talking, speaks only for {character}, no repetition;\n\
         engagement: responds to what the user said and keeps the conversation going.\n\n\
         Answer with exactly three lines and nothing else:\nconsistency: N\nhuman-likeness: N\nengagement: N",
        card = card_summary.chars().take(600).collect::<String>(),
        user = rec.probe.text,
        reply = if rec.shown.trim().is_empty() { "(nothing)" } else { rec.shown.trim() },
    )
}

/// Reads `dimension: N` lines (any case, `-`/`_`/space in the name).
pub fn parse(answer: &str) -> Judgement {
    let mut j = Judgement { raw: answer.trim().to_string(), ..Default::default() };
    for line in answer.lines() {
        let lower = line.to_lowercase().replace(['-', '_'], " ");
        let Some((name, rest)) = lower.split_once(':') else { continue };
        let n = rest.trim().chars().find(|c| c.is_ascii_digit()).and_then(|c| c.to_digit(10)).filter(|n| (1..=5).contains(n));
        let slot = match name.trim().trim_start_matches(['*', '-', ' ']).trim_end_matches('*') {
            "consistency" => &mut j.consistency,
            "human likeness" => &mut j.human_likeness,
            "engagement" => &mut j.engagement,
            _ => continue,
        };
        if slot.is_none() {
            *slot = n.map(|n| n as u8);
        }
    }
    j
}

impl Judgement {
    pub fn get(&self, d: Dimension) -> Option<u8> {
        match d {
            Dimension::Consistency => self.consistency,
            Dimension::HumanLikeness => self.human_likeness,
            Dimension::Engagement => self.engagement,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_nonsense_gives_none() {
        let j = parse("Consistency: 4\n**Human-likeness:** 3/5\nengagement: 5 (asks back)");
        assert_eq!((j.consistency, j.human_likeness, j.engagement), (Some(4), Some(3), Some(5)));
        let j = parse("The reply is lovely.\nconsistency: nine");
        assert_eq!((j.consistency, j.human_likeness, j.engagement), (None, None, None));
        assert_eq!(j.get(Dimension::Engagement), None);
        assert_eq!(parse("engagement: 7").engagement, None);
    }
}
