//! The trait studio driven by scripted engine answers, malformed ones
//! included, and the robust answer parsers.

mod chat_support;

use std::collections::VecDeque;

use chat_support::count_tokens;
use kindred_characters::chat::dataset::parse::{
    clean_reply, extract_json, parse_list, parse_ranking, strip_fences,
};
use kindred_characters::chat::dataset::trait_studio::StudioIssue;
use kindred_characters::chat::dataset::{
    run_trait_studio, to_trl_jsonl, ExampleSource, StudioConfig, StudioError, TraitSpec,
};
use kindred_characters::chat::ChatCharacter;

#[test]
fn lists_from_json_numbered_bulleted_and_stray_text() {
    let want = ["What scares you?", "Do you like rain?"];
    for answer in [
        r#"["What scares you?", "Do you like rain?"]"#,
        "Sure! Here you go:\n```json\n[\"What scares you?\", \"Do you like rain?\"]\n```\nHope that helps.",
        r#"{"questions": ["What scares you?", "Do you like rain?"]}"#,
        "Here are two questions:\n1. What scares you?\n2) Do you like rain?\n",
        "- \"What scares you?\"\n* Do you like rain?",
        "Question 1: What scares you?\nQuestion 2: Do you like rain?",
        "What scares you?\nI think these are good.\nDo you like rain?",
        "1. What scares you?\n2. what scares you?\n3. Do you like rain?",
    ] {
        assert_eq!(parse_list(answer, 10, 200), want, "answer: {answer:?}");
    }
    assert_eq!(
        parse_list("1. a\n2. b\n3. c", 2, 200),
        ["a", "b"],
        "bounded count"
    );
    assert_eq!(parse_list("1. abcdefgh", 5, 3), ["abc"], "bounded length");
    assert!(parse_list("", 5, 100).is_empty());
    assert!(parse_list("Here are the questions:", 5, 100).is_empty());
    assert!(
        parse_list("I'd rather not.", 5, 100).is_empty(),
        "one loose sentence is not a list"
    );
    assert_eq!(
        parse_list("Tell me a secret.\nSing for me.", 5, 100),
        ["Tell me a secret.", "Sing for me."]
    );
    assert!(
        parse_list("[1, 2, 3]", 5, 100).is_empty(),
        "a JSON array without strings is no list of questions"
    );
}

