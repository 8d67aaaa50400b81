//! Shared helpers of the chat tests and the memory benchmark: a
//! deterministic synthetic chat and a simple token counter.
#![allow(dead_code)]

use kindred_characters::chat::{Author, Chat, Rng};

/// Roughly one token per word and per punctuation run; good enough to test
/// budgets deterministically.
pub fn count_tokens(text: &str) -> usize {
    text.split_whitespace()
        .map(|w| 1 + usize::from(w.chars().any(|c| !c.is_alphanumeric())))
        .sum()
}

pub const CHARACTER_ID: &str = "rika";
pub const FACT: &str = "By the way, my sister's name is Ingrid, and she is a nurse in Bergen.";
pub const QUESTION: &str = "Do you remember what my sister's name is?";

const SUBJECTS: &[&str] = &[
    "the old lighthouse",
    "the night train",
    "the harbour market",
    "my garden",
    "the library",
    "the rain",
    "the fishing boats",
    "the mountain trail",
    "the bakery on the corner",
    "the winter festival",
];
const VERBS: &[&str] = &[
    "reminds me of",
    "was busy with",
    "smelled of",
    "looked like",
    "was full of",
    "made me think of",
];
const OBJECTS: &[&str] = &[
    "fresh bread",
    "salt and tar",
    "old songs",
    "summer evenings",
    "lanterns",
    "wet stones",
    "tea with honey",
    "crowded stalls",
    "a forgotten map",
    "gulls at dawn",
];
/// Lines that share a word with the question without answering it.
const DISTRACTORS: &[&str] = &[
    "My sister loves baking cardamom buns on Sundays.",
    "What a lovely name for a boat, the Sea Wren.",
    "My brother's name is Tomas, he fixes bicycles.",
    "The cat's name is Pepper and she sleeps all day.",
    "My sister once got lost on the mountain trail.",
];

/// A chat of `n` messages: a greeting from the character, then user and
/// character in turn. Message 10 (a user message) states [`FACT`] when
/// `with_fact`; the last message (a user message when `n` is even) asks
/// [`QUESTION`]. Other messages are seeded small talk with distractors.
pub fn synthetic_chat(n: usize, seed: u64, with_fact: bool) -> Chat {
    let mut rng = Rng::new(seed);
    let mut chat = Chat::with_greeting(
        "synthetic",
        CHARACTER_ID,
        &["Welcome back! Sit down, the kettle is on."],
        0,
    )
    .expect("valid chat");
    for i in 2..=n {
        let author = if i % 2 == 0 {
            Author::User
        } else {
            Author::character(CHARACTER_ID)
        };
        let text = if i == 10 && with_fact {
            FACT.to_owned()
        } else if i == n {
            QUESTION.to_owned()
        } else if i % 97 == 0 {
            DISTRACTORS[(i / 97) % DISTRACTORS.len()].to_owned()
        } else {
            let mut pick = |list: &[&'static str]| list[rng.below(list.len() as u64) as usize];
            let first = format!("{} {} {}.", pick(SUBJECTS), pick(VERBS), pick(OBJECTS));
            let second = format!(
                "Later, {} {} {}.",
                pick(SUBJECTS),
                pick(VERBS),
                pick(OBJECTS)
            );
            let mut s = first;
            if let Some(c) = s.get(..1) {
                s = c.to_uppercase() + s.get(1..).unwrap_or("");
            }
            format!("{s} {second}")
        };
        chat.append(author, text, i as u64 * 1000).expect("append");
    }
    chat
}
