//! Datasets from rated chats: preference pairs (TRL, OpenAI DPO), KTO,
//! OpenAI chat fine-tuning and adaptive example dialogues.

mod chat_support;

use chat_support::count_tokens;
use kindred_characters::chat::dataset::{
    adaptive_examples, kto_examples, preference_pairs, sft_messages, to_kto_jsonl,
    to_openai_chat_jsonl, to_openai_dpo_jsonl, to_trl_jsonl, AdaptiveConfig, DatasetContext,
    ExampleSource,
};
use kindred_characters::chat::{Author, Chat, ChatCharacter, Names, Rating};
use serde_json::{json, Value};

fn rika() -> ChatCharacter {
    let mut c = ChatCharacter::new("rika", "Rika");
    c.description = "A cheerful shrine keeper.".into();
    c.personality = "warm, teasing".into();
    c
}

fn stars(n: u8) -> Option<Rating> {
    Some(Rating::new(n).unwrap())
}

/// Greeting, user, rated reply (4 swipes), user, reply rated 2.
fn rated_chat() -> Chat {
    let mut chat = Chat::with_greeting("c1", "rika", &["Welcome to the shrine!"], 0).unwrap();
    chat.append(Author::User, "What do you do all day?", 1)
        .unwrap();
    let r = chat
        .append(
            Author::character("rika"),
            "I sweep leaves and tease visitors.",
            2,
        )
        .unwrap();
    chat.regenerate(&r, "Nothing much.", 3).unwrap();
    chat.regenerate(&r, "I keep the shrine, and I listen to wishes.", 4)
        .unwrap();
    chat.regenerate(&r, "Unrated reply.", 5).unwrap();
    chat.rate(&r, 0, stars(3)).unwrap();
    chat.rate(&r, 1, stars(1)).unwrap();
    chat.rate(&r, 2, stars(4)).unwrap();
    chat.choose_swipe(&r, 2, 6).unwrap();
    chat.append(Author::User, "Can I make a wish?", 7).unwrap();
    let r2 = chat.append(Author::character("rika"), "No.", 8).unwrap();
    chat.rate(&r2, 0, stars(2)).unwrap();
    chat
}

