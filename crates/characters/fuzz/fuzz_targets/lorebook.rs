//! A lorebook file (SillyTavern World Info or a card's book) from arbitrary
//! text, scanned over the chat after its first NUL for three turns with the
//! timed state carried: keys, regexes and decorators from hostile text end,
//! and no panic.
#![no_main]

use kindred_characters::lorebook::{read_lorebook_json, scan, Lorebook, ScanContext, ScanSettings, TimedState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (book_text, chat) = text.split_once('\0').unwrap_or((&text, "Hello there, the old mill is on fire."));
    let Ok((book, _)) = read_lorebook_json(book_text) else { return };
    let books = [Lorebook::from_book(&book, "fuzz")];
    let messages: Vec<&str> = chat.lines().take(8).collect();
    let settings = ScanSettings { recursive: true, ..Default::default() };
    let mut state = TimedState::default();
    for turn in 0..3u32 {
        let ctx = ScanContext { chat_length: u64::from(turn), character_turns: turn, greeting_index: Some(0), context_full: false };
        state = scan(&books, &messages, &ctx, &settings, &state, &|s: &str| s.len() / 4).state;
    }
});
