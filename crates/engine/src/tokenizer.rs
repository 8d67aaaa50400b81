//! A `tokenizers` tokenizer built from GGUF metadata alone.
//!
//! - `llama` (SentencePiece BPE with scores, e.g. Gemma): the file has no
//!   merges, so they are derived from the vocabulary: every way to split a
//!   token into two tokens is a merge, ranked by the merged token's score.
//!   That replays SentencePiece's "merge the best-scoring pair" rule.
//!   Spaces become "▁"; unknown characters fall back to byte tokens.
//! - `gpt2` (byte-level BPE with merges, e.g. Qwen2, Llama 3, SmolLM2): the
//!   merges are in the file; the pre-tokenizer regex follows
//!   `tokenizer.ggml.pre`.
//! Control and user-defined tokens become special tokens, so text such as
//! `<start_of_turn>` encodes to its single token, except inside a prompt's
//! plain fences (see `special_text`), where control-token text is ordinary
//! text.

use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::replace::Replace;
use tokenizers::pre_tokenizers::sequence::Sequence as PreSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, DecoderWrapper, NormalizerWrapper, PreTokenizerWrapper, SplitDelimiterBehavior};

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::special_text::{self, SpecialText};

const TYPE_NORMAL: i32 = 1;
const TYPE_CONTROL: i32 = 3;
const TYPE_USER_DEFINED: i32 = 4;
const TYPE_BYTE: i32 = 6;

/// End-of-generation tokens by text, for files that name only their EOS. As
/// llama.cpp does, a token with one of these texts ends a turn and counts as
/// a control token whatever type the file gives it (Qwen2.5's files type
/// `</s>` as a normal token).
const EOG_TEXTS: &[&str] = &[
    "<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<|return|>", "<|call|>", "<|endoftext|>",
    "<|end_of_text|>", "</s>", "<eos>", "<EOT>", "<end_of_utterance>",
];

const QWEN2_RE: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const LLAMA3_RE: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen3.5's: as Qwen2's, with combining marks (\p{M}) kept in a word.
const QWEN35_RE: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const GPT2_RE: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
/// o200k's (Phi-4-mini's "gpt-4o"): cased words keep their case runs and contractions.
const GPT4O_RE: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const SMOLLM_RE: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    pub kind: String,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub add_bos: bool,
    eog: Vec<u32>,
    tokens: Vec<String>,
    breakers: Vec<u32>,
    /// Control-token texts, which text from a person or a card must not use.
    controls: SpecialText,
    /// Control tokens, sorted: they stand for no text.
    control_ids: Vec<u32>,
}

