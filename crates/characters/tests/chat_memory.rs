//! Memory: BM25, rolling summaries with rollback, pinned facts, and recall
//! of an old fact in a 2,000-message chat.

mod chat_support;

use chat_support::{count_tokens, synthetic_chat, CHARACTER_ID, FACT, QUESTION};
use kindred_characters::chat::memory::{
    assemble_memory, echoes_instruction, extractive_summary, keep_requests, roll_summaries, summary_prompt,
    tokenize, window_start, Bm25Index, Embedder,
    MemoryConfig, MemorySource, NoEmbedder, PinnedBy, SummaryConfig, SummaryError,
};
use kindred_characters::chat::{Author, Chat, Names};

fn names() -> Names {
    Names::new("Sam").with_character(CHARACTER_ID, "Rika")
}

#[test]
fn tokenizer_lowercases_splits_and_drops_stopwords() {
    assert_eq!(
        tokenize("What's my Sister's NAME? (Ingrid)"),
        ["sister", "name", "ingrid"]
    );
    assert_eq!(
        tokenize("snow-covered café 42"),
        ["snow", "covered", "café", "42"]
    );
    assert!(tokenize("the and of").is_empty());
}

#[test]
fn bm25_prefers_rarer_terms_and_shorter_documents() {
    let docs = [
        "the cat sat on the mat",
        "my sister's name is Ingrid, she lives by the fjord in Bergen",
        "my sister likes tea",
        "a long story about a name and a boat and the sea and the wind and more",
        "name name name of the dog",
    ];
    let index = Bm25Index::new(docs.iter().copied());
    assert_eq!(index.len(), 5);
    let top = index.top("what is my sister's name", 5);
    assert_eq!(
        top[0].0, 1,
        "the only document with both terms wins: {top:?}"
    );
    let scores = index.scores("sister");
    assert_eq!(scores[0], 0.0);
    assert!(
        scores[1] > 0.0 && scores[2] > scores[1],
        "shorter document scores higher: {scores:?}"
    );
    // Repetition helps but saturates: three "name" beat one in a long text.
    let s = index.scores("name");
    assert!(s[4] > s[3]);
    assert!(index.top("zebra", 3).is_empty());
    assert!(Bm25Index::new(std::iter::empty()).top("x", 3).is_empty());
}

#[test]
fn window_start_fits_the_budget_from_the_end() {
    let mut chat = Chat::new("c", 0).unwrap();
    for i in 0..10 {
        chat.append(Author::User, "one two three four", i).unwrap(); // "Sam:" counts 2, then 4 words: 6 tokens
    }
    let n = names();
    assert_eq!(window_start(&chat.messages, &n, 1000, &count_tokens), 0);
    assert_eq!(window_start(&chat.messages, &n, 18, &count_tokens), 7);
    assert_eq!(window_start(&chat.messages, &n, 17, &count_tokens), 8);
    chat.set_hidden("m9", true, 20).unwrap();
    assert_eq!(
        window_start(&chat.messages, &n, 18, &count_tokens),
        6,
        "hidden messages cost nothing"
    );
}

