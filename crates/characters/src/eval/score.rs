//! Deterministic scorers: each looks at one reply and says pass or fail,
//! with the text that earned it.

use serde::{Deserialize, Serialize};

use super::probes::{Kind, ReadyProbe};
use super::text::{around, content_words, foreign_run, main_script, same_stem, sentences, words, Script};
use crate::card::Card;
use crate::macros::split_examples;
use crate::reply::{find_other_turn, first_marker, Ending, Speakers, ROLE_LABELS};

/// The three dimensions of CharacterGLM's evaluation the checks add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Consistency,
    HumanLikeness,
    Engagement,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [Dimension::Consistency, Dimension::HumanLikeness, Dimension::Engagement];

    pub fn name(self) -> &'static str {
        match self {
            Dimension::Consistency => "consistency",
            Dimension::HumanLikeness => "human-likeness",
            Dimension::Engagement => "engagement",
        }
    }
}

/// One check's verdict on one reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub check: String,
    pub pass: bool,
    /// The text that earned the verdict.
    pub evidence: String,
}

/// The checks, in report order: name, dimension.
pub const CHECKS: &[(&str, Dimension)] = &[
    ("speaks_for_user", Dimension::HumanLikeness),
    ("leak", Dimension::Consistency),
    ("ended", Dimension::HumanLikeness),
    ("script", Dimension::Consistency),
    ("persona", Dimension::Consistency),
    ("repetition", Dimension::HumanLikeness),
    ("card_copy", Dimension::HumanLikeness),
    ("recall", Dimension::Consistency),
    ("length", Dimension::HumanLikeness),
    ("engagement", Dimension::Engagement),
];

pub fn dimension_of(check: &str) -> Option<Dimension> {
    CHECKS.iter().find(|(c, _)| *c == check).map(|(_, d)| *d)
}

/// What the scorers know of the character.
#[derive(Debug, Clone)]
pub struct Character {
    pub speakers: Speakers,
    /// The card's text (description, personality, scenario, greeting,
    /// examples), for the copy check.
    card_words: Vec<String>,
    script: Script,
    /// Typical reply length in words, from the card's example replies.
    style_words: usize,
}

impl Character {
    pub fn new(card: &Card, user_name: &str) -> Character {
        let text = [&card.description, &card.personality, &card.scenario, &card.first_mes, &card.mes_example]
            .map(|s| s.as_str())
            .join("\n");
        let speakers = Speakers { char_name: card.display_name().trim().to_string(), user_name: user_name.to_string(), others: Vec::new() };
        Character { speakers, card_words: words(&text), script: main_script(&text), style_words: style_words(card) }
    }
}

/// The median length of the character's lines in the card's examples (and
/// its greeting), in words; 40 when the card has none.
fn style_words(card: &Card) -> usize {
    let mut lens: Vec<usize> = split_examples(&card.mes_example)
        .iter()
        .flat_map(|b| b.lines().filter_map(|l| l.trim().strip_prefix("{{char}}:")).map(|l| words(l).len()).collect::<Vec<_>>())
        .collect();
    if !card.first_mes.trim().is_empty() {
        lens.push(words(&card.first_mes).len());
    }
    lens.sort_unstable();
    lens.get(lens.len() / 2).copied().filter(|&n| n > 0).unwrap_or(40)
}

/// One reply to score.
pub struct Reply<'a> {
    pub probe: &'a ReadyProbe,
    /// What the model wrote, before turn discipline.
    pub raw: &'a str,
    /// What the person sees.
    pub shown: &'a str,
    pub ending: Ending,
    /// The character's earlier replies in this conversation.
    pub earlier: &'a [String],
}

pub fn score(ch: &Character, r: &Reply<'_>) -> Vec<Check> {
    let mut out = vec![
        speaks_for_user(ch, r.shown),
        leak(r.shown),
        ended(r),
        script(ch, r.shown),
        persona(r.shown),
        repetition(r.shown, r.earlier),
        card_copy(ch, r.shown),
    ];
    if !r.probe.keywords.is_empty() {
        out.push(recall(r.probe, r.shown));
    }
    out.push(length(ch, r.shown));
    out.push(engagement(r.probe, r.shown));
    out
}

fn check(name: &str, pass: bool, evidence: impl Into<String>) -> Check {
    Check { check: name.to_string(), pass, evidence: evidence.into() }
}

