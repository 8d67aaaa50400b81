//! A whole model file from arbitrary bytes (header, tensor table, metadata, hyperparameters, weights, tokenizer, template), then a short prompt.
//! The body is `kindred_engine::fuzz::model_file`, which the regression tests replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kindred_engine::fuzz::model_file(data));
