//! A LoRA adapter file put on a minute model: taken or refused, never a panic.
//! The body is `kindred_engine::fuzz::lora_adapter`, which the regression tests replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kindred_engine::fuzz::lora_adapter(data));
