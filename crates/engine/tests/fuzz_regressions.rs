//! The fuzz targets' bodies (`kindred_engine::fuzz`) in the ordinary test
//! run: every input the fuzzer found a crash with, kept under
//! `crates/engine/fuzz/regressions/TARGET/`, replayed; and the seed shapes
//! (a minute model per architecture) going the whole way through, so a
//! body that stopped reaching generation would show here.

use std::fs;
use std::path::Path;

use kindred_engine::fuzz;
use kindred_engine::models::hparams::ARCHITECTURES;
use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::{GenerateOptions, Session};

#[test]
fn kept_crash_inputs_no_longer_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let bodies: [(&str, fn(&[u8])); 6] = [
        ("gguf_file", fuzz::model_file),
        ("gguf_header", fuzz::header),
        ("chat_template", fuzz::chat_template),
        ("tokenizer", fuzz::tokenizer),
        ("json_schema", fuzz::json_schema),
        ("lora_adapter", fuzz::lora_adapter),
    ];
    for (target, body) in bodies {
        let Ok(dir) = fs::read_dir(root.join(target)) else { continue };
        for entry in dir {
            let path = entry.unwrap().path();
            eprintln!("replaying {}", path.display());
            body(&fs::read(&path).unwrap());
        }
    }
}

/// The first crash found (gguf_header, 2026-12-07): a tensor whose byte
/// size overflowed its multiplication: a panic with overflow checks, and
/// without them (release builds, the page) a size wrapped to 4,096 bytes
/// that a file of that length would have passed, for a tensor of far more.
#[test]
fn a_tensor_whose_byte_size_overflows_is_refused() {
    let input = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/gguf_header/tensor-bytes-overflow")).unwrap();
    let e = kindred_engine::models::header_check::check_header(&input[1..], input.len() - 1).unwrap_err().to_string();
    assert!(e.contains("impossible shape"), "{e}");
}

#[test]
fn seed_models_load_and_generate_through_the_fuzz_body() {
    for arch in ARCHITECTURES {
        for weights in [QType::F32, QType::Q8_0] {
            let file = synthetic::write(&Spec::micro(arch, weights)).unwrap();
            // What the body reaches: a load, a prompt, a sampled token.
            let mut s = Session::load(file.clone()).unwrap_or_else(|e| panic!("{arch} {weights:?}: {e}"));
            s.set_context(32);
            let prompt = s.encode_prompt("Hello there, friend.").unwrap();
            s.start(&prompt[..prompt.len().min(8)], GenerateOptions { max_tokens: 2, ..Default::default() }).unwrap();
            let step = s.next().unwrap();
            assert!(step.token.is_some() || step.stop_reason.is_some(), "{arch}: a sampled token or an end");
            fuzz::model_file(&file);
            fuzz::header(&[&[200u8][..], &file].concat());
            fuzz::tokenizer(&[&[5u8][..], b"Hello", &file].concat());
        }
    }
}

/// The lora_adapter target's seeds are adapters its minute model takes, so
/// the fuzzer starts from inputs that reach generation.
#[test]
fn the_adapter_seeds_are_taken() {
    let spec = Spec::micro("qwen3", QType::Q8_0);
    let micro = kindred_engine::Gguf::from_bytes(synthetic::write(&spec).unwrap()).unwrap();
    let mut s = Session::load(synthetic::write(&spec).unwrap()).unwrap();
    for rank in [1, 4] {
        let adapter = synthetic::write_adapter(&micro, rank, 8.0, 3).unwrap();
        s.set_adapter(Some((adapter.clone(), 1.0))).unwrap_or_else(|e| panic!("rank {rank}: {e}"));
        assert!(s.start(&[3, 4, 5], GenerateOptions { max_tokens: 1, ..Default::default() }).is_ok());
        fuzz::lora_adapter(&adapter);
    }
}
