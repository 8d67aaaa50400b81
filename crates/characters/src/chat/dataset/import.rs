//! Question/answer pairs from CSV or JSONL, turned into example dialogues.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::example::{format_example, ExampleDialogue, ExampleSource};

pub const MAX_ROWS: usize = 100_000;
pub const MAX_FIELD_CHARS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    Csv,
    Jsonl,
}

impl ImportFormat {
    /// JSONL when the first non-blank character opens an object.
    pub fn detect(text: &str) -> Self {
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
        {
            ImportFormat::Jsonl
        } else {
            ImportFormat::Csv
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaPair {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImportError {
    #[error("line {line}: a quoted field is never closed")]
    UnterminatedQuote { line: usize },
    #[error("line {line}: expected a question and an answer column")]
    MissingColumn { line: usize },
    #[error("line {line}: not a JSON object: {reason}")]
    Json { line: usize, reason: String },
    #[error(
        "line {line}: needs \"question\" and \"answer\" (or \"prompt\" and \"completion\") strings"
    )]
    MissingKeys { line: usize },
    #[error("line {line}: a field is longer than {MAX_FIELD_CHARS} characters")]
    FieldTooLong { line: usize },
    #[error("more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("no question/answer pairs found")]
    Empty,
}

/// A CSV record with the line it started on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// RFC 4180 CSV: commas, double-quoted fields with `""` escapes, commas and
/// newlines inside quotes, CRLF or LF line ends. A stray quote inside an
/// unquoted field is kept as text.
fn csv_records(text: &str) -> Result<Vec<Record>, ImportError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut field_chars = 0usize;
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut quote_line = 1usize;
    let mut chars = text.chars().peekable();
    let push_char = |field: &mut String, count: &mut usize, c: char, line: usize| {
        *count += 1;
        if *count > MAX_FIELD_CHARS {
            return Err(ImportError::FieldTooLong { line });
        }
        field.push(c);
        Ok(())
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    push_char(&mut field, &mut field_chars, '"', line)?;
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    push_char(&mut field, &mut field_chars, '\n', line)?;
                }
                _ => push_char(&mut field, &mut field_chars, c, line)?,
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quote_line = line;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                field_chars = 0;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                fields.push(std::mem::take(&mut field));
                field_chars = 0;
                if fields.iter().any(|f| !f.trim().is_empty()) {
                    if records.len() >= MAX_ROWS {
                        return Err(ImportError::TooManyRows);
                    }
                    records.push(Record {
                        line: record_line,
                        fields: std::mem::take(&mut fields),
                    });
                } else {
                    fields.clear();
                }
                line += 1;
                record_line = line;
            }
            _ => push_char(&mut field, &mut field_chars, c, line)?,
        }
    }
    if in_quotes {
        return Err(ImportError::UnterminatedQuote { line: quote_line });
    }
    fields.push(field);
    if fields.iter().any(|f| !f.trim().is_empty()) {
        if records.len() >= MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
        records.push(Record {
            line: record_line,
            fields,
        });
    }
    Ok(records)
}

const QUESTION_HEADERS: &[&str] = &["question", "prompt", "input", "user", "q"];
const ANSWER_HEADERS: &[&str] = &["answer", "completion", "output", "response", "reply", "a"];

/// Pairs from CSV. A header row naming the columns (question/answer,
/// prompt/completion, input/output, …) is used when present; otherwise the
/// first two columns are question and answer.
pub fn parse_csv_pairs(text: &str) -> Result<Vec<QaPair>, ImportError> {
    let records = csv_records(text)?;
    let header_cols = records.first().and_then(|r| {
        let find = |names: &[&str]| {
            r.fields
                .iter()
                .position(|f| names.contains(&f.trim().to_lowercase().as_str()))
        };
        Some((find(QUESTION_HEADERS)?, find(ANSWER_HEADERS)?))
    });
    let (q, a, skip) = match header_cols {
        Some((q, a)) => (q, a, 1),
        None => (0, 1, 0),
    };
    let mut out = Vec::new();
    for r in records.iter().skip(skip) {
        let (Some(question), Some(answer)) = (r.fields.get(q), r.fields.get(a)) else {
            return Err(ImportError::MissingColumn { line: r.line });
        };
        if question.trim().is_empty() || answer.trim().is_empty() {
            return Err(ImportError::MissingColumn { line: r.line });
        }
        out.push(QaPair {
            question: question.trim().to_owned(),
            answer: answer.trim().to_owned(),
        });
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

/// Pairs from JSONL: one object a line with `question`/`answer` or
/// `prompt`/`completion` strings. Blank lines are skipped.
pub fn parse_jsonl_pairs(text: &str) -> Result<Vec<QaPair>, ImportError> {
    let mut out = Vec::new();
    for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        if out.len() >= MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
        let v: Value = serde_json::from_str(raw).map_err(|e| ImportError::Json {
            line,
            reason: e.to_string(),
        })?;
        let Value::Object(o) = v else {
            return Err(ImportError::Json {
                line,
                reason: "expected an object".into(),
            });
        };
        let get = |k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let pair = match (get("question"), get("answer")) {
            (Some(q), Some(a)) => Some((q, a)),
            _ => get("prompt").zip(get("completion")),
        };
        let Some((q, a)) = pair else {
            return Err(ImportError::MissingKeys { line });
        };
        if q.chars().count() > MAX_FIELD_CHARS || a.chars().count() > MAX_FIELD_CHARS {
            return Err(ImportError::FieldTooLong { line });
        }
        out.push(QaPair {
            question: q.to_owned(),
            answer: a.to_owned(),
        });
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

/// Example dialogues from a CSV or JSONL file's text.
pub fn import_examples(
    text: &str,
    format: ImportFormat,
) -> Result<Vec<ExampleDialogue>, ImportError> {
    let pairs = match format {
        ImportFormat::Csv => parse_csv_pairs(text)?,
        ImportFormat::Jsonl => parse_jsonl_pairs(text)?,
    };
    Ok(pairs
        .iter()
        .enumerate()
        .map(|(row, p)| ExampleDialogue {
            text: format_example(Some(&p.question), &p.answer),
            rating: None,
            source: ExampleSource::Import { row: row + 1 },
            tokens: 0,
        })
        .collect())
}
