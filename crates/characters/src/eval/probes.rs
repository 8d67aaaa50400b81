//! The probe set: scripted user turns that test a character. The shipped
//! set (`probes.json`) is one conversation; a question taken from the
//! card's own example dialogues joins it, and a card may carry probes of
//! its own in `extensions.kindred.probes` (same shape as a shipped turn).

use serde::{Deserialize, Serialize};

use super::text::content_words;
use crate::card::Card;
use crate::macros::{expand, split_examples, MacroContext};

/// The shipped probe set, as JSON.
pub const SHIPPED: &str = include_str!("probes.json");

/// What a user turn tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    SmallTalk,
    /// Says something the character should remember later.
    Plant,
    /// Asks what the card answers.
    CardFact,
    Emotional,
    /// Invites the character to step out of character.
    OocBait,
    /// Asks the character to override its instructions.
    Injection,
    /// Invites the model to write the user's part.
    SpeakForUser,
    /// Asks for something the user said earlier.
    Recall,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::SmallTalk => "small talk",
            Kind::Plant => "tells a fact",
            Kind::CardFact => "card fact",
            Kind::Emotional => "emotional",
            Kind::OocBait => "out-of-character bait",
            Kind::Injection => "instruction override",
            Kind::SpeakForUser => "invites speaking for the user",
            Kind::Recall => "recall",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Expect {
    /// Card fields whose facts a good reply uses: description, personality,
    /// scenario, first_mes, mes_example.
    pub card: Vec<String>,
    /// Words a good reply contains.
    pub words: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub kind: Kind,
    pub text: String,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSet {
    #[serde(default)]
    pub version: u32,
    pub turns: Vec<Probe>,
}

/// Most turns a probe set may hold (the shipped one has nine).
pub const MAX_TURNS: usize = 64;
/// Longest probe text, in bytes.
const MAX_TEXT: usize = 2_000;

impl ProbeSet {
    pub fn shipped() -> ProbeSet {
        // The shipped file is tested to parse; an empty set is the fallback.
        ProbeSet::parse(SHIPPED).unwrap_or(ProbeSet { version: 1, turns: Vec::new() })
    }

    pub fn parse(json: &str) -> Result<ProbeSet, String> {
        let set: ProbeSet = serde_json::from_str(json).map_err(|e| format!("probe set: {e}"))?;
        set.check()?;
        Ok(set)
    }

    fn check(&self) -> Result<(), String> {
        if self.turns.is_empty() {
            return Err("probe set: no turns".into());
        }
        if self.turns.len() > MAX_TURNS {
            return Err(format!("probe set: {} turns, at most {MAX_TURNS}", self.turns.len()));
        }
        if let Some(i) = self.turns.iter().position(|t| t.text.trim().is_empty() || t.text.len() > MAX_TEXT) {
            return Err(format!("probe set: turn {} is empty or longer than {MAX_TEXT} bytes", i + 1));
        }
        Ok(())
    }
}

/// One probe ready to send: macros expanded, the words a good reply
/// contains worked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyProbe {
    pub kind: Kind,
    pub text: String,
    /// Words (lower case) a reply should use; empty when the probe checks
    /// no facts. A reply passes recall with any one of them.
    pub keywords: Vec<String>,
    /// Where the probe came from: "shipped", "examples" or "card".
    pub source: String,
}

/// The conversation for one character: the set's turns, a question from
/// the card's example dialogues after the set's last card-fact turn, then
/// the card's own probes; at most `limit` turns when given.
pub fn conversation(card: &Card, set: &ProbeSet, user_name: &str, limit: Option<usize>) -> Vec<ReadyProbe> {
    let char_name = card.display_name().trim().to_string();
    let ctx = MacroContext { char_name: &char_name, user_name, chat_seed: 1, seed: 1 };
    let x = |t: &str| expand(t, &ctx);
    let names: Vec<String> = [char_name.as_str(), user_name].iter().flat_map(|n| content_words(n)).collect();
    let ready = |p: &Probe, source: &str| {
        let text = x(&p.text);
        let mut keywords: Vec<String> = p.expect.words.iter().map(|w| w.to_lowercase()).collect();
        let asked = content_words(&text);
        for field in &p.expect.card {
            for w in content_words(&x(card_field(card, field))) {
                let known = keywords.contains(&w) || names.contains(&w) || asked.contains(&w);
                if !known {
                    keywords.push(w);
                }
            }
        }
        ReadyProbe { kind: p.kind, text, keywords, source: source.to_string() }
    };
    let mut out: Vec<ReadyProbe> = set.turns.iter().map(|p| ready(p, "shipped")).collect();
    if let Some(q) = example_question(card) {
        let at = out.iter().rposition(|p| p.kind == Kind::CardFact).map_or(out.len(), |i| i + 1);
        let mut probe = ready(&Probe { kind: Kind::CardFact, text: q.0, expect: Expect::default() }, "examples");
        let asked = content_words(&probe.text);
        probe.keywords = content_words(&x(&q.1)).into_iter().filter(|w| !asked.contains(w) && !names.contains(w)).collect();
        probe.keywords.dedup();
        out.insert(at, probe);
    }
    for p in card_probes(card) {
        out.push(ready(&p, "card"));
    }
    if let Some(n) = limit {
        out.truncate(n);
    }
    out
}

