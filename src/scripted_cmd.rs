//! `kindred scripted-model`: writes the scripted model (see the engine's
//! `scripted.rs`) with a real file's tokenizer, for the browser tests that
//! are about the page, or to try the page without waiting on a real model;
//! `--say SENTENCE` makes one that answers that sentence and nothing else.

use kindred_engine::{scripted, Gguf};

pub fn run(argv: &[String]) -> Result<(), String> {
    let a = crate::args::Args::parse(argv, &[])?;
    let (Some(from), Some(out)) = (a.get("tokenizer-from"), a.get("out")) else {
        return Err("kindred scripted-model --tokenizer-from MODEL.gguf --out FILE.gguf [--say SENTENCE]".into());
    };
    let bytes = std::fs::read(from).map_err(|e| format!("{from}: {e}"))?;
    let source = Gguf::from_bytes(bytes).map_err(|e| format!("{from}: {e}"))?;
    let model = match a.get("say") {
        // A leading space: the sentence is a reply's first words, as the script's are.
        Some(said) => scripted::write_script(&source, &[&format!(" {}", said.trim())], true),
        None => scripted::write(&source),
    };
    let model = model.map_err(|e| format!("{from}: {e}"))?;
    std::fs::write(out, &model).map_err(|e| format!("{out}: {e}"))?;
    println!("{out}: the scripted model with {from}'s tokenizer, {} bytes", model.len());
    Ok(())
}
