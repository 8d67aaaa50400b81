//! A JSON Schema from a page and text written against it: compiling ends,
//! an accepted prefix always goes on, a complete value parses.
//! The body is `kindred_engine::fuzz::json_schema`, which the regression tests replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kindred_engine::fuzz::json_schema(data));
