//! Replies kept to JSON (and to a schema): each sampled token must extend
//! what was written into a prefix of a value the schema allows, and the
//! reply ends when the value is complete.
//!
//! The model's own pick is tried first: a model asked for JSON mostly
//! writes valid tokens, and checking one token is cheap. Only when its pick
//! does not fit is every token of the vocabulary checked and the others
//! masked, and the pick made again from the same logits (as llama.cpp's
//! grammar sampler does).

pub mod matcher;
pub mod schema;

use serde_json::Value;

use crate::error::Result;
use crate::sampler::Sampler;
use crate::tokenizer::Tokenizer;
use matcher::Matcher;
use schema::Schema;

/// Each token's bytes, none for control tokens (which JSON never holds).
pub struct TokenPieces(Vec<Option<Box<[u8]>>>);

impl TokenPieces {
    pub fn new(tok: &Tokenizer) -> Self {
        TokenPieces((0..tok.vocab_size() as u32).map(|id| tok.piece_bytes(id).filter(|b| !b.is_empty()).map(Vec::into_boxed_slice)).collect())
    }

    pub fn get(&self, id: u32) -> Option<&[u8]> {
        self.0.get(id as usize).and_then(|p| p.as_deref())
    }
}

pub struct JsonOutput {
    schema: Schema,
    matcher: Matcher,
    scratch: Matcher,
    /// Tokens whose pick did not fit, so the whole vocabulary was checked.
    masked: usize,
}

impl JsonOutput {
    /// `schema`: a JSON Schema (see `schema`), refused with the reason when
    /// it says what this cannot keep to.
    pub fn new(schema: &Value) -> Result<Self> {
        Ok(Self::compiled(Schema::compile(schema)?))
    }

    pub fn compiled(schema: Schema) -> Self {
        let matcher = Matcher::new(&schema);
        JsonOutput { scratch: matcher.clone(), matcher, schema, masked: 0 }
    }

    /// Tokens so far whose pick did not fit (each cost a check of the whole
    /// vocabulary): what keeping to JSON costs beyond a check a token.
    pub fn masked(&self) -> usize {
        self.masked
    }

    /// Whether the value is complete (the reply ends).
    pub fn done(&self) -> bool {
        self.matcher.done()
    }

    /// Whether token `id` may come next: its bytes continue the value, or
    /// it ends the turn where the value may end.
    pub fn allows(&mut self, id: u32, pieces: &TokenPieces, ends: &[u32]) -> bool {
        if ends.contains(&id) {
            return self.matcher.can_end(&self.schema);
        }
        let Some(bytes) = pieces.get(id) else { return false };
        self.scratch.clone_from(&self.matcher);
        bytes.iter().all(|&b| self.scratch.feed(&self.schema, b))
    }

    /// Takes the bytes of a token `allows` let through.
    pub fn advance(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.matcher.feed(&self.schema, b);
        }
    }

    /// The next token by `sampler`'s rules, among the tokens allowed.
    pub fn sample(&mut self, sampler: &mut Sampler, logits: &mut [f32], recent: &[u32], n_reply: usize, pieces: &TokenPieces, ends: &[u32]) -> u32 {
        let original = logits.to_vec();
        let pick = sampler.sample_reply(logits, recent, n_reply);
        if self.allows(pick, pieces, ends) {
            return pick;
        }
        logits.copy_from_slice(&original);
        self.masked += 1;
        let mut any = false;
        for (id, l) in logits.iter_mut().enumerate() {
            if self.allows(id as u32, pieces, ends) {
                any = true;
            } else {
                *l = f32::NEG_INFINITY;
            }
        }
        if !any {
            // Cannot happen for a value the matcher accepted so far; should it,
            // the reply ends rather than write what does not parse.
            return ends.first().copied().unwrap_or(pick);
        }
        let pick = sampler.sample_reply(logits, recent, n_reply);
        if self.allows(pick, pieces, ends) {
            pick
        } else {
            crate::sampler::argmax(logits)
        }
    }
}

#[cfg(test)]
mod tests;
