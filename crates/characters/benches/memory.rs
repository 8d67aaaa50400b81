//! Time to assemble the memory block for the prompt of message 2,000 of a
//! synthetic chat (target: under 50 ms). Run with
//! `cargo bench -p kindred-characters --bench memory`.

#[path = "../tests/chat_support/mod.rs"]
mod chat_support;

use std::time::{Duration, Instant};

use chat_support::{count_tokens, synthetic_chat, CHARACTER_ID, QUESTION};
use kindred_characters::chat::memory::{
    assemble_memory, roll_summaries, window_start, MemoryConfig, NoEmbedder, PinnedBy,
    SummaryConfig,
};
use kindred_characters::chat::Names;

const TARGET: Duration = Duration::from_millis(50);
const RUNS: usize = 50;

fn main() {
    let names = Names::new("Sam").with_character(CHARACTER_ID, "Rika");
    let mut chat = synthetic_chat(2_000, 42, true);
    let start = window_start(&chat.messages, &names, 1_500, &count_tokens);
    let summarise = &mut |_p: &str| -> Result<String, String> {
        Ok("Sam and Rika talked about the harbour.".into())
    };
    if let Err(e) = roll_summaries(
        &mut chat,
        start,
        &names,
        &SummaryConfig::default(),
        summarise,
        0,
    ) {
        eprintln!("summaries failed: {e}");
        std::process::exit(1);
    }
    for i in 0..20 {
        let _ = chat.pin(
            &format!("Pinned fact number {i} about the lighthouse."),
            None,
            PinnedBy::User,
            0,
        );
    }
    let config = MemoryConfig {
        budget_tokens: 300,
        ..MemoryConfig::default()
    };

    let mut times = Vec::with_capacity(RUNS);
    let mut block = Default::default();
    for _ in 0..RUNS {
        let t = Instant::now();
        // What a turn does: find the window, then build the block.
        let ws = window_start(&chat.messages, &names, 1_500, &count_tokens);
        block = assemble_memory(
            &chat,
            ws,
            QUESTION,
            &names,
            &config,
            &count_tokens,
            &mut NoEmbedder,
        );
        times.push(t.elapsed());
    }
    times.sort();
    let median = times[RUNS / 2];
    let block: kindred_characters::chat::memory::MemoryBlock = block;
    println!(
        "memory block, 2,000 messages ({} before the window, {} summaries, 20 pins)",
        start,
        chat.memory.summaries.len()
    );
    println!(
        "  runs: {RUNS}  min {:.2} ms  median {:.2} ms  max {:.2} ms",
        ms(times[0]),
        ms(median),
        ms(times[RUNS - 1])
    );
    println!(
        "  block: {} items, {} tokens, recalls Ingrid: {}",
        block.items.len(),
        block.tokens,
        block.text.contains("Ingrid")
    );
    println!(
        "  target {} ms: {}",
        TARGET.as_millis(),
        if median < TARGET { "met" } else { "MISSED" }
    );
    println!("---\n{}---", block.text);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}
