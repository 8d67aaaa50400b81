//! A tokenizer from a file's metadata, encoding and decoding arbitrary text.
//! The body is `kindred_engine::fuzz::tokenizer`, which the regression tests replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kindred_engine::fuzz::tokenizer(data));
