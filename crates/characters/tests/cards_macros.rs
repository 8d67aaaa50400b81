//! Macro expansion and example-dialogue splitting.

use std::collections::BTreeSet;

use kindred_characters::macros::{expand, split_examples, MacroContext, MAX_GROWTH};
use kindred_characters::rng::Rng;

fn ctx(seed: u64) -> MacroContext<'static> {
    MacroContext {
        char_name: "Seraphina",
        user_name: "Tom",
        chat_seed: 42,
        seed,
    }
}

#[test]
fn names_in_every_spelling() {
    let out = expand(
        "{{char}} greets {{user}}; <BOT> and <USER>; {{CHAR}} {{User}} <bot> <User> {{ char }}",
        &ctx(1),
    );
    assert_eq!(
        out,
        "Seraphina greets Tom; Seraphina and Tom; Seraphina Tom Seraphina Tom Seraphina"
    );
}

#[test]
fn unknown_and_unclosed_macros_are_left_alone() {
    let c = ctx(1);
    assert_eq!(
        expand("{{original}} and {{mood}}", &c),
        "{{original}} and {{mood}}"
    );
    assert_eq!(expand("{{user", &c), "{{user");
    assert_eq!(expand("user}} {{", &c), "user}} {{");
    assert_eq!(expand("<BOTTLE> <US>", &c), "<BOTTLE> <US>");
    assert_eq!(expand("plain text, ünïcödé ✓", &c), "plain text, ünïcödé ✓");
}

#[test]
fn substituted_names_are_not_expanded_again() {
    let c = MacroContext {
        char_name: "{{user}}",
        user_name: "<BOT>{{random:a,b}}",
        chat_seed: 0,
        seed: 0,
    };
    assert_eq!(
        expand("{{char}}|{{user}}", &c),
        "{{user}}|<BOT>{{random:a,b}}"
    );
}

#[test]
fn comments_are_removed() {
    assert_eq!(
        expand("a{{// note to self, with {{user}} }}b", &ctx(1)),
        "ab"
    );
    assert_eq!(expand("a{{ //x}}b", &ctx(1)), "ab");
}

#[test]
fn random_chooses_among_options_and_follows_the_seed() {
    let mut seen = BTreeSet::new();
    for seed in 0..200 {
        let out = expand("{{random:red,green, blue}}", &ctx(seed));
        assert!(["red", "green", "blue"].contains(&out.as_str()), "{out:?}");
        assert_eq!(
            out,
            expand("{{random:red,green, blue}}", &ctx(seed)),
            "same seed, same result"
        );
        seen.insert(out);
    }
    assert_eq!(seen.len(), 3, "every option comes up");

    // The double-colon form allows commas inside options.
    let mut seen = BTreeSet::new();
    for seed in 0..100 {
        seen.insert(expand("{{random::a, b::c, d}}", &ctx(seed)));
    }
    assert_eq!(
        seen,
        BTreeSet::from(["a, b".to_string(), "c, d".to_string()])
    );
    assert_eq!(expand("[{{random:}}]", &ctx(3)), "[]");
}

#[test]
fn random_sees_nested_macros() {
    let mut seen = BTreeSet::new();
    for seed in 0..100 {
        seen.insert(expand("{{random:{{char}},{{user}}}}", &ctx(seed)));
    }
    assert_eq!(
        seen,
        BTreeSet::from(["Seraphina".to_string(), "Tom".to_string()])
    );
}

#[test]
fn pick_is_stable_per_chat_and_varies_between_chats() {
    let text = "{{pick:a,b,c,d,e,f,g,h}} {{pick:a,b,c,d,e,f,g,h}}";
    let first = expand(text, &ctx(1));
    for seed in 2..50 {
        assert_eq!(
            expand(text, &ctx(seed)),
            first,
            "pick ignores the per-generation seed"
        );
    }
    let mut across_chats = BTreeSet::new();
    for chat_seed in 0..50 {
        across_chats.insert(expand(
            text,
            &MacroContext {
                chat_seed,
                ..ctx(1)
            },
        ));
    }
    assert!(
        across_chats.len() > 10,
        "different chats pick differently: {across_chats:?}"
    );
    // Two identical picks at different places are drawn independently.
    let differ = (0..50).any(|chat_seed| {
        let out = expand(
            text,
            &MacroContext {
                chat_seed,
                ..ctx(1)
            },
        );
        let (a, b) = out.split_once(' ').unwrap();
        a != b
    });
    assert!(differ);
}

