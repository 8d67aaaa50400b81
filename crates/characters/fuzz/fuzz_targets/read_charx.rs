//! CHARX archives from arbitrary bytes: bounded, no panics.
#![no_main]

use kindred_characters::charx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(got) = charx::read_charx(data) {
        let _ = charx::write_charx(&got.card, got.avatar.as_deref());
    }
});
