//! A loaded model with its tokenizer, chat template and KV cache, driven one
//! token at a time so a UI (or a Web Worker) can stream and stop at will.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kv_cache::KvCache;
use crate::models::Model;
use crate::sampler::{Sampler, SamplerOptions};
use crate::stream::TextStream;
use crate::template::{ChatMessage, ChatTemplate};
use crate::tokenizer::Tokenizer;

/// Prefill runs in chunks so activations stay small on long prompts, and
/// so `begin` + `next` can yield between them.
const PREFILL_CHUNK: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateOptions {
    #[serde(flatten)]
    pub sampler: SamplerOptions,
    pub max_tokens: usize,
    pub stop: Vec<String>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions { sampler: SamplerOptions::default(), max_tokens: 256, stop: Vec::new() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn.
    Eos,
    MaxTokens,
    /// A stop string appeared.
    Stop,
    ContextFull,
    Cancelled,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub piece: String,
    pub token: Option<u32>,
    pub done: bool,
    pub stop_reason: Option<StopReason>,
    /// While the prompt is still being read: tokens left to prefill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_left: Option<usize>,
}

impl Step {
    fn text(piece: String, token: Option<u32>, stop_reason: Option<StopReason>) -> Self {
        Step { piece, token, done: stop_reason.is_some(), stop_reason, prefill_left: None }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct StartInfo {
    pub n_prompt: usize,
    /// Prompt tokens whose keys/values were already cached.
    pub n_reused: usize,
}

struct Generation {
    /// Prompt tokens not yet prefilled (`begin` leaves them to `next`).
    pending: Vec<u32>,
    sampler: Sampler,
    stream: TextStream,
    logits: Vec<f32>,
    max_tokens: usize,
    n_generated: usize,
    done: Option<StopReason>,
}

pub struct Session {
    pub model: Model,
    pub tokenizer: Tokenizer,
    pub template: ChatTemplate,
    cache: KvCache,
    cached: Vec<u32>,
    gen: Option<Generation>,
    context: usize,
}

impl Session {
    pub fn load(bytes: Vec<u8>) -> Result<Self> {
        let g = Gguf::from_bytes(bytes)?;
        let tokenizer = Tokenizer::from_gguf(&g)?;
        let arch = g.architecture()?;
        let template = ChatTemplate::from_gguf(&g, &arch);
        let model = Model::load(g)?;
        if tokenizer.vocab_size() != model.config().n_vocab {
            return Err(Error::Tokenizer(format!(
                "{} tokens in the vocabulary but the model has {} embeddings",
                tokenizer.vocab_size(),
                model.config().n_vocab
            )));
        }
        let cache = model.new_cache();
        let context = model.config().context_length;
        Ok(Session { model, tokenizer, template, cache, cached: Vec::new(), gen: None, context })
    }

    /// Caps the context below the model's trained length (memory).
    pub fn set_context(&mut self, n: usize) {
        self.context = n.clamp(1, self.model.config().context_length);
        if self.cached.len() > self.context {
            self.reset();
        }
    }

    pub fn context(&self) -> usize {
        self.context
    }

    pub fn reset(&mut self) {
        self.cache.truncate(0);
        self.cached.clear();
        self.gen = None;
    }

    pub fn cache(&self) -> &KvCache {
        &self.cache
    }

    pub fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        self.template.render(messages, true)
    }

    /// Tokenizes a prompt, adding BOS unless the text already starts with it.
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<u32>> {
        let bos_text = self.tokenizer.bos.and_then(|b| self.tokenizer.token_text(b)).unwrap_or("");
        let with_bos = bos_text.is_empty() || !text.starts_with(bos_text);
        self.tokenizer.encode(text, with_bos)
    }

    /// Prefills `prompt`, reusing the cached keys/values of the longest
    /// common prefix with what the cache holds.
    pub fn start(&mut self, prompt: &[u32], opts: GenerateOptions) -> Result<StartInfo> {
        let info = self.begin(prompt, opts)?;
        while self.gen.as_ref().is_some_and(|g| !g.pending.is_empty()) {
            self.prefill_chunk()?;
        }
        Ok(info)
    }

    /// Like `start`, but leaves the prefill to the following `next()` calls,
    /// one chunk each, so a caller that yields between calls (a Web Worker)
    /// stays responsive during a long prompt and can stop it.
    pub fn begin(&mut self, prompt: &[u32], opts: GenerateOptions) -> Result<StartInfo> {
        self.gen = None;
        let sampler = Sampler::new(opts.sampler.clone())?;
        if prompt.is_empty() {
            return Err(Error::InvalidOption("empty prompt".into()));
        }
        if prompt.len() >= self.context {
            return Err(Error::PromptTooLong { tokens: prompt.len(), context: self.context });
        }
        let common = self.cached.iter().zip(prompt).take_while(|(a, b)| a == b).count();
        // The last prompt token always runs: its logits pick the first reply token.
        let reuse = common.min(prompt.len() - 1);
        self.cache.truncate(reuse);
        self.cached.truncate(reuse);
        self.gen = Some(Generation {
            pending: prompt[reuse..].to_vec(),
            logits: Vec::new(),
            sampler,
            stream: TextStream::new(opts.stop),
            max_tokens: opts.max_tokens,
            n_generated: 0,
            done: if opts.max_tokens == 0 { Some(StopReason::MaxTokens) } else { None },
        });
        Ok(StartInfo { n_prompt: prompt.len(), n_reused: reuse })
    }

    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        match self.model.forward(tokens, &mut self.cache) {
            Ok(l) => {
                self.cached.extend_from_slice(tokens);
                Ok(l)
            }
            Err(e) => {
                // A failed forward may have pushed some layers: drop them all.
                self.cache.truncate(self.cached.len());
                Err(e)
            }
        }
    }

    /// Logits after the prompt (before any token is sampled), for tests.
    pub fn logits(&self) -> Option<&[f32]> {
        self.gen.as_ref().map(|g| g.logits.as_slice())
    }

    fn prefill_chunk(&mut self) -> Result<usize> {
        let Some(gen) = self.gen.as_mut() else { return Err(Error::NotStarted) };
        let n = gen.pending.len().min(PREFILL_CHUNK);
        let chunk: Vec<u32> = gen.pending.drain(..n).collect();
        let left = gen.pending.len();
        let logits = match self.forward(&chunk) {
            Ok(l) => l,
            Err(e) => {
                self.gen = None;
                return Err(e);
            }
        };
        if let Some(gen) = self.gen.as_mut() {
            gen.logits = logits;
        }
        Ok(left)
    }

    /// Prefills one chunk of a begun prompt, or samples, streams and feeds
    /// back one token.
    pub fn next(&mut self) -> Result<Step> {
        let gen = self.gen.as_mut().ok_or(Error::NotStarted)?;
        if let Some(reason) = gen.done {
            return Ok(Step::text(String::new(), None, Some(reason)));
        }
        if !gen.pending.is_empty() {
            let left = self.prefill_chunk()?;
            return Ok(Step { piece: String::new(), token: None, done: false, stop_reason: None, prefill_left: Some(left) });
        }
        let recent_from = self.cached.len().saturating_sub(gen.sampler.opts.penalty_last_n);
        let token = gen.sampler.sample(&mut gen.logits, &self.cached[recent_from..]);
        if self.tokenizer.is_eog(token) {
            gen.done = Some(StopReason::Eos);
            return Ok(Step::text(gen.stream.flush(), Some(token), gen.done));
        }
        let piece = gen.stream.push(&self.tokenizer, token)?;
        gen.n_generated += 1;
        let mut text = piece.text;
        let reason = if piece.stopped {
            Some(StopReason::Stop)
        } else if gen.n_generated >= gen.max_tokens {
            Some(StopReason::MaxTokens)
        } else if self.cached.len() + 1 >= self.context {
            Some(StopReason::ContextFull)
        } else {
            None
        };
        if let Some(r) = reason {
            if r != StopReason::Stop {
                text.push_str(&gen.stream.flush());
            }
            gen.done = Some(r);
            return Ok(Step::text(text, Some(token), Some(r)));
        }
        let logits = self.forward(&[token])?;
        if let Some(gen) = self.gen.as_mut() {
            gen.logits = logits;
        }
        Ok(Step::text(text, Some(token), None))
    }

    /// Ends the current generation; the cache keeps what was processed.
    pub fn cancel(&mut self) {
        if let Some(g) = self.gen.as_mut() {
            g.done.get_or_insert(StopReason::Cancelled);
        }
    }

    /// Tokens generated so far in the current generation.
    pub fn generated(&self) -> &[u32] {
        self.gen.as_ref().map(|g| g.stream.ids()).unwrap_or(&[])
    }

    /// Runs a whole generation, calling `on_piece` with each piece of text;
    /// it returns false to stop early.
    pub fn generate(
        &mut self,
        prompt: &[u32],
        opts: GenerateOptions,
        mut on_piece: impl FnMut(&str) -> bool,
    ) -> Result<Generated> {
        let info = self.start(prompt, opts)?;
        let mut text = String::new();
        let mut ids = Vec::new();
        let reason = loop {
            let step = self.next()?;
            if let Some(t) = step.token.filter(|&t| !self.tokenizer.is_eog(t)) {
                ids.push(t);
            }
            text.push_str(&step.piece);
            if !step.piece.is_empty() && !on_piece(&step.piece) {
                self.cancel();
                break StopReason::Cancelled;
            }
            if step.done {
                break step.stop_reason.unwrap_or(StopReason::Eos);
            }
        };
        Ok(Generated { ids, text, stop_reason: reason, start: info })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub ids: Vec<u32>,
    pub text: String,
    pub stop_reason: StopReason,
    pub start: StartInfo,
}
