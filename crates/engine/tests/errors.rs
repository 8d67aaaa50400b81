//! Bad files and bad requests are errors with clear messages, never panics.

mod common;

use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::{Error, GenerateOptions, Session};

fn load_err(bytes: Vec<u8>) -> Error {
    match Session::load(bytes) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn not_a_gguf() {
    assert!(matches!(load_err(b"PK\x03\x04 this is a zip".to_vec()), Error::NotGguf(_)));
    assert!(matches!(load_err(Vec::new()), Error::NotGguf(_)));
    assert!(matches!(load_err(b"<!doctype html><html>".to_vec()), Error::NotGguf(_)));
}

#[test]
fn truncated_files() {
    let full = synthetic::write(&Spec::tiny("gemma3", QType::Q5_0)).unwrap();
    for cut in [9, 24, 100, 1000, full.len() / 2, full.len() - 1] {
        let e = load_err(full[..cut].to_vec());
        assert!(matches!(e, Error::Corrupt(_)), "cut at {cut}: {e}");
    }
}

/// A file's template that cannot render a chat (here: one that raises,
/// one that never ends) refuses the model at load and from the header of a
/// download, naming the template, instead of failing every reply.
#[test]
fn a_template_that_cannot_render_refuses_the_model() {
    for (source, says) in [
        ("{{ raise_exception('Only user and assistant roles are supported!') }}", "Only user and assistant roles"),
        ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "runs too long"),
        ("{% for m in messages %}{{ m.content }", "syntax error"),
    ] {
        let spec = Spec { chat_template: Some(source.into()), ..Spec::tiny("qwen3", QType::Q8_0) };
        let file = synthetic::write(&spec).unwrap();
        let e = load_err(file.clone()).to_string();
        assert!(e.contains("template cannot render a chat") && e.contains(says), "{e}");
        let e = kindred_engine::models::header_check::check_header(&file, file.len()).unwrap_err().to_string();
        assert!(e.contains("template cannot render a chat") && e.contains(says), "{e}");
    }
    let fine = Spec { chat_template: Some("{% for m in messages %}{{ m.content }}{% endfor %}".into()), ..Spec::tiny("qwen3", QType::Q8_0) };
    assert!(Session::load(synthetic::write(&fine).unwrap()).is_ok());
}

#[test]
fn truncated_real_model_names_the_problem() {
    let mut b = common::gemma_bytes();
    b.truncate(b.len() - 1000);
    let msg = load_err(b).to_string();
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn corrupted_header_bytes_never_panic() {
    let full = synthetic::write(&Spec::tiny("llama", QType::Q4K)).unwrap();
    let mut rng = kindred_engine::sampler::Rng::new(5);
    for _ in 0..300 {
        let mut b = full.clone();
        for _ in 0..4 {
            let i = 8 + (rng.next_u64() as usize) % 4000.min(b.len() - 8);
            b[i] = rng.next_u64() as u8;
        }
        // Ok (a harmless flip) or Err, but never a panic.
        let _ = Session::load(b);
    }
}

/// Metadata that would cost far more memory than the file's size: nine
/// million one-byte array items (32-byte values each, 288 MB from a 9 MB
/// file) are refused before they are read.
#[test]
fn metadata_too_many_values_is_refused() {
    let n: u64 = 9 << 20;
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes()); // tensors
    b.extend(1u64.to_le_bytes()); // key-value pairs
    b.extend(5u64.to_le_bytes());
    b.extend(b"bytes");
    b.extend(9u32.to_le_bytes()); // an array
    b.extend(0u32.to_le_bytes()); // of u8
    b.extend(n.to_le_bytes());
    b.resize(b.len() + n as usize, 7);
    let msg = load_err(b).to_string();
    assert!(msg.contains("metadata values"), "{msg}");
}

#[test]
fn unsupported_architecture() {
    let mut b = synthetic::write(&Spec::tiny("gemma3", QType::Q8_0)).unwrap();
    // Same length, so every offset stays valid.
    let needle = b"gemma3";
    let mut i = 0;
    while let Some(p) = b[i..].windows(needle.len()).position(|w| w == needle) {
        b[i + p..i + p + needle.len()].copy_from_slice(b"mamba9");
        i += p + needle.len();
    }
    let msg = load_err(b).to_string();
    assert!(msg.contains("unsupported architecture `mamba9`"), "{msg}");
}

