//! A loaded model with its tokenizer, chat template and KV cache, driven one
//! token at a time so a UI (or a Web Worker) can stream and stop at will.

use serde::{Deserialize, Serialize};

use crate::context_shift::{self, common_len};
use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kv_cache::{KvCache, Rows};
use crate::json_output::{JsonOutput, TokenPieces};
use crate::kv_snapshot;
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
    /// Context shift: the prompt leaves out spans of what the cache holds
    /// (old turns cut to fit the context), and the cached tokens after them
    /// are moved down and kept instead of read again (`Session::begin`).
    pub context_shift: bool,
    /// The reply is a JSON value this JSON Schema allows (`json_output`);
    /// it ends when the value is complete.
    pub json_schema: Option<serde_json::Value>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions { sampler: SamplerOptions::default(), max_tokens: 256, stop: Vec::new(), context_shift: false, json_schema: None }
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
    /// A warm-up's prompt is read into the cache; nothing is sampled.
    Prefilled,
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
    /// Of those, the ones moved down from after a left-out span (context
    /// shift).
    pub n_shifted: usize,
}

struct Generation {
    /// Prompt tokens not yet prefilled (`begin` leaves them to `next`).
    pending: Vec<u32>,
    sampler: Sampler,
    stream: TextStream,
    logits: Vec<f32>,
    /// The next token, when a backend already sampled it from logits it
    /// kept (the GPU): `plan` takes it instead of sampling `logits`.
    sampled: Option<u32>,
    max_tokens: usize,
    n_generated: usize,
    done: Option<StopReason>,
    /// A warm-up (`begin_warm`): read the prompt, sample nothing.
    warm: bool,
    /// Cached runs kept by a context shift, in prompt order, each put in
    /// the cache when the prompt read before it is.
    kept: Vec<Kept>,
    /// The reply kept to JSON (`GenerateOptions::json_schema`).
    json: Option<JsonOutput>,
}

/// A cached run a context shift keeps, waiting for its place.
struct Kept {
    /// Its position in the prompt (and the cache).
    at: usize,
    tokens: Vec<u32>,
    /// Keys re-rotated for `at`.
    rows: Rows,
}

/// A forward pass that a step needs, and the step to return once it ran.
pub(crate) struct Run {
    pub tokens: Vec<u32>,
    pub step: Step,
    /// A prompt chunk rather than a sampled token.
    pub prefill: bool,
}

pub(crate) enum Plan {
    /// Nothing to run (the generation is over).
    Ready(Step),
    Run(Run),
}

pub struct Session {
    pub model: Model,
    pub tokenizer: Tokenizer,
    pub template: ChatTemplate,
    cache: KvCache,
    cached: Vec<u32>,
    gen: Option<Generation>,
    context: usize,
    /// Names the model file in stored prefixes (`kv_snapshot::fingerprint`).
    fingerprint: u64,
    /// Times cached positions were rewritten other than at the end
    /// (context shift, a restored prefix): a backend with its own cache
    /// (the GPU) reads everything again when this moved.
    edits: u64,
    /// A cache set aside for a side prompt (`set_aside`), with its tokens.
    aside: Option<(KvCache, Vec<u32>)>,
    /// Each token's bytes, made the first time a reply is kept to JSON.
    pieces: Option<TokenPieces>,
}

impl Session {
    pub fn load(bytes: Vec<u8>) -> Result<Self> {
        let g = Gguf::from_bytes(bytes)?;
        let fingerprint = kv_snapshot::fingerprint(g.bytes());
        let tokenizer = Tokenizer::from_gguf(&g)?;
        let arch = g.architecture()?;
        let template = ChatTemplate::from_gguf(&g, &arch);
        template.check()?;
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
        Ok(Session { model, tokenizer, template, cache, cached: Vec::new(), gen: None, context, fingerprint, edits: 0, aside: None, pieces: None })
    }

    /// Puts a LoRA adapter (GGUF bytes) on the model at `scale`, or takes it
    /// off (`None`). The cache is read again; stored prefixes of the
    /// adapted model are its own. A file that is no adapter of this model
    /// is refused and the model stays as it was.
    pub fn set_adapter(&mut self, adapter: Option<(Vec<u8>, f32)>) -> Result<()> {
        let adapter = match adapter {
            Some((bytes, scale)) => Some(crate::lora::Adapter::load(bytes, scale, self.model.gguf())?),
            None => None,
        };
        let base = kv_snapshot::fingerprint(self.model.gguf().bytes());
        self.fingerprint = adapter.as_ref().map_or(base, |a| base ^ a.fingerprint());
        self.model.set_adapter(adapter)?;
        self.reset();
        self.aside = None;
        self.edits += 1;
        Ok(())
    }