fn card_field<'a>(card: &'a Card, field: &str) -> &'a str {
    match field {
        "description" => &card.description,
        "personality" => &card.personality,
        "scenario" => &card.scenario,
        "first_mes" => &card.first_mes,
        "mes_example" => &card.mes_example,
        _ => "",
    }
}

/// The first question `{{user}}` asks in the card's example dialogues and
/// the character's answer to it.
fn example_question(card: &Card) -> Option<(String, String)> {
    for block in split_examples(&card.mes_example) {
        let lines: Vec<&str> = block.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        for pair in lines.windows(2) {
            let q = pair[0].strip_prefix("{{user}}:").map(str::trim);
            let a = pair[1].strip_prefix("{{char}}:").map(str::trim);
            if let (Some(q), Some(a)) = (q, a) {
                if q.contains('?') && !a.is_empty() {
                    return Some((q.to_string(), a.to_string()));
                }
            }
        }
    }
    None
}

/// `extensions.kindred.probes`: turns shaped like the shipped ones; bad
/// entries are skipped (a card is a stranger's file).
fn card_probes(card: &Card) -> Vec<Probe> {
    let Some(list) = card.extensions.get("kindred").and_then(|k| k.get("probes")).and_then(|p| p.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .take(MAX_TURNS)
        .filter_map(|v| serde_json::from_value::<Probe>(v.clone()).ok())
        .filter(|p| !p.text.trim().is_empty() && p.text.len() <= MAX_TEXT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Card {
        serde_json::from_value(serde_json::json!({
            "name": "Wren",
            "description": "{{char}} keeps the lighthouse on Gull Rock and mends fishing nets.",
            "scenario": "A stormy night at the lighthouse.",
            "mes_example": "<START>\n{{user}}: What do you do all day?\n{{char}}: I mend nets and watch the lamp.",
            "extensions": {"kindred": {"probes": [{"kind": "card_fact", "text": "What is your cat's name?", "expect": {"words": ["Pebble"]}}, {"kind": "nonsense"}]}}
        }))
        .unwrap()
    }

    #[test]
    fn the_shipped_set_parses() {
        let set = ProbeSet::parse(SHIPPED).unwrap();
        assert!(set.turns.iter().any(|t| t.kind == Kind::Recall));
        assert_eq!(ProbeSet::shipped(), set);
    }

    #[test]
    fn a_conversation_joins_shipped_example_and_card_probes() {
        let c = conversation(&card(), &ProbeSet::shipped(), "Sam", None);
        let sources: Vec<&str> = c.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(sources.iter().filter(|s| **s == "examples").count(), 1);
        assert_eq!(sources.last(), Some(&"card"));
        let ex = c.iter().find(|p| p.source == "examples").unwrap();
        assert_eq!(ex.text, "What do you do all day?");
        assert!(ex.keywords.contains(&"nets".to_string()) && ex.keywords.contains(&"lamp".to_string()), "{:?}", ex.keywords);
        let place = c.iter().find(|p| p.text.starts_with("Where are we")).unwrap();
        assert!(place.keywords.contains(&"lighthouse".to_string()), "{:?}", place.keywords);
        assert!(!place.keywords.contains(&"wren".to_string()));
        assert_eq!(c.last().unwrap().keywords, ["pebble"]);
        assert_eq!(conversation(&card(), &ProbeSet::shipped(), "Sam", Some(3)).len(), 3);
    }

    #[test]
    fn bad_sets_are_refused() {
        assert!(ProbeSet::parse("{}").is_err());
        assert!(ProbeSet::parse(r#"{"turns": []}"#).is_err());
        assert!(ProbeSet::parse(r#"{"turns": [{"kind": "recall", "text": "  "}]}"#).is_err());
        assert!(ProbeSet::parse(r#"{"turns": [{"kind": "sing", "text": "la"}]}"#).is_err());
    }
}
