//! Writes the engine's fuzz targets' seed inputs into DIR/TARGET/ (run by
//! `scripts/fuzz.sh`): a minute model file per architecture (both vocabulary
//! kinds, float and quantized weights), the same behind the byte each
//! target reads first, and the chat templates of the model files named
//! after DIR plus the built-in shapes.
//!
//!     cargo run --release -p kindred-engine --example fuzz_seeds -- DIR [MODEL.gguf ...]

use std::fs;
use std::path::Path;

use kindred_engine::models::hparams::ARCHITECTURES;
use kindred_engine::quant::QType;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::Gguf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: fuzz_seeds DIR [MODEL.gguf ...]")?;
    let dir = Path::new(&dir);
    for target in ["gguf_file", "gguf_header", "tokenizer", "chat_template", "json_schema", "lora_adapter"] {
        fs::create_dir_all(dir.join(target))?;
    }
    for (i, arch) in ARCHITECTURES.iter().enumerate() {
        let weights = if i % 2 == 0 { QType::F32 } else { QType::Q8_0 };
        let file = synthetic::write(&Spec::micro(arch, weights))?;
        fs::write(dir.join("gguf_file").join(format!("{arch}.gguf")), &file)?;
        fs::write(dir.join("gguf_header").join(arch), [&[128u8][..], &file].concat())?;
        let text = "Hello, wörld! 12 <|im_end|>";
        fs::write(dir.join("tokenizer").join(arch), [&[text.len() as u8][..], text.as_bytes(), &file].concat())?;
    }
    // Adapters of the minute qwen3 model the target puts them on, at two ranks.
    let micro = Gguf::from_bytes(synthetic::write(&Spec::micro("qwen3", QType::Q8_0))?)?;
    for rank in [1, 4] {
        fs::write(dir.join("lora_adapter").join(format!("rank{rank}.gguf")), synthetic::write_adapter(&micro, rank, 8.0, 3)?)?;
    }
    let chat = "\0You are Wren.\0Hi!\0Hello there.\0How are you?";
    let mut templates = vec![
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}".to_string(),
        "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content | trim }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}".to_string(),
        "{%- set today = strftime_now(\"%d %B %Y\") -%}{{ today }}{% for m in messages %}{{ raise_exception('no') if m.role == 'tool' }}{{ m.content }}{% endfor %}".to_string(),
    ];
    for model in args {
        let bytes = fs::read(&model)?;
        let g = Gguf::from_bytes(bytes)?;
        if let Ok(t) = g.get_str("tokenizer.chat_template") {
            templates.push(t);
        }
    }
    for (i, t) in templates.iter().enumerate() {
        fs::write(dir.join("chat_template").join(format!("{i}")), format!("{t}{chat}"))?;
    }
    let schemas = [
        (r#"{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},"required":["name"]}"#, r#"{"name": "Wren", "age": 31, "tags": ["a"]}"#),
        (r#"{"type":"array","items":{"type":["number","null","boolean"]},"minItems":1}"#, "[1.5e3, null, true]"),
        (r##"{"$defs":{"p":{"type":"object","additionalProperties":{"type":"string","minLength":1}}},"$ref":"#/$defs/p"}"##, r#"{"k": "v\u00e9"}"#),
        (r#"{"enum":[1,10,"x",{"a":[1]}]}"#, "10"),
    ];
    for (i, (schema, text)) in schemas.iter().enumerate() {
        fs::write(dir.join("json_schema").join(format!("{i}")), format!("{schema}\0{text}"))?;
    }
    println!("seeds in {}", dir.display());
    Ok(())
}