#[test]
fn rolls_stay_in_range_and_cover_it() {
    let mut seen = BTreeSet::new();
    for seed in 0..400 {
        let n: i64 = expand("{{roll:d20}}", &ctx(seed)).parse().unwrap();
        assert!((1..=20).contains(&n));
        seen.insert(n);
        let n: i64 = expand("{{roll:2d6}}", &ctx(seed)).parse().unwrap();
        assert!((2..=12).contains(&n));
        let n: i64 = expand("{{roll: 1d4 + 10}}", &ctx(seed)).parse().unwrap();
        assert!((11..=14).contains(&n));
        let n: i64 = expand("{{roll:6}}", &ctx(seed)).parse().unwrap();
        assert!((1..=6).contains(&n));
    }
    assert_eq!(seen.len(), 20, "every face of a d20 comes up in 400 rolls");
    for bad in [
        "{{roll:}}",
        "{{roll:d0}}",
        "{{roll:0d6}}",
        "{{roll:5000d6}}",
        "{{roll:dx}}",
        "{{roll:99999999999999999999}}",
    ] {
        assert_eq!(expand(bad, &ctx(1)), bad, "{bad} stays as written");
    }
}

#[test]
fn trim_removes_the_whitespace_around_it() {
    assert_eq!(
        expand("Hello  \n{{trim}}\n\n  world", &ctx(1)),
        "Helloworld"
    );
    assert_eq!(expand("{{trim}}  x  ", &ctx(1)), "x  ");
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = "{{random:".repeat(50) + "x" + &"}}".repeat(50);
    let out = expand(&deep, &ctx(1));
    assert!(
        out.contains("{{random:"),
        "levels past the limit stay as written"
    );
    // Lots of unmatched openers: linear, not quadratic.
    let many = "{{".repeat(200_000);
    assert_eq!(expand(&many, &ctx(1)), many);
}

#[test]
fn growth_is_capped() {
    let name = "N".repeat(1 << 20);
    let c = MacroContext {
        char_name: &name,
        user_name: "u",
        chat_seed: 0,
        seed: 0,
    };
    let text = "{{char}}".repeat(100);
    let out = expand(&text, &c);
    assert!(out.len() <= text.len() + MAX_GROWTH, "{} bytes", out.len());
    assert!(out.starts_with(&name), "substitutions happen until the cap");
    assert!(out.ends_with("{{char}}"), "and stop after it");
}

#[test]
fn seeded_rng_is_reproducible_and_bounded() {
    let a: Vec<u64> = {
        let mut r = Rng::new(7);
        (0..5).map(|_| r.next_u64()).collect()
    };
    let b: Vec<u64> = {
        let mut r = Rng::new(7);
        (0..5).map(|_| r.next_u64()).collect()
    };
    let c: Vec<u64> = {
        let mut r = Rng::new(8);
        (0..5).map(|_| r.next_u64()).collect()
    };
    assert_eq!(a, b);
    assert_ne!(a, c);
    let mut r = Rng::new(1);
    assert!((0..1000).all(|_| r.below(3) < 3));
    assert_eq!(r.below(0), 0);
}

#[test]
fn examples_split_on_start() {
    let text = "<START>\r\n{{user}}: Hi\r\n{{char}}: Hello\r\n<start>\n{{user}}: Bye\n<START>\n  \n<START>";
    assert_eq!(
        split_examples(text),
        vec!["{{user}}: Hi\r\n{{char}}: Hello", "{{user}}: Bye"]
    );
    assert!(split_examples("<START>").is_empty());
    assert!(split_examples("").is_empty());
    assert_eq!(split_examples("no marker"), vec!["no marker"]);
}
