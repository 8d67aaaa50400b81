//! Card JSON from arbitrary bytes: an error is fine, a panic is a bug. A card
//! that reads must also write and read back to the same card.
#![no_main]

use kindred_characters::card::{self, CardSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(got) = card::read_json(data) {
        if let Ok(v3) = card::to_json(&got.card, CardSpec::V3) {
            let again = card::read_json(&v3).expect("written V3 reads back");
            assert_eq!(again.card, got.card);
        }
    }
});
