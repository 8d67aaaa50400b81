//! `kindred card …`: inspect and convert character cards.
//!
//! ```text
//! kindred card show FILE                      print the card as pretty V3 JSON
//! kindred card convert IN OUT [--spec v2|v3]  convert; OUT's extension picks the
//!                                             format (.json, .png, .charx)
//! ```
//!
//! Reading and writing are the library's; this module only touches files.

use kindred_characters::card::{self, CardSpec, Format};

const USAGE: &str = "usage:\n  kindred card show FILE\n  kindred card convert IN OUT [--spec v2|v3]\n\
                     OUT's extension picks the format: .json, .png or .charx; --spec picks the JSON version (default v3)";

/// Runs a `card` subcommand. `args` are the words after `card` (a leading
/// `card` is skipped as well, so the full argument list works too).
pub fn run(args: &[String]) -> Result<(), String> {
    let args = match args.split_first() {
        Some((first, rest)) if first == "card" => rest,
        _ => args,
    };
    match args.split_first() {
        Some((cmd, [file])) if cmd == "show" => show(file),
        Some((cmd, rest)) if cmd == "convert" => {
            let (paths, spec) = parse_convert(rest)?;
            match paths.as_slice() {
                [input, output] => convert(input, output, spec),
                _ => Err(USAGE.to_string()),
            }
        }
        _ => Err(USAGE.to_string()),
    }
}

fn parse_convert(args: &[String]) -> Result<(Vec<&String>, CardSpec), String> {
    let mut spec = CardSpec::V3;
    let mut paths = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = if arg == "--spec" {
            Some(
                it.next()
                    .ok_or_else(|| "--spec needs a value: v2 or v3".to_string())?
                    .as_str(),
            )
        } else {
            arg.strip_prefix("--spec=")
        };
        match value {
            Some(v) => spec = parse_spec(v)?,
            None => paths.push(arg),
        }
    }
    Ok((paths, spec))
}

fn parse_spec(v: &str) -> Result<CardSpec, String> {
    match v.to_ascii_lowercase().as_str() {
        "v2" | "2" => Ok(CardSpec::V2),
        "v3" | "3" => Ok(CardSpec::V3),
        other => Err(format!("unknown --spec {other:?}: use v2 or v3")),
    }
}

fn read(path: &str) -> Result<card::ImportedCard, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    card::read_any(&bytes).map_err(|e| format!("{path}: {e}"))
}

fn show(path: &str) -> Result<(), String> {
    let imported = read(path)?;
    let json = card::to_json(&imported.card, CardSpec::V3).map_err(|e| e.to_string())?;
    println!("{}", String::from_utf8_lossy(&json));
    Ok(())
}

fn convert(input: &str, output: &str, spec: CardSpec) -> Result<(), String> {
    let format = Format::from_extension(output)
        .ok_or_else(|| format!("{output}: unknown extension; use .json, .png or .charx"))?;
    let imported = read(input)?;
    let bytes = card::write_as(&imported.card, imported.avatar.as_deref(), format, spec)
        .map_err(|e| format!("{output}: {e}"))?;
    std::fs::write(output, bytes).map_err(|e| format!("{output}: {e}"))
}