#[test]
fn summaries_cover_dropped_history_and_roll_back_on_edit() {
    let mut chat = synthetic_chat(100, 7, true);
    let n = names();
    let config = SummaryConfig {
        max_messages_per_call: 20,
        ..SummaryConfig::default()
    };
    let mut prompts = Vec::new();
    let mut engine = |p: &str| -> Result<String, String> {
        prompts.push(p.to_owned());
        Ok(format!("Summary: part {}", prompts.len()))
    };
    let added = roll_summaries(&mut chat, 60, &n, &config, &mut engine, 500).unwrap();
    assert_eq!(added, 3);
    assert_eq!(prompts.len(), 3);
    assert!(prompts[0].contains(FACT), "the first span holds message 10");
    assert!(prompts[0].contains("Sam: ") && prompts[0].contains("Rika: "));
    assert!(
        prompts[1].contains("Summary so far:\npart 1"),
        "rolling: the previous summary is given"
    );
    let s = &chat.memory.summaries;
    assert_eq!(s[0].text, "part 1", "the label is stripped");
    assert_eq!((s[0].from_id.as_str(), s[0].to_id.as_str()), ("m1", "m20"));
    assert_eq!((s[2].from_id.as_str(), s[2].to_id.as_str()), ("m41", "m60"));
    assert_eq!(s[1].message_ids.len(), 20);

    // Nothing new to summarise: no engine call.
    let again = roll_summaries(
        &mut chat,
        60,
        &n,
        &config,
        &mut |_p: &str| -> Result<String, String> { Err("must not be called".into()) },
        501,
    );
    assert_eq!(again.unwrap(), 0);

    // Editing message 30 drops the summary covering it and the one after.
    chat.edit("m30", "changed", 600).unwrap();
    assert_eq!(chat.memory.summaries.len(), 1);
    // Rating does not change text: nothing is dropped.
    chat.rate(
        "m5",
        0,
        Some(kindred_characters::chat::Rating::new(4).unwrap()),
    )
    .unwrap();
    assert_eq!(chat.memory.summaries.len(), 1);
    // Rolling again resumes after the surviving summary.
    let mut calls = 0;
    roll_summaries(
        &mut chat,
        60,
        &n,
        &config,
        &mut |p: &str| -> Result<String, String> {
            calls += 1;
            let expected = if calls == 1 {
                "Summary so far:\npart 1".to_owned()
            } else {
                format!("Summary so far:\nredo {}", calls - 1)
            };
            assert!(p.contains(&expected), "{p}");
            Ok(format!("redo {calls}"))
        },
        700,
    )
    .unwrap();
    assert_eq!(calls, 2);
    assert_eq!(chat.memory.summaries[1].from_id, "m21");
    // Deleting a covered message drops everything from its summary on.
    chat.delete("m3", 800).unwrap();
    assert!(chat.memory.summaries.is_empty());
    // Regenerating or hiding a covered message rolls back as well.
    roll_summaries(
        &mut chat,
        50,
        &n,
        &config,
        &mut |_p: &str| -> Result<String, String> { Ok("s".into()) },
        900,
    )
    .unwrap();
    assert_eq!(chat.memory.summaries.len(), 3);
    chat.set_hidden("m45", true, 901).unwrap();
    assert_eq!(chat.memory.summaries.len(), 2);
    chat.regenerate("m25", "new swipe", 902).unwrap();
    assert_eq!(chat.memory.summaries.len(), 1);
}

#[test]
fn summary_engine_errors_and_empty_answers_are_reported() {
    let mut chat = synthetic_chat(30, 1, false);
    let n = names();
    let config = SummaryConfig {
        max_messages_per_call: 10,
        ..SummaryConfig::default()
    };
    let mut calls = 0;
    let r = roll_summaries(
        &mut chat,
        30,
        &n,
        &config,
        &mut |_p: &str| {
            calls += 1;
            if calls == 2 {
                Err("out of memory")
            } else {
                Ok("fine".to_owned())
            }
        },
        0,
    );
    assert!(matches!(r, Err(SummaryError::Engine("out of memory"))));
    assert_eq!(
        chat.memory.summaries.len(),
        1,
        "work done before the error stays"
    );
    let r = roll_summaries(
        &mut chat,
        30,
        &n,
        &config,
        &mut |_p: &str| -> Result<String, &str> { Ok("  \n".into()) },
        0,
    );
    assert!(matches!(r, Err(SummaryError::EmptyAnswer)));
}

#[test]
fn pinned_memories_from_messages_and_keep_requests() {
    let mut chat = Chat::new("c", 0).unwrap();
    let m = chat.append(Author::User, "Please remember that I am allergic to cats. Also, keep in mind that my birthday is in May!", 1).unwrap();
    assert_eq!(
        keep_requests(chat.get(&m).unwrap().text()),
        ["I am allergic to cats", "my birthday is in May"]
    );
    assert!(
        keep_requests("I can't misremember that, sorry").is_empty(),
        "cues match whole words only"
    );
    assert_eq!(
        keep_requests("İstanbul! Remember: the ferry leaves at nine."),
        ["the ferry leaves at nine"]
    );
    let ids = chat.pin_keep_requests(&m, 2).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(chat.memory.pinned[0].pinned_by, PinnedBy::Character);
    // Asking twice does not pin twice.
    assert!(chat.pin_keep_requests(&m, 3).unwrap().is_empty());
    let p = chat.pin_message(&m, Some("allergic to cats"), 4).unwrap();
    assert_eq!(
        chat.memory
            .pinned
            .last()
            .unwrap()
            .source_message_id
            .as_deref(),
        Some(m.as_str())
    );
    assert!(chat.unpin(&p));
    assert!(!chat.unpin(&p));
    assert!(chat.pin_message("missing", None, 5).is_err());
}