    /// Caps the context below the model's trained length (memory).
    pub fn set_context(&mut self, n: usize) {
        self.context = n.clamp(1, self.model.config().context_length);
        if self.cached.len() > self.context {
            self.reset();
        }
    }

    /// The model file's fingerprint (what stored prefixes are keyed by).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
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

    /// The prompt for `messages` in the model's chat format. Their text and
    /// names are guarded: special-token text in them stays ordinary text.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        self.render_chat_as(messages, None)
    }

    /// As [`Session::render_chat`], in the layout named (`transcript`)
    /// instead of the model's own; none or an unknown name: the model's own.
    pub fn render_chat_as(&self, messages: &[ChatMessage], layout: Option<&str>) -> Result<String> {
        let guarded: Vec<ChatMessage> = messages
            .iter()
            .map(|m| ChatMessage {
                role: m.role.clone(),
                content: self.tokenizer.guard(&m.content),
                name: m.name.as_deref().map(|n| self.tokenizer.guard(n)),
            })
            .collect();
        match layout {
            Some("transcript") => ChatTemplate::Transcript.render(&guarded, true),
            _ => self.template.render(&guarded, true),
        }
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
        self.prefill_on_cpu()?;
        Ok(info)
    }

    /// Reads the rest of a begun prompt on the CPU.
    fn prefill_on_cpu(&mut self) -> Result<()> {
        while let Some(run) = self.take_prefill() {
            self.run_on_cpu(run)?;
        }
        Ok(())
    }

    /// Like `start`, but leaves the prefill to the following `next()` calls,
    /// one chunk each, so a caller that yields between calls (a Web Worker)
    /// stays responsive during a long prompt and can stop it.
    pub fn begin(&mut self, prompt: &[u32], opts: GenerateOptions) -> Result<StartInfo> {
        self.begin_with(prompt, opts, false)
    }

    /// Reads `prompt` into the cache (reusing the common prefix) and samples
    /// nothing: the following `next()` calls prefill a chunk each, then end
    /// with `Prefilled`. A chat warms its stable prefix this way while the
    /// person types, so the reply's `begin` finds it cached; a warm-up cut
    /// short keeps the chunks it read.
    /// `context_shift` as in [`GenerateOptions`].
    pub fn begin_warm(&mut self, prompt: &[u32], context_shift: bool) -> Result<StartInfo> {
        self.begin_with(prompt, GenerateOptions { context_shift, ..GenerateOptions::default() }, true)
    }

    fn begin_with(&mut self, prompt: &[u32], opts: GenerateOptions, warm: bool) -> Result<StartInfo> {
        self.gen = None;
        let sampler = Sampler::new(opts.sampler.clone())?.with_breakers(self.tokenizer.breakers()).with_ends(self.tokenizer.eog());
        if prompt.is_empty() {
            return Err(Error::InvalidOption("empty prompt".into()));
        }
        let json = opts.json_schema.as_ref().map(JsonOutput::new).transpose()?;
        if json.is_some() && self.pieces.is_none() {
            self.pieces = Some(TokenPieces::new(&self.tokenizer));
        }
        if prompt.len() >= self.context {
            return Err(Error::PromptTooLong { tokens: prompt.len(), context: self.context });
        }
        let common = common_len(&self.cached, prompt);
        // A reply's last prompt token always runs: its logits pick the first
        // reply token. A warm-up samples nothing, so all of it may be reused.
        let last = if warm { prompt.len() } else { prompt.len() - 1 };
        // A recurrent state cuts back only to a checkpoint.
        let reuse = self.cache.reachable(common.min(last));
        // Only a cache this session fills itself is shifted (a GPU holds its
        // own, and reads prompts fast); a recurrent state cannot leave out
        // what it has summed.
        let shift = opts.context_shift && self.cache.len() == self.cached.len() && !self.cache.is_recurrent();
        let mut runs = if shift { context_shift::runs(&self.cached, prompt, common) } else { Vec::new() };
        if let Some(r) = runs.last_mut() {
            r.len = r.len.min(last - r.at);
        }
        runs.retain(|r| r.len > 0);
        if !runs.is_empty() {
            self.edits += 1;
        }
        let kept: Vec<Kept> = runs
            .iter()
            .map(|r| Kept {
                at: r.at,
                tokens: prompt[r.at..r.at + r.len].to_vec(),
                rows: self.model.moved_rows(&self.cache, r.from, r.len, r.at),
            })
            .collect();
        let mut pending = Vec::with_capacity(prompt.len() - reuse);
        let mut p = reuse;
        for r in &runs {
            pending.extend_from_slice(&prompt[p..r.at]);
            p = r.at + r.len;
        }
        pending.extend_from_slice(&prompt[p..]);
        self.cache.truncate(reuse);
        self.cached.truncate(reuse);
        let n_shifted = runs.iter().map(|r| r.len).sum::<usize>();
        self.gen = Some(Generation {
            pending,
            logits: Vec::new(),
            sampled: None,
            sampler,
            stream: TextStream::new(opts.stop),
            max_tokens: opts.max_tokens,
            n_generated: 0,
            done: if opts.max_tokens == 0 && !warm { Some(StopReason::MaxTokens) } else { None },
            warm,
            kept,
            json,
        });
        Ok(StartInfo { n_prompt: prompt.len(), n_reused: reuse + n_shifted, n_shifted })
    }

    /// `begin_warm` and the whole prefill at once, on the CPU.
    pub fn warm(&mut self, prompt: &[u32], context_shift: bool) -> Result<StartInfo> {
        let info = self.begin_warm(prompt, context_shift)?;
        self.prefill_on_cpu()?;
        self.gen = None;
        Ok(info)
    }

    /// The keys and values of the first `n` cached tokens, to store
    /// (`kv_snapshot`); `n` is capped at what the cache holds.
    pub fn save_prefix(&self, n: usize) -> Vec<u8> {
        kv_snapshot::save(&self.cache, &self.cached, n, self.fingerprint)
    }

    /// Puts a stored prefix back in place of the cache and returns its
    /// length; one of another model or shape, or corrupt, is an error and
    /// leaves the cache as it was.
    pub fn restore_prefix(&mut self, bytes: &[u8]) -> Result<usize> {
        let c = self.model.config();
        let (tokens, cache) = kv_snapshot::load(bytes, self.fingerprint, &c.cache_widths, &c.state_sizes)?;
        if tokens.len() >= self.context {
            return Err(Error::Snapshot("longer than the context".into()));
        }
        if let Some(&id) = tokens.iter().find(|&&t| t as usize >= c.n_vocab) {
            return Err(Error::BadToken { id, vocab: c.n_vocab });
        }
        self.gen = None;
        self.cache = cache;
        self.cached = tokens;
        self.edits += 1;
        Ok(self.cached.len())
    }

    /// Puts the cache aside so a side prompt (a chat's summary) does not
    /// overwrite the chat's keys and values; `take_back` returns them.
    /// Setting aside again replaces what was set aside.
    pub fn set_aside(&mut self) {
        self.gen = None;
        let cache = std::mem::replace(&mut self.cache, self.model.new_cache());
        self.aside = Some((cache, std::mem::take(&mut self.cached)));
    }

    /// Returns the cache set aside, dropping the side prompt's; false when
    /// none was.
    pub fn take_back(&mut self) -> bool {
        let Some((cache, cached)) = self.aside.take() else { return false };
        self.gen = None;
        self.cache = cache;
        self.cached = cached;
        self.edits += 1;
        true
    }

    /// Tokens whose keys and values the cache holds, oldest first.
    pub fn cached_tokens(&self) -> &[u32] {
        &self.cached
    }

    /// Runs a planned forward pass on the CPU backend.
    fn run_on_cpu(&mut self, run: Run) -> Result<Step> {
        let logits = self.model.forward(&run.tokens, &mut self.cache);
        if logits.is_err() {
            // A failed forward may have pushed some layers: drop them all.
            self.cache.truncate(self.cached.len());
        }
        self.finish(run, logits)
    }

    /// Logits after the prompt (before any token is sampled), for tests.
    pub fn logits(&self) -> Option<&[f32]> {
        self.gen.as_ref().map(|g| g.logits.as_slice())
    }

    /// The next prompt chunk to read, if any is left.
    fn take_prefill(&mut self) -> Option<Run> {
        let gen = self.gen.as_mut()?;
        // Kept runs whose place the prompt has reached go in as they are.
        while gen.kept.first().is_some_and(|k| k.at == self.cached.len()) {
            let k = gen.kept.remove(0);
            self.cache.append_rows(&k.rows);
            self.cached.extend_from_slice(&k.tokens);
        }
        if gen.pending.is_empty() {
            return None;
        }
        let room = gen.kept.first().map_or(usize::MAX, |k| k.at - self.cached.len());
        let n = gen.pending.len().min(PREFILL_CHUNK).min(room);
        let tokens: Vec<u32> = gen.pending.drain(..n).collect();
        let step = Step { piece: String::new(), token: None, done: false, stop_reason: None, prefill_left: Some(gen.pending.len()) };
        Some(Run { tokens, step, prefill: true })
    }

    /// Prefills one chunk of a begun prompt, or samples, streams and feeds
    /// back one token.
    pub fn next(&mut self) -> Result<Step> {
        match self.plan()? {
            Plan::Ready(step) => Ok(step),
            Plan::Run(run) => self.run_on_cpu(run),
        }
    }

    /// Everything `next` does but the forward pass, which the caller runs on
    /// its backend and hands to `finish` (the GPU's is asynchronous).
    pub(crate) fn plan(&mut self) -> Result<Plan> {
        let gen = self.gen.as_ref().ok_or(Error::NotStarted)?;
        if let Some(reason) = gen.done {
            return Ok(Plan::Ready(Step::text(String::new(), None, Some(reason))));
        }
        if let Some(run) = self.take_prefill() {
            return Ok(Plan::Run(run));
        }
        let gen = self.gen.as_mut().ok_or(Error::NotStarted)?;
        if gen.warm {
            gen.done = Some(StopReason::Prefilled);
            return Ok(Plan::Ready(Step::text(String::new(), None, gen.done)));
        }
        let recent_from = self.cached.len().saturating_sub(gen.sampler.window());
        let recent = &self.cached[recent_from..];
        let token = match (gen.sampled.take(), gen.json.as_mut(), self.pieces.as_ref()) {
            (Some(t), _, _) => t,
            (None, Some(json), Some(pieces)) => {
                json.sample(&mut gen.sampler, &mut gen.logits, recent, gen.n_generated, pieces, self.tokenizer.eog())
            }
            _ => gen.sampler.sample_reply(&mut gen.logits, recent, gen.n_generated),
        };
        if self.tokenizer.is_eog(token) {
            gen.done = Some(StopReason::Eos);
            return Ok(Plan::Ready(Step::text(gen.stream.flush(), Some(token), gen.done)));
        }
        let piece = gen.stream.push(&self.tokenizer, token)?;
        gen.n_generated += 1;
        let mut text = piece.text;
        let json_done = match (gen.json.as_mut(), self.pieces.as_ref().and_then(|p| p.get(token))) {
            (Some(json), Some(bytes)) => {
                json.advance(bytes);
                json.done()
            }
            _ => false,
        };
        let reason = if piece.stopped {
            Some(StopReason::Stop)
        } else if json_done {
            Some(StopReason::Eos)
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
            return Ok(Plan::Ready(Step::text(text, Some(token), Some(r))));
        }
        Ok(Plan::Run(Run { tokens: vec![token], step: Step::text(text, Some(token), None), prefill: false }))
    }

    /// Takes the logits of a planned run (or its failure) and returns its step.
    pub(crate) fn finish(&mut self, run: Run, logits: Result<Vec<f32>>) -> Result<Step> {
        match logits {
            Ok(l) => {
                self.cached.extend_from_slice(&run.tokens);
                if let Some(gen) = self.gen.as_mut() {
                    gen.logits = l;
                }
                Ok(run.step)
            }
            Err(e) => {
                // A prompt that cannot be read ends the generation; a failed
                // token leaves it for the caller to cancel.
                if run.prefill {
                    self.gen = None;
                }
                Err(e)
            }
        }
    }

    #[cfg(feature = "gpu")]
    /// Whether the run is a prompt chunk with more prompt after it (its
    /// logits are never sampled).
    pub(crate) fn more_prompt_after(&self, run: &Run) -> bool {
        run.prefill && self.gen.as_ref().is_some_and(|g| g.warm || !g.pending.is_empty())
    }

    #[cfg(feature = "gpu")]
    /// The settings to sample the token after `run` with, drawing the
    /// uniform number from the generation's seeded generator as the CPU
    /// sampler would (only when not greedy).
    pub(crate) fn sample_params(&mut self, run: &Run) -> Option<crate::gpu::SampleParams> {
        self.params_after(run, false)
    }

    #[cfg(feature = "gpu")]
    /// The settings of the step after `run`, for a backend that queues it
    /// before the token `run` samples is known: the next draw, and the
    /// penalty window but for that token (the GPU counts it). None when
    /// that token ends the reply whatever it is (the reply's length, the
    /// context).
    pub(crate) fn sample_params_ahead(&mut self, run: &Run) -> Option<crate::gpu::SampleParams> {
        let gen = self.gen.as_ref()?;
        let cached = self.cached.len() + run.tokens.len();
        if gen.done.is_some() || gen.n_generated + 1 >= gen.max_tokens || cached + 1 >= self.context {
            return None;
        }
        self.params_after(run, true)
    }

    #[cfg(feature = "gpu")]
    /// Settings whose window ends with `run`'s tokens (and, when `pending`,
    /// the token `run` samples, counted by the GPU), with the generator's
    /// next draw taken only when the GPU can take them (else the CPU
    /// samples, drawing that number itself).
    fn params_after(&mut self, run: &Run, pending: bool) -> Option<crate::gpu::SampleParams> {
        let gen = self.gen.as_mut()?;
        if gen.json.is_some() {
            // Kept to JSON: the CPU checks each token against the value so far.
            return None;
        }
        let o = &gen.sampler.opts;
        let dry = o.dry_multiplier > 0.0;
        if dry && pending {
            // DRY's penalties hang on the last token, which a step queued
            // ahead does not know yet: that step waits for it instead.
            return None;
        }
        let mut recent = self.cached[self.cached.len().saturating_sub(gen.sampler.window())..].to_vec();
        recent.extend_from_slice(&run.tokens);
        let mut params = if pending {
            crate::gpu::SampleParams::after_pending(o, &recent, 0.0)
        } else {
            crate::gpu::SampleParams::new(o, &recent, 0.0)
        };
        // The token sampled after `run` is the reply's n-th, one on when the
        // GPU samples `run`'s own token first.
        let n_reply = gen.n_generated + pending as usize;
        params = params.with_biases(gen.sampler.dry_penalties(&recent));
        params = params.with_end_bias(gen.sampler.ends(), gen.sampler.end_bias(n_reply));
        if params.fits() && o.temperature > 0.0 {
            params.uniform = gen.sampler.draw();
        }
        Some(params)
    }

    #[cfg(feature = "gpu")]
    /// Records the token a backend sampled after a run, for `plan` to take.
    pub(crate) fn set_sampled(&mut self, token: u32) {
        if let Some(gen) = self.gen.as_mut() {
            gen.sampled = Some(token);
        }
    }

    #[cfg(feature = "gpu")]
    pub(crate) fn cache_edits(&self) -> u64 {
        self.edits
    }

    #[cfg(feature = "gpu")]
    /// Tokens whose keys and values the cache holds.
    pub(crate) fn cached_len(&self) -> usize {
        self.cached.len()
    }

    #[cfg(feature = "gpu")]
    /// The backend that held the keys and values is gone (a lost GPU):
    /// forgets them and queues every cached token, then the run that
    /// failed, to be read again by the next steps, so the reply goes on
    /// where it was. Returns the failed run's step (its text was sampled
    /// before the failure and belongs to the reply).
    pub(crate) fn requeue(&mut self, run: Run) -> Step {
        self.cache.truncate(0);
        let mut again = std::mem::take(&mut self.cached);
        again.extend_from_slice(&run.tokens);
        let mut step = run.step;
        if let Some(gen) = self.gen.as_mut() {
            again.append(&mut gen.pending);
            gen.pending = again;
            if run.prefill {
                step.prefill_left = Some(gen.pending.len());
            }
        }
        step
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
        let json_masked = self.gen.as_ref().and_then(|g| g.json.as_ref()).map(JsonOutput::masked);
        Ok(Generated { ids, text, stop_reason: reason, start: info, json_masked })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub ids: Vec<u32>,
    pub text: String,
    pub stop_reason: StopReason,
    pub start: StartInfo,
    /// Kept to JSON: the tokens whose pick did not fit (`JsonOutput::masked`).
    pub json_masked: Option<usize>,
}