fn lines(jsonl: &str) -> Vec<Value> {
    assert!(jsonl.ends_with('\n'));
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn preference_pairs_from_rated_swipes() {
    let chat = rated_chat();
    let names = Names::new("Sam");
    let rika = rika();
    let ctx = DatasetContext {
        character: &rika,
        names: &names,
    };
    let pairs = preference_pairs(&chat, &ctx);
    // Ratings 3, 1, 4 give 4>3, 4>1, 3>1; widest gap first. The single
    // rating of the last reply makes no pair.
    let got: Vec<(Option<u8>, Option<u8>)> = pairs
        .iter()
        .map(|p| (p.chosen_rating, p.rejected_rating))
        .collect();
    assert_eq!(
        got,
        [(Some(4), Some(1)), (Some(3), Some(1)), (Some(4), Some(3))]
    );
    assert_eq!(
        pairs[0].chosen,
        "I keep the shrine, and I listen to wishes."
    );
    assert_eq!(pairs[0].rejected, "Nothing much.");
    assert_eq!(pairs[0].source, "m3");
    let prompt = serde_json::to_value(&pairs[0].prompt).unwrap();
    assert_eq!(prompt[0]["role"], "system");
    assert!(prompt[0]["content"]
        .as_str()
        .unwrap()
        .contains("A cheerful shrine keeper."));
    assert_eq!(
        prompt[1],
        json!({"role": "assistant", "content": "Welcome to the shrine!"})
    );
    assert_eq!(
        prompt[2],
        json!({"role": "user", "content": "What do you do all day?"})
    );
    assert_eq!(
        prompt.as_array().unwrap().len(),
        3,
        "only what came before the message"
    );

    let trl = lines(&to_trl_jsonl(&pairs).unwrap());
    assert_eq!(trl.len(), 3);
    assert_eq!(trl[0]["prompt"], prompt);
    assert_eq!(
        trl[0]["chosen"],
        json!([{"role": "assistant", "content": "I keep the shrine, and I listen to wishes."}])
    );
    assert_eq!(
        trl[0]["rejected"],
        json!([{"role": "assistant", "content": "Nothing much."}])
    );

    let dpo = lines(&to_openai_dpo_jsonl(&pairs).unwrap());
    assert_eq!(dpo.len(), 3);
    assert_eq!(dpo[1]["input"]["messages"], prompt);
    assert_eq!(
        dpo[1]["preferred_output"],
        json!([{"role": "assistant", "content": "I sweep leaves and tease visitors."}])
    );
    assert_eq!(
        dpo[1]["non_preferred_output"][0]["content"],
        "Nothing much."
    );
    let mut keys: Vec<&String> = dpo[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["input", "non_preferred_output", "preferred_output"]);
}

#[test]
fn other_characters_and_hidden_messages() {
    let mut chat = rated_chat();
    chat.set_hidden("m2", true, 9).unwrap();
    let names = Names::new("Sam");
    let rika = rika();
    let ctx = DatasetContext {
        character: &rika,
        names: &names,
    };
    let pairs = preference_pairs(&chat, &ctx);
    let roles: Vec<&str> = pairs[0].prompt.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(
        roles,
        ["system", "assistant"],
        "the hidden user line is left out"
    );
    // From another character's point of view there is nothing to prefer.
    let other = ChatCharacter::new("bo", "Bo");
    assert!(preference_pairs(
        &chat,
        &DatasetContext {
            character: &other,
            names: &names
        }
    )
    .is_empty());

    // In a room, others speak on the user side with their names, merged.
    let mut room = Chat::new("r", 0).unwrap();
    room.append(Author::User, "Hello both.", 1).unwrap();
    room.append(Author::character("bo"), "Hi.", 2).unwrap();
    room.append(Author::Narrator, "Thunder rolls.", 3).unwrap();
    let r = room.append(Author::character("rika"), "Eek!", 4).unwrap();
    room.regenerate(&r, "Just thunder.", 5).unwrap();
    room.rate(&r, 0, stars(1)).unwrap();
    room.rate(&r, 1, stars(4)).unwrap();
    let names = Names::new("Sam").with_character("bo", "Bo");
    let pairs = preference_pairs(
        &room,
        &DatasetContext {
            character: &rika,
            names: &names,
        },
    );
    assert_eq!(pairs.len(), 1);
    let p = serde_json::to_value(&pairs[0].prompt).unwrap();
    assert_eq!(
        p[1],
        json!({"role": "user", "content": "Sam: Hello both.\n\nBo: Hi.\n\nNarrator: Thunder rolls."})
    );
    assert_eq!(pairs[0].chosen, "Just thunder.");
}

#[test]
fn kto_labels_follow_stars() {
    let chat = rated_chat();
    let names = Names::new("Sam");
    let rika = rika();
    let ctx = DatasetContext {
        character: &rika,
        names: &names,
    };
    let ex = kto_examples(&chat, &ctx);
    let got: Vec<(u8, bool)> = ex.iter().map(|e| (e.rating, e.label)).collect();
    assert_eq!(got, [(3, true), (1, false), (4, true), (2, false)]);
    let rows = lines(&to_kto_jsonl(&ex).unwrap());
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3]["label"], false);
    assert_eq!(
        rows[3]["completion"],
        json!([{"role": "assistant", "content": "No."}])
    );
    let last_prompt = rows[3]["prompt"].as_array().unwrap();
    assert_eq!(
        last_prompt.last().unwrap(),
        &json!({"role": "user", "content": "Can I make a wish?"})
    );
    assert_eq!(
        last_prompt[2]["content"], "What do you do all day?",
        "earlier turns use the shown swipe"
    );
    assert_eq!(
        last_prompt[3]["content"],
        "I keep the shrine, and I listen to wishes."
    );
    assert_eq!(rows[0]["label"], true);
}

