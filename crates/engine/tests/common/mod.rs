//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The default model, fetched by the set-up (scripts/fetch-model.py). Tests
/// that need it fail loudly if it is missing: the README's test command
/// always fetches it.
pub fn gemma_path() -> PathBuf {
    repo_root().join("models/gemma-3-270m-q4_k_m.gguf")
}

pub fn gemma_bytes() -> Vec<u8> {
    let p = gemma_path();
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!("{}: {e}. Fetch it with `python3 scripts/fetch-model.py` (the test command does).", p.display())
    })
}

/// The app's default model (an instruct one), fetched by the set-up as Gemma is.
pub fn default_model_bytes() -> Vec<u8> {
    let p = repo_root().join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}. Fetch it with `python3 scripts/fetch-model.py` (the test command does).", p.display()))
}

/// The optional instruct model; tests that need it print why they skip.
pub fn qwen_bytes() -> Option<Vec<u8>> {
    let p = repo_root().join("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(_) => {
            eprintln!(
                "SKIPPED: {} is absent; fetch it with `python3 scripts/fetch-model.py qwen2.5-coder-1.5b-instruct-q4_k_m`",
                p.display()
            );
            None
        }
    }
}

pub fn reference() -> serde_json::Value {
    let p = repo_root().join("../shared/reference/gemma-3-270m-q4_k_m.france.llama_cpp.json");
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).expect("reference JSON parses")
}
