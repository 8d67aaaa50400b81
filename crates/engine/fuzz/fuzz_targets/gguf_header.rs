//! A download's first bytes checked before the rest arrives.
//! The body is `kindred_engine::fuzz::header`, which the regression tests replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kindred_engine::fuzz::header(data));