#[test]
fn openai_chat_fine_tuning_lines() {
    let chat = rated_chat();
    let names = Names::new("Sam");
    let rika = rika();
    let ctx = DatasetContext {
        character: &rika,
        names: &names,
    };
    let msgs = sft_messages(&chat, &ctx).unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(
        roles,
        [
            "system",
            "assistant",
            "user",
            "assistant",
            "user",
            "assistant"
        ]
    );
    // The last reply was rated 2 stars: kept as context with weight 0.
    assert_eq!(msgs[5].weight, Some(0));
    assert_eq!(msgs[3].weight, Some(1));

    let mut unrated = Chat::new("c2", 0).unwrap();
    unrated.append(Author::User, "Hi", 1).unwrap();
    unrated
        .append(Author::character("rika"), "Hello!", 2)
        .unwrap();
    unrated
        .append(Author::User, "Trailing user line", 3)
        .unwrap();
    let empty = Chat::new("c3", 0).unwrap();
    let out = to_openai_chat_jsonl([(&chat, ctx), (&unrated, ctx), (&empty, ctx)]).unwrap();
    let rows = lines(&out);
    assert_eq!(rows.len(), 2, "a chat with no assistant turn gives no line");
    assert_eq!(rows[0]["messages"][5]["weight"], 0);
    assert_eq!(rows[0]["messages"][0]["role"], "system");
    assert_eq!(
        rows[1],
        json!({"messages": [
            {"role": "system", "content": rika.system_message()},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"}
        ]}),
        "no weights when none is zero; trailing user turn dropped"
    );
    assert!(rika.system_message().starts_with("You are Rika."));
}

#[test]
fn adaptive_examples_take_the_best_replies_within_bounds() {
    let chat = rated_chat();
    let mut other = Chat::new("c9", 0).unwrap();
    other
        .append(Author::User, "Favourite season?", 100)
        .unwrap();
    let r = other
        .append(
            Author::character("rika"),
            "Autumn, for the leaves I get to sweep!",
            101,
        )
        .unwrap();
    other.rate(&r, 0, stars(4)).unwrap();
    let r2 = other
        .append(Author::character("rika"), "Also spring.", 102)
        .unwrap();
    other.rate(&r2, 0, stars(4)).unwrap();

    let config = AdaptiveConfig {
        max_examples: 5,
        max_tokens: 1000,
        min_rating: 4,
    };
    let ex = adaptive_examples(&[&chat, &other], "rika", &config, &count_tokens);
    let texts: Vec<&str> = ex.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "<START>\n{{char}}: Also spring.",
            "<START>\n{{user}}: Favourite season?\n{{char}}: Autumn, for the leaves I get to sweep!",
            "<START>\n{{user}}: What do you do all day?\n{{char}}: I keep the shrine, and I listen to wishes.",
        ],
        "4 stars only, newest first; a reply after a reply has no user line"
    );
    assert_eq!(
        ex[1].source,
        ExampleSource::Chat {
            chat_id: "c9".into(),
            message_id: "m2".into()
        }
    );
    assert_eq!(ex[1].rating, Some(4));
    assert_eq!(ex[1].tokens, count_tokens(&ex[1].text));

    let tight = AdaptiveConfig {
        max_examples: 5,
        max_tokens: 15,
        min_rating: 4,
    };
    let ex = adaptive_examples(&[&chat, &other], "rika", &tight, &count_tokens);
    assert!(ex.iter().map(|e| e.tokens).sum::<usize>() <= 15);
    assert_eq!(ex.len(), 1);
    let one = AdaptiveConfig {
        max_examples: 1,
        ..config.clone()
    };
    assert_eq!(
        adaptive_examples(&[&chat, &other], "rika", &one, &count_tokens).len(),
        1
    );
    let three = AdaptiveConfig {
        min_rating: 3,
        ..config
    };
    assert_eq!(
        adaptive_examples(&[&chat], "rika", &three, &count_tokens).len(),
        2
    );
}
