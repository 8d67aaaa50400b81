//! Turns generated token ids into text pieces safe to show: never half a
//! UTF-8 character, never the beginning of a stop string that may still
//! complete, and nothing from a stop string on.

use crate::error::Result;
use crate::tokenizer::Tokenizer;

pub struct TextStream {
    ids: Vec<u32>,
    text: String,
    emitted: usize,
    stops: Vec<String>,
}

pub struct Piece {
    pub text: String,
    /// A stop string appeared; `text` ends before it.
    pub stopped: bool,
}

impl TextStream {
    pub fn new(stops: Vec<String>) -> Self {
        TextStream { ids: Vec::new(), text: String::new(), emitted: 0, stops: stops.into_iter().filter(|s| !s.is_empty()).collect() }
    }

    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// All text shown so far.
    pub fn shown(&self) -> &str {
        &self.text[..self.emitted]
    }

    pub fn push(&mut self, tok: &Tokenizer, id: u32) -> Result<Piece> {
        self.ids.push(id);
        self.text = tok.decode(&self.ids)?;
        if let Some(at) = self.first_stop() {
            let piece = self.text.get(self.emitted..at).unwrap_or_default().to_string();
            self.emitted = at.max(self.emitted);
            self.text.truncate(self.emitted);
            return Ok(Piece { text: piece, stopped: true });
        }
        // Byte-fallback and byte-level tokens can end mid-character.
        let mut safe = self.text.trim_end_matches('\u{FFFD}').len();
        safe -= self.partial_stop_len(&self.text[..safe]);
        Ok(Piece { text: self.take_until(safe), stopped: false })
    }

    /// Everything held back, at the end of generation.
    pub fn flush(&mut self) -> String {
        let end = self.text.len();
        self.take_until(end)
    }

    fn take_until(&mut self, end: usize) -> String {
        if end <= self.emitted {
            return String::new();
        }
        let piece = self.text.get(self.emitted..end).unwrap_or_default().to_string();
        self.emitted = end;
        piece
    }

    fn first_stop(&self) -> Option<usize> {
        self.stops.iter().filter_map(|s| self.text.find(s.as_str())).min()
    }

    /// Length of the longest suffix of `text` that begins some stop string.
    fn partial_stop_len(&self, text: &str) -> usize {
        let mut best = 0;
        for s in &self.stops {
            for (i, _) in s.char_indices().skip(1) {
                if i > best && text.ends_with(&s[..i]) {
                    best = i;
                }
            }
        }
        best
    }
}
