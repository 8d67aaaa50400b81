//! A hostile chat template and messages: rendering ends, bounded.
//! The body is `kindred_engine::fuzz::chat_template`, which the regression tests replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kindred_engine::fuzz::chat_template(data));
