//! LoRA adapters on and off a session: the adapted model answers otherwise,
//! taking the adapter off gives the base model's logits back, stored
//! prefixes of one are not used for the other, and a file that is no
//! adapter of this model is refused with the model left as it was.

use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::{GenerateOptions, SamplerOptions, Session};

/// A rank-8 adapter of `spec`'s model.
fn adapter(spec: &Spec) -> kindred_engine::Result<Vec<u8>> {
    synthetic::write_adapter(&kindred_engine::Gguf::from_bytes(synthetic::write(spec)?)?, 8, 16.0, 9)
}

fn greedy() -> GenerateOptions {
    GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 1, ..Default::default() }
}

fn logits(s: &mut Session, ids: &[u32]) -> Vec<f32> {
    s.start(ids, greedy()).unwrap();
    s.logits().unwrap().to_vec()
}

#[test]
fn an_adapter_goes_on_and_off_and_keeps_its_own_prefixes() {
    let spec = Spec::tiny("qwen3", QType::Q8_0);
    let mut s = Session::load(synthetic::write(&spec).unwrap()).unwrap();
    let ids: Vec<u32> = (0..20).map(|i| 5 + i * 7).collect();
    let base = logits(&mut s, &ids);
    let stored = s.save_prefix(16);

    s.set_adapter(Some((adapter(&spec).unwrap(), 1.0))).unwrap();
    assert_eq!(s.cached_tokens().len(), 0, "the cache is read again");
    assert!(s.restore_prefix(&stored).is_err(), "the base model's stored prefix is not the adapted model's");
    let adapted = logits(&mut s, &ids);
    let moved = base.iter().zip(&adapted).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(moved > 0.1, "the adapter changes the reply: {moved}");
    let adapted_prefix = s.save_prefix(16);
    // Scale 0 adds nothing.
    s.set_adapter(Some((adapter(&spec).unwrap(), 0.0))).unwrap();
    assert_eq!(logits(&mut s, &ids), base);
    s.set_adapter(None).unwrap();
    assert!(s.restore_prefix(&adapted_prefix).is_err(), "an adapted model's prefix is not the base model's");
    assert_eq!(s.restore_prefix(&stored).unwrap(), 16);
    assert_eq!(logits(&mut s, &ids), base, "off again: the base model");
}

#[test]
fn a_file_that_is_no_adapter_of_this_model_is_refused() {
    let spec = Spec::tiny("qwen3", QType::Q8_0);
    let mut s = Session::load(synthetic::write(&spec).unwrap()).unwrap();
    let ids: Vec<u32> = (0..12).map(|i| 5 + i * 7).collect();
    let before = logits(&mut s, &ids);
    let refuse = |s: &mut Session, bytes: Vec<u8>, why: &str| {
        let e = s.set_adapter(Some((bytes, 1.0))).expect_err(why).to_string();
        assert!(e.contains(why), "{e}");
    };
    refuse(&mut s, synthetic::write(&spec).unwrap(), "not a LoRA adapter");
    refuse(&mut s, adapter(&Spec::tiny("llama", QType::Q8_0)).unwrap(), "made for llama");
    let wider = Spec { ffn: 1024, ..spec.clone() };
    refuse(&mut s, adapter(&wider).unwrap(), "do not fit");
    assert!(s.set_adapter(Some((b"GGUF".to_vec(), 1.0))).is_err(), "a cut file");
    assert!(s.set_adapter(Some((adapter(&spec).unwrap(), f32::NAN))).is_err(), "a scale that is no number");
    assert_eq!(logits(&mut s, &ids), before, "the model is as it was");
}