/// Verbs that, after the user's name, narrate the user's part.
const USER_VERBS: &[&str] = &[
    "says", "said", "asks", "asked", "replies", "replied", "nods", "nodded", "smiles", "smiled", "laughs",
    "laughed", "sighs", "sighed", "looks", "looked", "sits", "sat", "walks", "walked", "answers", "answered",
    "agrees", "agreed", "shrugs", "shrugged", "whispers", "whispered", "thinks", "thought", "feels", "felt",
];

pub fn speaks_for_user(ch: &Character, shown: &str) -> Check {
    const NAME: &str = "speaks_for_user";
    if let Some((at, label)) = find_other_turn(shown, &ch.speakers) {
        return check(NAME, false, format!("writes {label}'s turn: \"{}\"", around(shown, at, 40)));
    }
    let user = ch.speakers.user_name.trim().to_lowercase();
    let ws = words(shown);
    for (i, w) in ws.iter().enumerate() {
        let named = *w == user || (user.is_empty() && ROLE_LABELS.iter().any(|l| l.eq_ignore_ascii_case(w)));
        if named && ws.get(i + 1).is_some_and(|v| USER_VERBS.contains(&v.as_str())) {
            return check(NAME, false, format!("narrates the user: \"{} {}\"", ch.speakers.user_name, ws[i + 1]));
        }
    }
    check(NAME, true, "speaks only as the character")
}

pub fn leak(shown: &str) -> Check {
    if let Some(at) = first_marker(shown) {
        return check("leak", false, format!("template text: \"{}\"", around(shown, at, 30)));
    }
    // "[Reply as": the role-play layout's closing instruction, echoed.
    for mark in ["{{char}}", "{{user}}", "<START>", "### Instruction", "### Response", "[Reply as "] {
        if let Some(at) = shown.find(mark) {
            return check("leak", false, format!("prompt text: \"{}\"", around(shown, at, 30)));
        }
    }
    check("leak", true, "no template or prompt text")
}

pub fn ended(r: &Reply<'_>) -> Check {
    match r.ending {
        Ending::Eos => check("ended", true, "ended its turn itself"),
        Ending::Stop => check("ended", true, "ended where another speaker's turn began"),
        Ending::User => check("ended", true, "stopped by the person"),
        Ending::MaxTokens => check("ended", false, "ran to the token limit"),
        Ending::ContextFull => check("ended", false, "filled the context"),
    }
}

pub fn script(ch: &Character, shown: &str) -> Check {
    match foreign_run(shown, ch.script, 2) {
        Some(run) => check("script", false, format!("leaves {} for another script: \"{run}\"", ch.script.name())),
        None => check("script", true, format!("stays in {}", ch.script.name())),
    }
}

/// Phrases of an assistant, not a character (lower case).
const DISCLAIMERS: &[&str] = &[
    "as an ai", "an ai language model", "a language model", "i am an ai", "i'm an ai", "i am just an ai",
    "i'm just an ai", "artificial intelligence", "i'm a virtual", "i am a virtual", "i'm an assistant",
    "i am an assistant", "ai assistant", "how can i assist", "how may i assist", "feel free to ask",
    "i don't have access to real-time", "i do not have access to real-time", "i don't have personal",
    "i do not have personal", "i don't have feelings", "i do not have feelings", "i'm sorry, but i can't",
    "i cannot fulfill", "i can't fulfill", "openai", "alibaba cloud", "i am qwen", "i'm qwen", "```", "def ",
    "here's a python", "here is a python", "my programming", "i am a program", "i'm a program",
    "a computer program", "chatbot", "chat bot", "realm of programming",
];

pub fn persona(shown: &str) -> Check {
    let lower = shown.to_lowercase();
    for d in DISCLAIMERS {
        if let Some(at) = lower.find(d) {
            return check("persona", false, format!("steps out of character: \"{}\"", around(shown, at, 40)));
        }
    }
    check("persona", true, "stays in character")
}

