//! BM25 ranking over a small in-memory corpus (past messages, pinned facts).
//!
//! An inverted index keeps a query proportional to the postings of its terms,
//! not to the corpus: a 2,000-message chat is ranked in well under a
//! millisecond once indexed.

use std::collections::HashMap;

/// Words too common to say anything about relevance.
const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "him", "his", "i", "if",
    "in", "is", "it", "its", "just", "me", "my", "of", "on", "or", "our", "s", "she", "so", "that",
    "the", "their", "them", "then", "there", "they", "this", "to", "too", "was", "we", "were",
    "what", "which", "who", "will", "with", "would", "you", "your", "d", "ll", "m", "re", "t",
    "ve", "again", "oh", "yes", "no", "not",
];

fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Lowercase, split on anything not alphanumeric, drop stopwords.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !is_stopword(w))
        .collect()
}

#[derive(Debug, Clone)]
pub struct Bm25Index {
    k1: f32,
    b: f32,
    terms: HashMap<String, usize>,
    /// Per term: (document, term frequency).
    postings: Vec<Vec<(u32, u32)>>,
    doc_len: Vec<u32>,
    avg_len: f32,
}

impl Bm25Index {
    /// Index documents with the usual parameters (k1 = 1.2, b = 0.75).
    pub fn new<'a>(docs: impl IntoIterator<Item = &'a str>) -> Self {
        Self::with_params(docs, 1.2, 0.75)
    }

    pub fn with_params<'a>(docs: impl IntoIterator<Item = &'a str>, k1: f32, b: f32) -> Self {
        let mut terms: HashMap<String, usize> = HashMap::new();
        let mut postings: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut doc_len = Vec::new();
        let mut local: HashMap<usize, u32> = HashMap::new();
        for (doc, text) in docs.into_iter().enumerate() {
            local.clear();
            let tokens = tokenize(text);
            doc_len.push(u32::try_from(tokens.len()).unwrap_or(u32::MAX));
            for tok in tokens {
                let next = terms.len();
                let id = *terms.entry(tok).or_insert(next);
                if id == postings.len() {
                    postings.push(Vec::new());
                }
                *local.entry(id).or_insert(0) += 1;
            }
            let doc = u32::try_from(doc).unwrap_or(u32::MAX);
            for (&term, &tf) in &local {
                if let Some(list) = postings.get_mut(term) {
                    list.push((doc, tf));
                }
            }
        }
        let total: u64 = doc_len.iter().map(|&l| u64::from(l)).sum();
        let avg_len = if doc_len.is_empty() {
            0.0
        } else {
            total as f32 / doc_len.len() as f32
        };
        Self {
            k1,
            b,
            terms,
            postings,
            doc_len,
            avg_len,
        }
    }

    pub fn len(&self) -> usize {
        self.doc_len.len()
    }

    pub fn is_empty(&self) -> bool {
        self.doc_len.is_empty()
    }

    /// Inverse document frequency (the Lucene form, never negative).
    fn idf(&self, df: usize) -> f32 {
        let n = self.doc_len.len() as f32;
        let df = df as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Score of every document for the query (0 where no term matches).
    pub fn scores(&self, query: &str) -> Vec<f32> {
        let mut scores = vec![0.0f32; self.doc_len.len()];
        let mut q = tokenize(query);
        q.sort();
        q.dedup();
        for term in q {
            let Some(list) = self.terms.get(&term).and_then(|&id| self.postings.get(id)) else {
                continue;
            };
            let idf = self.idf(list.len());
            for &(doc, tf) in list {
                let len = self.doc_len.get(doc as usize).copied().unwrap_or(0) as f32;
                let norm = if self.avg_len > 0.0 {
                    len / self.avg_len
                } else {
                    1.0
                };
                let tf = tf as f32;
                let s =
                    idf * tf * (self.k1 + 1.0) / (tf + self.k1 * (1.0 - self.b + self.b * norm));
                if let Some(slot) = scores.get_mut(doc as usize) {
                    *slot += s;
                }
            }
        }
        scores
    }

    /// The best `k` documents with a positive score, best first; ties go to
    /// the later document (more recent in a chat).
    pub fn top(&self, query: &str, k: usize) -> Vec<(usize, f32)> {
        let mut ranked: Vec<(usize, f32)> = self
            .scores(query)
            .into_iter()
            .enumerate()
            .filter(|&(_, s)| s > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        ranked.truncate(k);
        ranked
    }
}