impl Tokenizer {
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let kind = g.get_str("tokenizer.ggml.model")?;
        let tokens = g.get_str_array("tokenizer.ggml.tokens")?;
        let mut types = g.get_i32_array("tokenizer.ggml.token_type").unwrap_or_else(|_| vec![TYPE_NORMAL; tokens.len()]);
        for (t, s) in types.iter_mut().zip(&tokens) {
            if EOG_TEXTS.contains(&s.as_str()) {
                *t = TYPE_CONTROL;
            }
        }
        let bos = g.get_usize("tokenizer.ggml.bos_token_id").ok().map(|v| v as u32);
        let eos = g.get_usize("tokenizer.ggml.eos_token_id").ok().map(|v| v as u32);
        let eot = g.get_usize("tokenizer.ggml.eot_token_id").ok().map(|v| v as u32);
        let tk = |e: tokenizers::Error| Error::Tokenizer(e.to_string());
        let (mut inner, default_bos) = match kind.as_str() {
            "llama" => {
                let scores = g.get_f32_array("tokenizer.ggml.scores")?;
                (spm_tokenizer(&tokens, &scores, &types).map_err(tk)?, true)
            }
            "gpt2" => {
                let merges = g.get_str_array("tokenizer.ggml.merges")?;
                let pre = g.get_str("tokenizer.ggml.pre").unwrap_or_else(|_| "default".into());
                (byte_level_tokenizer(&tokens, &merges, &pre).map_err(tk)?, false)
            }
            other => return Err(Error::Tokenizer(format!("tokenizer model `{other}` is not supported (llama, gpt2)"))),
        };
        let specials: Vec<AddedToken> = tokens
            .iter()
            .zip(&types)
            .filter(|(_, &t)| t == TYPE_CONTROL || t == TYPE_USER_DEFINED)
            .map(|(s, _)| AddedToken::from(s.clone(), true))
            .collect();
        inner.add_special_tokens(specials).map_err(tk)?;
        let controls =
            SpecialText::new(tokens.iter().zip(&types).filter(|(_, &t)| t == TYPE_CONTROL).map(|(s, _)| s.as_str()));
        let add_bos = match g.get("tokenizer.ggml.add_bos_token") {
            Some(candle_core::quantized::gguf_file::Value::Bool(b)) => *b,
            _ => default_bos,
        };
        let mut eog: Vec<u32> = [eos, eot].into_iter().flatten().collect();
        for (i, (s, &t)) in tokens.iter().zip(&types).enumerate() {
            if t == TYPE_CONTROL && EOG_TEXTS.contains(&s.as_str()) && !eog.contains(&(i as u32)) {
                eog.push(i as u32);
            }
        }
        // Where DRY's runs stop: control tokens, line breaks (raw, byte-level
        // `Ċ` or SentencePiece's byte token) and colons, as a name label or a
        // new line starts a new thought, not a repetition.
        let breakers = tokens
            .iter()
            .zip(&types)
            .enumerate()
            .filter(|(_, (s, &t))| t == TYPE_CONTROL || s.contains(['\n', 'Ċ', ':']) || s.as_str() == "<0x0A>")
            .map(|(i, _)| i as u32)
            .chain(eog.iter().copied())
            .collect::<std::collections::BTreeSet<u32>>()
            .into_iter()
            .collect();
        let control_ids = (0..tokens.len() as u32).filter(|&i| types.get(i as usize) == Some(&TYPE_CONTROL)).collect();
        Ok(Tokenizer { inner, kind, bos, eos, add_bos, eog, tokens, controls, breakers, control_ids })
    }

    /// Token ids that end a DRY run (sorted): see `SamplerOptions::dry_multiplier`.
    pub fn breakers(&self) -> &[u32] {
        &self.breakers
    }

    /// Encodes text; special-token text is parsed as the special token,
    /// except control-token text inside plain fences, which stays text.
    pub fn encode(&self, text: &str, with_bos: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        if with_bos && self.add_bos {
            if let Some(b) = self.bos {
                ids.push(b);
            }
        }
        for (run, plain) in special_text::runs(text) {
            let pieces = if plain { self.controls.split_apart(run) } else { vec![run] };
            for piece in pieces {
                let enc = self.inner.encode_fast(piece, false).map_err(|e| Error::Tokenizer(e.to_string()))?;
                ids.extend_from_slice(enc.get_ids());
            }
        }
        Ok(ids)
    }

    /// `text` (from a person or a card) as it may enter a prompt: fenced when
    /// it holds control-token text, so that text cannot act as one.
    pub fn guard(&self, text: &str) -> String {
        self.controls.guard(text)
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| Error::Tokenizer(e.to_string()))
    }

    /// The tokens that end generation (end of text, end of turn).
    pub fn eog(&self) -> &[u32] {
        &self.eog
    }

    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.contains(&id)
    }

    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(|s| s.as_str())
    }

    /// The bytes a token stands for (a piece of UTF-8, possibly cut inside
    /// a character); None for control tokens.
    pub fn piece_bytes(&self, id: u32) -> Option<Vec<u8>> {
        if self.control_ids.binary_search(&id).is_ok() {
            return None;
        }
        let text = self.tokens.get(id as usize)?;
        if self.kind == "gpt2" {
            return text.chars().map(byte_level_byte).collect();
        }
        if let Some(hex) = text.strip_prefix("<0x").and_then(|t| t.strip_suffix('>')) {
            return u8::from_str_radix(hex, 16).ok().map(|b| vec![b]);
        }
        Some(text.replace('\u{2581}', " ").into_bytes())
    }

    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.inner.token_to_id(text)
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }
}

