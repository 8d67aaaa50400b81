//! The llama/qwen2 path on a real instruct model (Qwen2.5-Coder 1.5B
//! Q4_K_M), when it has been fetched: its own Jinja chat template, and an
//! answer a person can check.

mod common;

use kindred_engine::{ChatMessage, GenerateOptions, SamplerOptions, Session};

#[test]
fn qwen_answers_with_its_own_chat_template() {
    let Some(bytes) = common::qwen_bytes() else { return };
    let mut s = Session::load(bytes).unwrap();
    assert_eq!(s.model.config().architecture, "qwen2");
    assert_eq!(s.template.name(), "jinja");
    let prompt = s.render_chat(&[ChatMessage::new("user", "What is 2+2? Answer with one number.")]).unwrap();
    assert!(prompt.starts_with("<|im_start|>system\n"), "Qwen's template adds its default system turn: {prompt}");
    assert!(prompt.ends_with("<|im_start|>user\nWhat is 2+2? Answer with one number.<|im_end|>\n<|im_start|>assistant\n"), "{prompt}");
    let ids = s.encode_prompt(&prompt).unwrap();
    let opts = GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 8, stop: vec![], context_shift: false, json_schema: None };
    let out = s.generate(&ids, opts, |_| true).unwrap();
    assert!(out.text.contains('4'), "reply: {:?}", out.text);
    assert_eq!(out.stop_reason, kindred_engine::StopReason::Eos, "the model ends its turn: {:?}", out.text);
}