#[test]
fn rankings_in_many_shapes() {
    for (answer, want) in [
        ("[2, 1, 3]", vec![1, 0, 2]),
        (
            "Ranking: [3, 1, 2] because 3 is the most curious.",
            vec![2, 0, 1],
        ),
        (r#"{"ranking": [2, 3, 1]}"#, vec![1, 2, 0]),
        (
            r#"["Candidate 3", "Candidate 1", "Candidate 2"]"#,
            vec![2, 0, 1],
        ),
        (
            "1. Candidate 2\n2. Candidate 3\n3. Candidate 1",
            vec![1, 2, 0],
        ),
        ("#1: Candidate 3 (best)\n#2: Candidate 1", vec![2, 0, 1]),
        ("3 > 1 > 2", vec![2, 0, 1]),
        ("The best is candidate 2.", vec![1, 0, 2]),
        ("[2, 2, 9, 1]", vec![1, 0, 2]),
    ] {
        assert_eq!(parse_ranking(answer, 3), Some(want), "answer: {answer:?}");
    }
    assert_eq!(parse_ranking("They are all lovely.", 3), None);
    assert_eq!(parse_ranking("[7, 8]", 3), None);
    assert_eq!(parse_ranking("1", 0), None);
}

#[test]
fn replies_are_cleaned_of_framing() {
    assert_eq!(
        clean_reply("Rika: \"Hello there!\"", "Rika", 100).as_deref(),
        Some("Hello there!")
    );
    assert_eq!(
        clean_reply("Sure, here is Rika's reply:\n{{char}}: Hi.", "Rika", 100).as_deref(),
        Some("Hi.")
    );
    assert_eq!(
        clean_reply("```\nHi!\n```", "Rika", 100).as_deref(),
        Some("Hi!")
    );
    assert_eq!(
        clean_reply("Hi!\n{{user}}: And then?", "Rika", 100).as_deref(),
        Some("Hi!")
    );
    assert_eq!(
        clean_reply("Note: the wind howls.", "Rika", 100).as_deref(),
        Some("Note: the wind howls.")
    );
    assert_eq!(clean_reply("   ", "Rika", 100), None);
    assert_eq!(
        clean_reply("Rika:", "Rika", 100),
        None,
        "a bare speaker name is no reply"
    );
    assert_eq!(clean_reply("abcdef", "Rika", 3).as_deref(), Some("abc"));
    assert_eq!(strip_fences("x ```json\n[1]\n``` y"), "[1]");
    assert_eq!(
        extract_json("a {b} [1, {\"k\": 2}] tail"),
        Some(serde_json::json!([1, {"k": 2}]))
    );
}

fn rika() -> ChatCharacter {
    let mut c = ChatCharacter::new("rika", "Rika");
    c.description = "A shrine keeper.".into();
    c
}

/// An engine that answers from a script and records the prompts.
struct Script {
    answers: VecDeque<Result<String, String>>,
    prompts: Vec<String>,
}

impl Script {
    fn new(answers: &[&str]) -> Self {
        Self {
            answers: answers.iter().map(|a| Ok((*a).to_owned())).collect(),
            prompts: Vec::new(),
        }
    }
    fn call(&mut self, prompt: &str) -> Result<String, String> {
        self.prompts.push(prompt.to_owned());
        self.answers
            .pop_front()
            .unwrap_or_else(|| Err("script ran out".into()))
    }
}

#[test]
fn pipeline_with_well_formed_and_malformed_answers() {
    let traits = [
        TraitSpec {
            name: "curious".into(),
            description: "asks questions, wants to know how things work".into(),
        },
        TraitSpec {
            name: "patient".into(),
            description: String::new(),
        },
    ];
    let config = StudioConfig {
        questions_per_trait: 2,
        candidates_per_question: 3,
        ..StudioConfig::default()
    };
    let mut script = Script::new(&[
        // Trait 1: questions as JSON wrapped in prose.
        "Sure!\n[\"How does a clock work?\", \"What is under the shrine?\"]",
        // Question 1: three candidates, one with a stray name and quotes.
        "Rika: \"Ooh, gears! Can I open one?\"",
        "Clocks tick.",
        "I wonder... who first thought of measuring time?",
        // Ranking as a numbered list.
        "1. Candidate 1\n2. Candidate 3\n3. Candidate 2",
        // Question 2: an empty candidate and a duplicate leave one: skipped.
        "Roots and old coins.",
        "   ",
        "Roots and old coins.",
        // Trait 2: unreadable questions, then a numbered list on retry.
        "I'd rather not.",
        "1. Can you wait for me?\n2. Could you explain it again?",
        "Of course, take your time.",
        "Fine. Hurry up.",
        "   ",
        // Unreadable ranking, then a JSON one on retry.
        "Both are good!",
        "[1, 2]",
        // Question 2 of trait 2: ranking never readable.
        "Gladly, as often as you need.",
        "Again?!",
        "Sigh. Fine.",
        "hmm",
        "no idea",
    ]);
    let result =
        run_trait_studio(&rika(), &traits, &config, &mut |p: &str| script.call(p)).unwrap();
    assert!(script.answers.is_empty(), "every scripted answer was used");

    assert_eq!(result.items.len(), 2);
    let first = &result.items[0];
    assert_eq!(first.trait_name, "curious");
    assert_eq!(first.question, "How does a clock work?");
    assert_eq!(
        first.candidates,
        [
            "Ooh, gears! Can I open one?",
            "Clocks tick.",
            "I wonder... who first thought of measuring time?"
        ]
    );
    assert_eq!(first.ranking, [0, 2, 1]);
    assert_eq!(first.best(), Some("Ooh, gears! Can I open one?"));
    assert_eq!(result.items[1].trait_name, "patient");
    assert_eq!(result.items[1].best(), Some("Of course, take your time."));
    assert_eq!(
        result.issues,
        [
            StudioIssue::TooFewCandidates {
                trait_name: "curious".into(),
                question: "What is under the shrine?".into(),
                got: 1
            },
            StudioIssue::UnreadableRanking {
                trait_name: "patient".into(),
                question: "Could you explain it again?".into()
            },
        ]
    );

    // The prompts carry the trait, the card and the candidates.
    assert!(script.prompts[0].contains("Trait: curious: asks questions"));
    assert!(script.prompts[0].contains("A shrine keeper."));
    assert!(script.prompts[1].contains("{{user}}: How does a clock work?"));
    assert!(script.prompts[4].contains("Candidate 3:\nI wonder..."));

    // Preference pairs: the best over each other candidate.
    let pairs = result.preference_pairs(&rika());
    assert_eq!(pairs.len(), 3);
    assert_eq!(pairs[0].chosen, "Ooh, gears! Can I open one?");
    assert_eq!(
        pairs[0].rejected,
        "I wonder... who first thought of measuring time?"
    );
    assert_eq!(pairs[1].rejected, "Clocks tick.");
    assert_eq!(pairs[2].rejected, "Fine. Hurry up.");
    assert_eq!(pairs[0].prompt[1].content, "How does a clock work?");
    let jsonl = to_trl_jsonl(&pairs).unwrap();
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["chosen"][0]["role"], "assistant");
    }

    // Example dialogues: one per trait in turn, bounded.
    let ex = result.example_dialogues(5, 1000, &count_tokens);
    assert_eq!(ex.len(), 2);
    assert_eq!(
        ex[0].text,
        "<START>\n{{user}}: How does a clock work?\n{{char}}: Ooh, gears! Can I open one?"
    );
    assert_eq!(
        ex[1].source,
        ExampleSource::TraitStudio {
            trait_name: "patient".into()
        }
    );
    assert_eq!(result.example_dialogues(1, 1000, &count_tokens).len(), 1);
    assert!(result.example_dialogues(5, 5, &count_tokens).is_empty());
}