#[test]
fn recalls_a_fact_from_message_10_at_message_2000() {
    let mut chat = synthetic_chat(2000, 42, true);
    assert_eq!(chat.len(), 2000);
    assert_eq!(chat.messages[9].text(), FACT);
    assert_eq!(chat.messages[9].author, Author::User);
    assert_eq!(chat.messages[1999].text(), QUESTION);
    let n = names();

    let start = window_start(&chat.messages, &n, 1_500, &count_tokens);
    assert!(
        start > 1_800 && start < 1_990,
        "history window starts at {start}"
    );
    // Summaries that never mention the fact: recall must come from retrieval.
    roll_summaries(
        &mut chat,
        start,
        &n,
        &SummaryConfig::default(),
        &mut |_p: &str| -> Result<String, String> {
            Ok("Sam and Rika talked about the harbour, trains and the weather.".into())
        },
        0,
    )
    .unwrap();
    assert!(!chat.memory.summaries.is_empty());
    chat.pin("Sam takes tea with honey.", None, PinnedBy::User, 1)
        .unwrap();

    let config = MemoryConfig {
        budget_tokens: 200,
        ..MemoryConfig::default()
    };
    let block = assemble_memory(
        &chat,
        start,
        QUESTION,
        &n,
        &config,
        &count_tokens,
        &mut NoEmbedder,
    );
    assert!(
        block.text.contains("Ingrid"),
        "memory block:\n{}",
        block.text
    );
    assert!(block
        .items
        .iter()
        .any(|i| i.source == MemorySource::Message { id: "m10".into() }));
    assert!(block
        .text
        .contains("- Sam: By the way, my sister's name is Ingrid"));
    assert!(block
        .text
        .contains("Facts to keep:\n- Sam takes tea with honey."));
    assert!(block.text.contains("Story so far: Sam and Rika talked"));
    assert!(block.tokens <= 200, "{} tokens", block.tokens);
    let recount: usize = block
        .text
        .lines()
        .map(|l| count_tokens(l) + count_tokens("\n"))
        .sum();
    assert_eq!(recount, block.tokens, "reported tokens match the text");
    // Recalled messages come from outside the window only.
    for item in &block.items {
        if let MemorySource::Message { id } = &item.source {
            assert!(chat.position(id).unwrap() < start);
        }
    }

    // The control: without the fact nothing mentions Ingrid.
    let control = synthetic_chat(2000, 42, false);
    let block = assemble_memory(
        &control,
        start,
        QUESTION,
        &n,
        &config,
        &count_tokens,
        &mut NoEmbedder,
    );
    assert!(!block.text.contains("Ingrid"));
}

#[test]
fn memory_block_respects_tight_budgets() {
    let chat = synthetic_chat(400, 3, true);
    let n = names();
    for budget in [0, 3, 10, 25, 60] {
        let config = MemoryConfig {
            budget_tokens: budget,
            ..MemoryConfig::default()
        };
        let block = assemble_memory(
            &chat,
            300,
            QUESTION,
            &n,
            &config,
            &count_tokens,
            &mut NoEmbedder,
        );
        assert!(
            block.tokens <= budget,
            "budget {budget}: {} tokens",
            block.tokens
        );
        if budget < 10 {
            assert!(block.is_empty());
        }
    }
    let config = MemoryConfig {
        budget_tokens: 60,
        max_recalled: 1,
        ..MemoryConfig::default()
    };
    let block = assemble_memory(
        &chat,
        300,
        QUESTION,
        &n,
        &config,
        &count_tokens,
        &mut NoEmbedder,
    );
    assert_eq!(block.items.len(), 1);
    assert!(block.text.contains("Ingrid"));
}

