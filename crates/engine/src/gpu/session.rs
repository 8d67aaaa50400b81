//! `Session::next` with the forward pass on the GPU: the same prompt
//! chunks, sampling rule and text stream as the CPU backend, and the same
//! prefix reuse (the GPU's KV cache is cut back to the tokens the session
//! still shares with a new prompt).
//!
//! Only a token id crosses back per step: a prompt chunk with more prompt
//! after it reads nothing back, and the last prompt chunk or a reply token
//! is followed by sampling on the GPU (`sample`), with the uniform number
//! drawn from the session's seeded generator. A caller that wants the
//! logits on the CPU (`Session::logits`) asks with
//! `GpuModel::set_read_logits`; the CPU then samples them as before.
//!
//! Each reply step also queues the next one before reading its token back
//! (`GpuModel::decode_async`): the GPU runs the token it just sampled while
//! the CPU reads it, streams its text and comes back, and the next call
//! finds that step done or running. The queued step's sampling settings
//! (its draw, its penalty window but for the token still on the GPU) are
//! taken when it is queued, in the order the steps would take them; no
//! step is queued after a token that must end the reply (its length or
//! the context), and one after an end-of-turn or stop text is left unread.
//!
//! A GPU that fails mid-reply (lost device, out of memory, a failed
//! readback) does not end the reply: the session forgets the GPU's cache
//! and queues everything read so far to be read again, so the caller can
//! drop the GPU and go on with `Session::next` on the CPU.

use super::error::GpuError;
use super::model::{GpuModel, Pick};
use crate::error::Result;
use crate::session::{Plan, Session, Step};

/// A step run on the GPU.
pub struct GpuStep {
    pub step: Step,
    /// Set when the GPU failed during this step; the session is then ready
    /// to go on with `next()` on the CPU backend.
    pub fault: Option<GpuError>,
}

impl Session {
    /// One step of the current generation with `gpu` running the model.
    /// Errors are the model's (as `next()` gives them); a GPU failure is a
    /// `fault` in an `Ok` step.
    pub async fn next_on_gpu(&mut self, gpu: &mut GpuModel) -> Result<GpuStep> {
        let run = match self.plan()? {
            Plan::Ready(step) => return Ok(GpuStep { step, fault: None }),
            Plan::Run(run) => run,
        };
        let cached = self.cached_len();
        if gpu.mirrors_edits != self.cache_edits() {
            // The CPU cache was shifted (context shift): the GPU's positions
            // no longer hold the same tokens.
            gpu.truncate(0);
            gpu.mirrors_edits = self.cache_edits();
        }
        gpu.truncate(cached);
        if gpu.len() != cached {
            // The GPU holds fewer positions than the session thinks (it was
            // attached mid-chat): read them all again there.
            gpu.truncate(0);
            return Ok(GpuStep { step: self.requeue(run), fault: None });
        }
        let more_prompt = self.more_prompt_after(&run);
        // Only reply tokens are ever queued: a prompt's run is never taken
        // from the queue, though a new prompt may end in the very token the
        // last reply queued a step for (with that reply's settings).
        let queued = !run.prefill && !gpu.reads_logits() && gpu.has_ahead(&run.tokens);
        let params = if more_prompt || gpu.reads_logits() || queued {
            None
        } else {
            self.sample_params(&run).filter(|p| p.fits())
        };
        // `decode_async` queues nothing for settings it cannot take.
        let next = if queued || params.is_some() { self.sample_params_ahead(&run) } else { None };
        let result = if more_prompt {
            gpu.prefill_async(&run.tokens).await.map(|()| (Vec::new(), None))
        } else if queued || params.is_some() {
            let pick = params.as_ref().map(Pick::Sample);
            gpu.decode_async(&run.tokens, pick, next.as_ref().map(Pick::Sample)).await.map(|t| (Vec::new(), Some(t)))
        } else {
            gpu.forward_async(&run.tokens).await.map(|logits| (logits, None))
        };
        match result {
            Ok((logits, sampled)) => {
                let step = self.finish(run, Ok(logits))?;
                if let Some(t) = sampled {
                    self.set_sampled(t);
                }
                Ok(GpuStep { step, fault: None })
            }
            Err(GpuError::Model(e)) => {
                gpu.truncate(cached);
                self.finish(run, Err(e)).map(|step| GpuStep { step, fault: None })
            }
            Err(fault) => Ok(GpuStep { step: self.requeue(run), fault: Some(fault) }),
        }
    }
}
