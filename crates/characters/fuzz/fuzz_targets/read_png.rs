//! PNG cards from arbitrary bytes; a card that reads is written back into its
//! own avatar and must read again.
#![no_main]

use kindred_characters::{card, png};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(got) = png::read_png(data) {
        if let Ok(written) = png::write_png(&got.card, got.avatar.as_deref()) {
            card::read_any(&written).expect("written PNG reads back");
        }
    }
});
