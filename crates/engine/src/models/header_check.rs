//! Whether this engine can run a model file, told from its first bytes: a
//! download of an architecture or weight type it does not run is refused
//! after its first chunks, with the same error a whole file would get, not
//! after gigabytes.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::models::{Config, Hparams};
use crate::tokenizer::Tokenizer;

/// What the header says about a model this engine can run.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderCheck {
    pub config: Config,
    /// Bytes of tensor data the file holds.
    pub weight_bytes: usize,
}

/// `None` while `prefix` (the first bytes of a file of `file_len` bytes)
/// does not yet hold the whole header; the error loading the whole file
/// would give once the header shows an architecture, weight type,
/// tokenizer or chat template this engine does not run.
pub fn check_header(prefix: &[u8], file_len: usize) -> Result<Option<HeaderCheck>> {
    let Some(g) = Gguf::header_only(prefix, file_len)? else {
        return Ok(None);
    };
    let hp = Hparams::read(&g)?;
    // Sorted, so the same file always names the same tensor.
    let mut odd: Vec<(&String, &String)> = g.unsupported.iter().collect();
    odd.sort();
    if let Some((tensor, dtype)) = odd.first() {
        return Err(Error::UnsupportedTensorType { tensor: (*tensor).clone(), dtype: (*dtype).clone() });
    }
    Tokenizer::from_gguf(&g)?;
    crate::template::ChatTemplate::from_gguf(&g, &hp.arch).check()?;
    Ok(Some(HeaderCheck { config: hp.config(), weight_bytes: g.tensor_bytes() }))
}
