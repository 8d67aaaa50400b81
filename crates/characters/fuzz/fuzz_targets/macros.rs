//! Macro expansion of arbitrary text: no panics, growth within the cap.
#![no_main]

use kindred_characters::macros::{expand, split_examples, MacroContext, MAX_GROWTH};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let seed = data
        .iter()
        .take(8)
        .fold(0u64, |h, &b| h << 8 | u64::from(b));
    let text = String::from_utf8_lossy(data);
    let ctx = MacroContext {
        char_name: "{{user}}",
        user_name: "<BOT>",
        chat_seed: seed,
        seed: !seed,
    };
    let out = expand(&text, &ctx);
    assert!(out.len() <= text.len() + MAX_GROWTH);
    let _ = split_examples(&text);
});