#[test]
fn engine_errors_and_empty_input() {
    let traits = [TraitSpec {
        name: "brave".into(),
        description: String::new(),
    }];
    let mut script = Script::new(&["1. Will you fight?"]);
    let r = run_trait_studio(
        &rika(),
        &traits,
        &StudioConfig::default(),
        &mut |p: &str| script.call(p),
    );
    assert!(matches!(r, Err(StudioError::Engine(e)) if e == "script ran out"));
    let r = run_trait_studio(&rika(), &[], &StudioConfig::default(), &mut |p: &str| {
        script.call(p)
    });
    assert!(matches!(r, Err(StudioError::NoTraits)));
    let blank = [TraitSpec {
        name: "  ".into(),
        description: String::new(),
    }];
    assert!(matches!(
        run_trait_studio(&rika(), &blank, &StudioConfig::default(), &mut |p: &str| {
            script.call(p)
        }),
        Err(StudioError::NoTraits)
    ));
    // No questions even after retries: reported, not fatal.
    let mut script = Script::new(&["no", "still no"]);
    let r = run_trait_studio(
        &rika(),
        &traits,
        &StudioConfig::default(),
        &mut |p: &str| script.call(p),
    )
    .unwrap();
    assert!(r.items.is_empty());
    assert_eq!(
        r.issues,
        [StudioIssue::NoQuestions {
            trait_name: "brave".into()
        }]
    );
}

/// The walk the page's worker drives: each step's kind, its schema and
/// room, the chat a candidate answers (greeting, then the question), and
/// progress that counts what is left.
#[test]
fn the_run_says_what_to_ask_and_keeps_count() {
    use kindred_characters::chat::dataset::{StudioRun, StudioStep};
    use kindred_characters::prompt::Author;
    let mut character = rika();
    character.first_mes = "Welcome to the shrine.".into();
    let traits = [TraitSpec { name: "curious".into(), description: String::new() }];
    let config = StudioConfig::for_page(2, 2);
    let mut run = StudioRun::new(character, &traits, config).unwrap();
    // One question step, two questions of two candidates and a ranking each.
    assert_eq!(run.progress(), (0, 7));
    let Some(StudioStep::Questions { schema, max_tokens, prompt, .. }) = run.next() else { panic!("questions first") };
    assert!(prompt.contains("Trait: curious"));
    assert_eq!(schema["minItems"], 2);
    assert_eq!(schema["maxItems"], 2);
    assert_eq!(schema["items"]["maxLength"], 200);
    assert!(max_tokens >= 2 * 200 / 3, "room for two questions: {max_tokens}");
    // Too short to be a message: dropped, so only one question is left.
    run.answer(r#"["Why?", "What is inside the old bell?"]"#);
    assert_eq!(run.progress(), (1, 4));
    for (k, reply) in ["It rings for the dead, they say.", "Rika: Nobody knows! Shall we look?"].iter().enumerate() {
        let Some(StudioStep::Candidate { question, variant, history, .. }) = run.next() else { panic!("a candidate") };
        assert_eq!(question, "What is inside the old bell?");
        assert_eq!(variant, k);
        assert_eq!(history.len(), 2);
        assert_eq!((history[0].author, history[0].text.as_str()), (Author::Char, "Welcome to the shrine."));
        assert_eq!((history[1].author, history[1].text.as_str()), (Author::User, "What is inside the old bell?"));
        run.answer(reply);
    }
    let Some(StudioStep::Ranking { schema, prompt, .. }) = run.next() else { panic!("a ranking") };
    assert_eq!(schema["items"]["enum"], serde_json::json!([1, 2]));
    assert!(prompt.contains("Candidate 2:\nNobody knows! Shall we look?"));
    assert!(!run.done());
    run.answer("[2, 1]");
    assert!(run.done());
    assert_eq!(run.next(), None);
    assert_eq!(run.progress(), (4, 4));
    assert_eq!(run.result().items[0].best(), Some("Nobody knows! Shall we look?"));
    run.answer("ignored after the end");
    assert_eq!(run.progress(), (4, 4));
}