#[test]
fn long_summary_is_cut_from_the_oldest_words() {
    let mut chat = synthetic_chat(60, 5, false);
    let long: String = (1..=100)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    roll_summaries(
        &mut chat,
        40,
        &names(),
        &SummaryConfig {
            max_messages_per_call: 100,
            ..SummaryConfig::default()
        },
        &mut |_p: &str| -> Result<String, String> { Ok(long.clone()) },
        0,
    )
    .unwrap();
    let config = MemoryConfig {
        budget_tokens: 50,
        summary_share: 0.5,
        ..MemoryConfig::default()
    };
    let block = assemble_memory(
        &chat,
        40,
        "nothing matches zzz",
        &names(),
        &config,
        &count_tokens,
        &mut NoEmbedder,
    );
    let line = block
        .text
        .lines()
        .find(|l| l.starts_with("Story so far:"))
        .expect("summary line");
    assert!(line.ends_with("w100"), "{line}");
    assert!(line.contains("… "));
    assert!(!line.contains(" w1 "));
    assert!(block.tokens <= 50);
}

/// An embedder that knows "sibling" relates to sisters.
struct Toy;
impl Embedder for Toy {
    fn embed(&mut self, text: &str) -> Option<Vec<f32>> {
        let t = text.to_lowercase();
        Some(vec![
            if t.contains("sister") || t.contains("sibling") {
                1.0
            } else {
                0.0
            },
            0.1,
        ])
    }
}

#[test]
fn embedding_hook_blends_into_the_ranking() {
    let chat = synthetic_chat(400, 3, true);
    let n = names();
    let config = MemoryConfig {
        budget_tokens: 200,
        max_recalled: 3,
        ..MemoryConfig::default()
    };
    let query = "Tell me about your sibling";
    let plain = assemble_memory(
        &chat,
        300,
        query,
        &n,
        &config,
        &count_tokens,
        &mut NoEmbedder,
    );
    assert!(
        !plain.text.contains("Ingrid"),
        "no shared word, BM25 alone misses it"
    );
    let blended = assemble_memory(&chat, 300, query, &n, &config, &count_tokens, &mut Toy);
    assert!(blended.text.contains("Ingrid"), "{}", blended.text);
}

#[test]
fn an_answer_that_repeats_the_instruction_is_no_summary() {
    let mut chat = Chat::new("c", 0).unwrap();
    chat.append(Author::User, "Hello there.", 1).unwrap();
    let span: Vec<_> = chat.messages.iter().collect();
    let prompt = summary_prompt(None, &span, &names(), &SummaryConfig::default());
    // What a small base model wrote back in the app (the instruction, reworded a little).
    let echo = "You keep the memory of a long role-play chat. Write a short summary of the story so far, \
                in the past tense and third person. Use at most 32 words. Reply";
    assert!(echoes_instruction(echo));
    assert!(echoes_instruction(&prompt));
    assert!(!echoes_instruction("Sam greeted Rika at the harbour; she promised to show him the lighthouse."));
}

#[test]
fn extractive_summary_keeps_first_sentences_and_the_newest_within_budget() {
    let mut chat = Chat::new("c", 0).unwrap();
    chat.append(Author::User, "My sister Zelinda keeps bees. She lives on the roof!", 1).unwrap();
    chat.append(Author::character(CHARACTER_ID), "Bees? How lovely. Tell me more.", 2).unwrap();
    let span: Vec<_> = chat.messages.iter().collect();
    let s = extractive_summary(Some("Sam arrived in town."), &span, &names(), 200);
    assert_eq!(s, "Sam arrived in town.\nSam: My sister Zelinda keeps bees.\nRika: Bees?");
    // A tight budget keeps the newest lines whole.
    assert_eq!(extractive_summary(Some("Sam arrived in town."), &span, &names(), 8), "Sam: My sister Zelinda keeps bees.\nRika: Bees?");
    // Smaller than the newest line: its first words.
    assert_eq!(extractive_summary(None, &span, &names(), 1), "Rika:");
    assert_eq!(extractive_summary(None, &[], &names(), 50), "");
}
