//! Importing question/answer pairs from CSV and JSONL.

use kindred_characters::chat::dataset::import::{ImportError, ImportFormat, MAX_FIELD_CHARS};
use kindred_characters::chat::dataset::{
    import_examples, parse_csv_pairs, parse_jsonl_pairs, ExampleSource, QaPair,
};

fn qa(q: &str, a: &str) -> QaPair {
    QaPair {
        question: q.into(),
        answer: a.into(),
    }
}

#[test]
fn csv_with_quotes_commas_and_newlines() {
    let csv = "question,answer\r\n\
               \"Hello, who are you?\",\"I'm Rika, the shrine keeper.\"\r\n\
               Plain question,\"Two\nlines, with \"\"quotes\"\"\"\r\n\
               \r\n\
               Last one,no newline at end";
    let pairs = parse_csv_pairs(csv).unwrap();
    assert_eq!(
        pairs,
        [
            qa("Hello, who are you?", "I'm Rika, the shrine keeper."),
            qa("Plain question", "Two\nlines, with \"quotes\""),
            qa("Last one", "no newline at end"),
        ]
    );
}

#[test]
fn csv_headers_pick_columns_and_are_optional() {
    let csv = "id,completion,prompt\n1,An answer,A question\n";
    assert_eq!(
        parse_csv_pairs(csv).unwrap(),
        [qa("A question", "An answer")]
    );
    let csv = "\u{feff}What is your name?,Rika\nWhere do you live?,At the shrine\n";
    assert_eq!(
        parse_csv_pairs(csv).unwrap(),
        [
            qa("What is your name?", "Rika"),
            qa("Where do you live?", "At the shrine")
        ]
    );
    // A stray quote inside an unquoted field is kept as text.
    assert_eq!(
        parse_csv_pairs("5\" tall?,Yes\n").unwrap(),
        [qa("5\" tall?", "Yes")]
    );
}

#[test]
fn csv_errors_name_the_line() {
    assert_eq!(
        parse_csv_pairs("q,a\n\"never closed,x\n"),
        Err(ImportError::UnterminatedQuote { line: 2 })
    );
    assert_eq!(
        parse_csv_pairs("question,answer\nok,fine\nlonely\n"),
        Err(ImportError::MissingColumn { line: 3 })
    );
    assert_eq!(
        parse_csv_pairs("\"multi\nline\",x\nsolo\n"),
        Err(ImportError::MissingColumn { line: 3 })
    );
    assert_eq!(
        parse_csv_pairs("question,answer\n"),
        Err(ImportError::Empty)
    );
    assert_eq!(parse_csv_pairs(""), Err(ImportError::Empty));
    let huge = format!("q,\"{}\"\n", "x".repeat(MAX_FIELD_CHARS + 1));
    assert_eq!(
        parse_csv_pairs(&huge),
        Err(ImportError::FieldTooLong { line: 1 })
    );
}

#[test]
fn jsonl_with_both_key_styles() {
    let text = "{\"question\": \"Hi?\", \"answer\": \"Hello!\"}\n\n{\"prompt\": \"Tea?\", \"completion\": \"Always.\", \"extra\": 1}\n";
    assert_eq!(
        parse_jsonl_pairs(text).unwrap(),
        [qa("Hi?", "Hello!"), qa("Tea?", "Always.")]
    );
    assert!(matches!(
        parse_jsonl_pairs("{\"question\": \"Hi?\"}"),
        Err(ImportError::MissingKeys { line: 1 })
    ));
    assert!(matches!(
        parse_jsonl_pairs("{\"q\":1}\n{broken"),
        Err(ImportError::MissingKeys { line: 1 })
    ));
    assert!(matches!(
        parse_jsonl_pairs("{\"question\":\"a\",\"answer\":\"b\"}\n{broken"),
        Err(ImportError::Json { line: 2, .. })
    ));
    assert!(matches!(
        parse_jsonl_pairs("[1,2]"),
        Err(ImportError::Json { line: 1, .. })
    ));
    assert!(matches!(
        parse_jsonl_pairs("{\"question\": 3, \"answer\": \"x\"}"),
        Err(ImportError::MissingKeys { line: 1 })
    ));
    assert_eq!(parse_jsonl_pairs("\n \n"), Err(ImportError::Empty));
}

#[test]
fn pairs_become_example_dialogues() {
    let csv = "question,answer\n\"Hello, who are you?\",I'm Rika.\n";
    assert_eq!(ImportFormat::detect(csv), ImportFormat::Csv);
    let ex = import_examples(csv, ImportFormat::Csv).unwrap();
    assert_eq!(ex.len(), 1);
    assert_eq!(
        ex[0].text,
        "<START>\n{{user}}: Hello, who are you?\n{{char}}: I'm Rika."
    );
    assert_eq!(ex[0].source, ExampleSource::Import { row: 1 });
    let jsonl = " {\"prompt\": \"Tea?\", \"completion\": \"Always.\"}";
    assert_eq!(ImportFormat::detect(jsonl), ImportFormat::Jsonl);
    let ex = import_examples(jsonl, ImportFormat::detect(jsonl)).unwrap();
    assert_eq!(ex[0].text, "<START>\n{{user}}: Tea?\n{{char}}: Always.");
}