pub fn repetition(shown: &str, earlier: &[String]) -> Check {
    let norm = |s: &str| words(s).join(" ");
    let mut seen: Vec<String> = Vec::new();
    for s in sentences(shown) {
        let n = norm(&s);
        if n.split(' ').count() >= 4 {
            if seen.contains(&n) {
                return check("repetition", false, format!("repeats itself: \"{s}\""));
            }
            seen.push(n);
        }
    }
    let before: Vec<String> = earlier.iter().flat_map(|e| sentences(e)).map(|s| norm(&s)).collect();
    for s in sentences(shown) {
        let n = norm(&s);
        if n.split(' ').count() >= 6 && before.contains(&n) {
            return check("repetition", false, format!("says again what it said before: \"{s}\""));
        }
    }
    let ws = words(shown);
    if ws.len() >= 20 {
        let pairs: Vec<(&String, &String)> = ws.iter().zip(ws.iter().skip(1)).collect();
        let mut distinct = pairs.clone();
        distinct.sort();
        distinct.dedup();
        let ratio = distinct.len() as f32 / pairs.len() as f32;
        if ratio < 0.6 {
            return check("repetition", false, format!("distinct-2 {ratio:.2}: few different word pairs"));
        }
        return check("repetition", true, format!("distinct-2 {ratio:.2}"));
    }
    check("repetition", true, "no repeated sentence")
}

/// Words in a row shared with the card that make a reply a copy.
const COPY_RUN: usize = 10;

pub fn card_copy(ch: &Character, shown: &str) -> Check {
    let ws = words(shown);
    let (start, len) = longest_common_run(&ws, &ch.card_words);
    if len >= COPY_RUN {
        return check("card_copy", false, format!("copies {len} words of the card: \"{}\"", ws[start..start + len].join(" ")));
    }
    check("card_copy", true, format!("at most {len} words in a row from the card"))
}

/// (start in `a`, length) of the longest run of words `a` shares with `b`.
fn longest_common_run(a: &[String], b: &[String]) -> (usize, usize) {
    let mut best = (0, 0);
    let mut prev = vec![0usize; b.len() + 1];
    for (i, wa) in a.iter().enumerate() {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, wb) in b.iter().enumerate() {
            if wa == wb {
                cur[j + 1] = prev[j] + 1;
                if cur[j + 1] > best.1 {
                    best = (i + 1 - cur[j + 1], cur[j + 1]);
                }
            }
        }
        prev = cur;
    }
    best
}

pub fn recall(probe: &ReadyProbe, shown: &str) -> Check {
    let said = content_words(shown);
    let all = words(shown);
    let hits: Vec<&String> = probe
        .keywords
        .iter()
        .filter(|k| said.iter().chain(all.iter()).any(|w| same_stem(w, k)))
        .collect();
    if hits.is_empty() {
        let some: Vec<&str> = probe.keywords.iter().take(6).map(String::as_str).collect();
        return check("recall", false, format!("uses none of: {}", some.join(", ")));
    }
    let mut names: Vec<&str> = hits.iter().map(|s| s.as_str()).collect();
    names.dedup();
    names.truncate(6);
    check("recall", true, format!("uses: {}", names.join(", ")))
}

pub fn length(ch: &Character, shown: &str) -> Check {
    let n = words(shown).len();
    let max = (ch.style_words * 3).max(60);
    let verdict = format!("{n} words (the card's style: about {})", ch.style_words);
    check("length", (2..=max).contains(&n), verdict)
}