/// Bytes byte-level BPE writes as themselves (GPT-2's table).
fn printable(b: u8) -> bool {
    (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
}

/// GPT-2's printable stand-in for a byte.
pub fn byte_char(b: u8) -> char {
    if printable(b) {
        b as char
    } else {
        // Unprintable bytes map to U+0100 onward, in byte order.
        let rank = (0..b).filter(|&x| !printable(x)).count();
        char::from_u32(256 + rank as u32).unwrap_or('?')
    }
}

/// The byte a byte-level BPE character stands for (`byte_char` undone).
fn byte_level_byte(c: char) -> Option<u8> {
    match u8::try_from(c as u32) {
        Ok(b) if printable(b) => Some(b),
        _ => {
            let rank = (c as u32).checked_sub(256)? as usize;
            (0..=255u8).filter(|&b| !printable(b)).nth(rank)
        }
    }
}

fn spm_tokenizer(tokens: &[String], scores: &[f32], types: &[i32]) -> tokenizers::Result<tokenizers::Tokenizer> {
    let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let mut merges: Vec<(f32, u32, u32, u32)> = Vec::new();
    for (id, piece) in tokens.iter().enumerate() {
        if types.get(id).copied().unwrap_or(TYPE_NORMAL) != TYPE_NORMAL {
            continue;
        }
        for (split, _) in piece.char_indices().skip(1) {
            let (l, r) = piece.split_at(split);
            if let (Some(&li), Some(&ri)) = (vocab.get(l), vocab.get(r)) {
                merges.push((scores.get(id).copied().unwrap_or(0.0), id as u32, li, ri));
            }
        }
    }
    // Best score first; ties in vocabulary order, as SentencePiece breaks them.
    merges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)).then(a.3.cmp(&b.3)));
    let merges: Vec<(String, String)> =
        merges.into_iter().map(|(_, _, l, r)| (tokens[l as usize].clone(), tokens[r as usize].clone())).collect();
    let unk = tokens.iter().position(|t| t == "<unk>").map(|i| tokens[i].clone());
    let has_bytes = types.contains(&TYPE_BYTE);
    let mut builder = BPE::builder().vocab_and_merges(vocab, merges).byte_fallback(has_bytes).fuse_unk(true);
    if let Some(u) = unk {
        builder = builder.unk_token(u);
    }
    let bpe = builder.build()?;
    let mut tok = tokenizers::Tokenizer::new(bpe);
    tok.with_normalizer(Some(NormalizerWrapper::Replace(Replace::new(" ", "▁")?)))?;
    tok.with_decoder(Some(DecoderWrapper::Sequence(DecoderSequence::new(vec![
        DecoderWrapper::Replace(Replace::new("▁", " ")?),
        DecoderWrapper::ByteFallback(ByteFallback::new()),
        DecoderWrapper::Fuse(Fuse::new()),
    ]))));
    Ok(tok)
}

fn byte_level_tokenizer(tokens: &[String], merges: &[String], pre: &str) -> tokenizers::Result<tokenizers::Tokenizer> {
    let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let merges: Vec<(String, String)> = merges
        .iter()
        .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect();
    let bpe = BPE::builder().vocab_and_merges(vocab, merges).build()?;
    let mut tok = tokenizers::Tokenizer::new(bpe);
    let re = match pre {
        "qwen2" | "deepseek-llm" => QWEN2_RE,
        "qwen35" => QWEN35_RE,
        "llama3" | "llama-bpe" | "llama-v3" | "dbrx" | "smaug-bpe" | "lfm2" | "falcon3" | "pixtral" => LLAMA3_RE,
        // llama.cpp splits digits one by one, then as GPT-2, for all of these.
        "smollm" | "refact" | "command-r" | "codeshell" | "exaone" => SMOLLM_RE,
        "gpt-4o" | "llama4" => GPT4O_RE,
        _ => GPT2_RE,
    };
    let split = Split::new(SplitPattern::Regex(re.into()), SplitDelimiterBehavior::Isolated, false)?;
    tok.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(PreSequence::new(vec![
        PreTokenizerWrapper::Split(split),
        PreTokenizerWrapper::ByteLevel(tokenizers::pre_tokenizers::byte_level::ByteLevel::new(false, false, false)),
    ]))));
    tok.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevel::default())));
    Ok(tok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

    /// How `pre` splits `text` before any merge.
    fn pieces(pre: &str, text: &str) -> Vec<String> {
        let bytes: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
        let tok = byte_level_tokenizer(&bytes, &[], pre).unwrap();
        let mut s = PreTokenizedString::from(text);
        tok.get_pre_tokenizer().unwrap().pre_tokenize(&mut s).unwrap();
        s.get_splits(OffsetReferential::Original, OffsetType::Byte).into_iter().map(|(p, _, _)| p.to_string()).collect()
    }

    /// o200k keeps a capitalised word's case run with its lower-case tail
    /// and its contraction, splits camel case, and takes digits in threes;
    /// Qwen2's splits digits one by one and contractions apart.
    #[test]
    fn gpt4o_pre_tokenizer_splits_as_o200k() {
        let text = "HelloWorld DON'T 12345";
        let o200k: Vec<String> = ["Hello", "World", " DON'T", " ", "123", "45"].iter().map(|s| s.replace(' ', "Ġ")).collect();
        assert_eq!(pieces("gpt-4o", text), o200k);
        assert_ne!(pieces("qwen2", text), o200k);
    }

    /// Qwen3.5's keeps a word's combining marks in it (a decomposed "ï",
    /// Devanagari's vowel signs); Qwen2's breaks the word at each.
    #[test]
    fn qwen35_pre_tokenizer_keeps_combining_marks_in_words() {
        let text = "nai\u{308}ve \u{939}\u{93f}\u{928}\u{94d}\u{926}\u{940}";
        let words: Vec<String> = pieces("qwen35", text).iter().map(|p| p.replace('Ġ', " ")).collect();
        assert_eq!(words.len(), 2, "{words:?}");
        assert!(pieces("qwen2", text).len() > 2);
    }
}