/// A tensor of a type the engine lacks (IQ2_XXS, ggml type 16, written
/// over one tensor's entry in the table) is named with its type when the
/// model needs it.
#[test]
fn unsupported_tensor_type_names_the_tensor() {
    let mut b = synthetic::write(&Spec::tiny("llama", QType::Q8_0)).unwrap();
    let name = b"blk.1.ffn_up.weight";
    let at = b.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    // The entry: name, n_dims (u32), n_dims u64 dims, then the type (u32).
    let n_dims = u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let ty = at + 4 + 8 * n_dims;
    assert_eq!(u32::from_le_bytes(b[ty..ty + 4].try_into().unwrap()), QType::Q8_0.ggml_id());
    b[ty..ty + 4].copy_from_slice(&16u32.to_le_bytes());
    let e = load_err(b);
    let msg = e.to_string();
    assert!(matches!(e, Error::UnsupportedTensorType { .. }), "{msg}");
    assert!(msg.contains("blk.1.ffn_up.weight") && msg.contains("IQ2_XXS") && msg.contains("Q4_1"), "{msg}");
}

#[test]
fn prompt_longer_than_the_context() {
    let mut s = Session::load(synthetic::write(&Spec::tiny("qwen2", QType::Q8_0)).unwrap()).unwrap();
    s.set_context(16);
    let ids: Vec<u32> = (0..40).map(|i| 10 + i).collect();
    match s.start(&ids, GenerateOptions::default()) {
        Err(Error::PromptTooLong { tokens: 40, context: 16 }) => {}
        other => panic!("expected PromptTooLong, got {:?}", other.err()),
    }
    assert!(s.start(&[5_000_000], GenerateOptions::default()).is_err(), "token outside the vocabulary");
}

#[test]
fn bad_options_are_rejected() {
    let mut s = Session::load(synthetic::write(&Spec::tiny("llama", QType::Q8_0)).unwrap()).unwrap();
    let mut o = GenerateOptions::default();
    o.sampler.temperature = -1.0;
    assert!(matches!(s.start(&[5, 6], o), Err(Error::InvalidOption(_))));
    assert!(matches!(s.next(), Err(Error::NotStarted)));
}

/// The first bytes of a download decide: nothing until the header is in,
/// then the architecture and layers of a file the engine runs, or the error
/// the whole file would give (architecture, weight type, not a GGUF).
#[test]
fn a_header_alone_says_whether_the_file_runs() {
    use kindred_engine::models::header_check::check_header;
    let file = synthetic::write(&Spec::tiny("qwen3", QType::Q8_0)).unwrap();
    let mut first = None;
    for n in (0..file.len()).step_by(512) {
        if let Some(c) = check_header(&file[..n], file.len()).unwrap() {
            first = Some((n, c));
            break;
        }
    }
    let (n, c) = first.expect("the header is read before the file ends");
    assert!(n < file.len() / 4, "decided after {n} of {} bytes", file.len());
    assert_eq!((c.config.architecture.as_str(), c.config.n_layers), ("qwen3", 2));
    assert!(c.weight_bytes > 0 && c.weight_bytes < file.len());

    let mut other = file.clone();
    let needle = b"qwen3";
    let mut i = 0;
    while let Some(p) = other[i..].windows(needle.len()).position(|w| w == needle) {
        other[i + p..i + p + needle.len()].copy_from_slice(b"mamb9");
        i += p + needle.len();
    }
    let e = check_header(&other[..n], file.len()).unwrap_err();
    assert!(e.to_string().contains("unsupported architecture `mamb9`"), "{e}");

    let mut odd = file.clone();
    let name = b"blk.0.attn_k.weight";
    let at = odd.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    let ty = at + 4 + 8 * u32::from_le_bytes(odd[at..at + 4].try_into().unwrap()) as usize;
    odd[ty..ty + 4].copy_from_slice(&16u32.to_le_bytes());
    let e = check_header(&odd[..n], file.len()).unwrap_err();
    assert!(matches!(e, Error::UnsupportedTensorType { .. }) && e.to_string().contains("IQ2_XXS"), "{e}");

    assert!(matches!(check_header(b"<!doctype html>", 1 << 20), Err(Error::NotGguf(_))));
    // A file that ends inside its header is an error once all of it is in.
    assert!(check_header(&file[..n / 2], n / 2).is_err());
    // A tensor past the end of the file's stated length.
    assert!(check_header(&file[..n], file.len() / 2).is_err());
}