pub fn engagement(probe: &ReadyProbe, shown: &str) -> Check {
    let asked = content_words(&probe.text);
    let said = content_words(shown);
    let mut taken: Vec<&str> = asked.iter().filter(|a| said.iter().any(|s| same_stem(s, a))).map(String::as_str).collect();
    taken.dedup();
    if let Some(q) = sentences(shown).into_iter().find(|s| s.ends_with('?')) {
        return check("engagement", true, format!("asks back: \"{q}\""));
    }
    if !taken.is_empty() {
        return check("engagement", true, format!("takes up: {}", taken.join(", ")));
    }
    if probe.kind == Kind::SpeakForUser && !shown.trim().is_empty() {
        // The user said nothing to take up; acting on the silence is the answer.
        return check("engagement", true, "acts on the user's silence");
    }
    check("engagement", false, "neither takes up the user's words nor asks back")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::probes::{conversation, ProbeSet};

    fn wren() -> Card {
        serde_json::from_value(serde_json::json!({
            "name": "Wren",
            "description": "{{char}} keeps the lighthouse on Gull Rock and mends fishing nets for the village fishermen every winter evening.",
            "first_mes": "*Wren looks up from her nets.* Evening! Come in out of the wind.",
            "mes_example": "<START>\n{{user}}: What do you do all day?\n{{char}}: I mend nets and watch the lamp, mostly."
        }))
        .unwrap()
    }

    fn probe(kind: Kind, text: &str, keywords: &[&str]) -> ReadyProbe {
        ReadyProbe { kind, text: text.into(), keywords: keywords.iter().map(|k| k.to_string()).collect(), source: "test".into() }
    }

    fn run(f: impl Fn(&Character, &str) -> Check, good: &str, bad: &str) {
        let ch = Character::new(&wren(), "Sam");
        let g = f(&ch, good);
        assert!(g.pass, "good reply failed: {g:?}");
        let b = f(&ch, bad);
        assert!(!b.pass, "bad reply passed: {b:?}");
        assert!(!b.evidence.is_empty());
    }

    #[test]
    fn speaking_for_the_user() {
        run(speaks_for_user, "I keep the lamp lit. And you, Sam?", "I keep the lamp lit.\nSam: That sounds lonely.");
        run(speaks_for_user, "Sam, you look tired.", "Sam nods and sits by the fire.");
        run(speaks_for_user, "Come in!", "Come in! (User) I don't think so!");
    }

    #[test]
    fn leaks() {
        run(|_, t| leak(t), "Good evening.", "Good evening.<|im_end|>");
        run(|_, t| leak(t), "Good evening.", "{{char}} smiles.");
        run(|_, t| leak(t), "Good evening.", "Good evening.\n\n*[Reply as Wren, in character.]*");
    }

    #[test]
    fn endings() {
        let p = probe(Kind::SmallTalk, "Hi", &[]);
        let r = |ending| ended(&Reply { probe: &p, raw: "", shown: "", ending, earlier: &[] });
        assert!(r(Ending::Eos).pass && r(Ending::Stop).pass);
        assert!(!r(Ending::MaxTokens).pass && !r(Ending::ContextFull).pass);
    }

    #[test]
    fn scripts() {
        run(script, "Evening! Café?", "Evening! に通话モデル and tea.");
    }

    #[test]
    fn persona_breaks() {
        run(|_, t| persona(t), "An AI? I mend nets, love.", "As an AI language model, I cannot have a dog.");
        run(|_, t| persona(t), "Sorting? I sort fish.", "Sure!\n```python\ndef sort(xs): return sorted(xs)\n```");
        run(|_, t| persona(t), "Sad to hear.", "I'm sorry, but I don't have access to real-time information.");
    }

    #[test]
    fn repetitions() {
        run(|_, t| repetition(t, &[]), "The sea is calm tonight. The lamp is lit.", "$407 on your car key? Yes. $407 on your car key?");
        let before = vec!["The lamp needs oil before the storm comes in.".to_string()];
        run(|_, t| repetition(t, &before), "The storm is close.", "The lamp needs oil before the storm comes in.");
        run(
            |_, t| repetition(t, &[]),
            "Nets, lamps, gulls and storms: that is my whole winter, and I would not trade a single evening of it.",
            "the sea the sea the sea the sea the sea the sea the sea the sea the sea the sea the sea",
        );
    }

    #[test]
    fn card_copies() {
        run(
            card_copy,
            "I mend the nets for the fishermen, mostly in winter.",
            "Wren keeps the lighthouse on Gull Rock and mends fishing nets for the village fishermen every winter evening.",
        );
    }

    #[test]
    fn recalls() {
        let p = probe(Kind::Recall, "Do you remember my dog's name?", &["biscuit"]);
        run(|_, t| recall(&p, t), "Of course, Biscuit!", "Your dog? I forget.");
        let c = conversation(&wren(), &ProbeSet::shipped(), "Sam", None);
        let fact = c.iter().find(|p| p.source == "examples").unwrap();
        run(|_, t| recall(fact, t), "Mending nets, watching the lamp.", "I like cheese.");
    }

    #[test]
    fn lengths() {
        run(length, "Evening! Come in out of the wind, the kettle's on.", "Hm");
        let long = "word ".repeat(200);
        run(length, "A fair answer of a few words.", &long);
    }

    #[test]
    fn engagements() {
        let p = probe(Kind::Emotional, "I had a rough day at work today.", &[]);
        run(|_, t| engagement(&p, t), "A rough day? Sit, tell me about it.", "The lamp is lit.");
        run(|_, t| engagement(&p, t), "Work can grind a person down.", "Gulls.");
    }

    #[test]
    fn every_check_has_a_dimension() {
        let ch = Character::new(&wren(), "Sam");
        let p = probe(Kind::Recall, "Dog?", &["biscuit"]);
        let checks = score(&ch, &Reply { probe: &p, raw: "Biscuit!", shown: "Biscuit!", ending: Ending::Eos, earlier: &[] });
        assert_eq!(checks.len(), CHECKS.len());
        assert!(checks.iter().all(|c| dimension_of(&c.check).is_some()));
    }
}
