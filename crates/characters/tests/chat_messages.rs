//! Messages, swipes, ratings, edits, branches and checkpoints.

use kindred_characters::chat::memory::Summary;
use kindred_characters::chat::{Author, Chat, ChatCharacter, ChatError, Message, Rating};

fn rating(n: u8) -> Rating {
    Rating::new(n).unwrap()
}

#[test]
fn ratings_are_one_to_four_stars() {
    assert_eq!(Rating::new(0), Err(ChatError::InvalidRating(0)));
    assert_eq!(Rating::new(5), Err(ChatError::InvalidRating(5)));
    for n in 1..=4 {
        assert_eq!(Rating::new(n).unwrap().stars(), n);
    }
    assert!(rating(3).is_good() && rating(4).is_good());
    assert!(!rating(1).is_good() && !rating(2).is_good());
    // Stored JSON with a zero or five is refused, not silently accepted.
    assert!(serde_json::from_str::<Rating>("0").is_err());
    assert!(serde_json::from_str::<Rating>("5").is_err());
    assert_eq!(serde_json::from_str::<Rating>("3").unwrap(), rating(3));
}

#[test]
fn unrated_is_none_not_zero() {
    let mut chat = Chat::new("c", 1).unwrap();
    let id = chat.append(Author::character("a"), "hello", 2).unwrap();
    let json = serde_json::to_value(&chat).unwrap();
    assert_eq!(
        json["messages"][0]["swipes"][0]["rating"],
        serde_json::Value::Null
    );
    chat.rate(&id, 0, Some(rating(2))).unwrap();
    let json = serde_json::to_value(&chat).unwrap();
    assert_eq!(json["messages"][0]["swipes"][0]["rating"], 2);
    chat.rate(&id, 0, None).unwrap();
    assert_eq!(chat.get(&id).unwrap().swipes[0].rating, None);
    assert!(matches!(
        chat.rate(&id, 3, Some(rating(1))),
        Err(ChatError::SwipeOutOfRange {
            index: 3,
            count: 1,
            ..
        })
    ));
}

#[test]
fn first_message_offers_card_greetings_as_swipes() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/cards/sillytavern-seraphina-v2.png"
    ))
    .expect("fixture card");
    let imported = kindred_characters::read_any(&bytes).expect("card parses");
    let mut card = imported.card;
    card.alternate_greetings = vec![
        "Second greeting.".into(),
        "  ".into(),
        "Third greeting.".into(),
    ];
    let character = ChatCharacter::from_card("seraphina", &card);
    assert_eq!(character.name, "Seraphina");
    assert_eq!(ChatCharacter::talkativeness(&card), 0.5);

    let chat = Chat::with_greeting("c1", &character.id, &character.greetings(), 10).unwrap();
    let first = &chat.messages[0];
    assert_eq!(first.author, Author::character("seraphina"));
    assert_eq!(
        first.swipes.len(),
        3,
        "first_mes plus two non-blank alternates"
    );
    assert!(!card.first_mes.trim().is_empty());
    assert_eq!(first.text(), card.first_mes);
    assert_eq!(first.swipes[1].text, "Second greeting.");
    assert_eq!(first.swipes[2].text, "Third greeting.");
    assert_eq!(first.chosen, 0);
}

#[test]
fn greeting_without_text_stays_well_formed() {
    let m = Message::greeting("m1", "x", &["", "   "], 0);
    assert_eq!(m.swipes.len(), 1);
    assert_eq!(m.text(), "");
}

#[test]
fn append_regenerate_continue_edit_delete() {
    let mut chat = Chat::with_greeting("c", "a", &["Hi!"], 0).unwrap();
    let u = chat.append(Author::User, "Tell me a story.", 1).unwrap();
    let r = chat
        .append(Author::character("a"), "Once upon a time", 2)
        .unwrap();
    assert_eq!(
        (u.as_str(), r.as_str()),
        ("m2", "m3"),
        "deterministic counter ids"
    );

    // Regenerate: a new swipe, shown.
    assert_eq!(chat.regenerate(&r, "Long ago", 3).unwrap(), 1);
    assert_eq!(chat.get(&r).unwrap().text(), "Long ago");
    // Continue extends the shown swipe only.
    chat.continue_message(&r, ", in a quiet town.", 4).unwrap();
    assert_eq!(chat.get(&r).unwrap().text(), "Long ago, in a quiet town.");
    assert_eq!(chat.get(&r).unwrap().swipes[0].text, "Once upon a time");
    // Going back to the first swipe.
    chat.choose_swipe(&r, 0, 5).unwrap();
    assert_eq!(chat.get(&r).unwrap().text(), "Once upon a time");
    assert!(chat.choose_swipe(&r, 2, 5).is_err());

    // Edits keep history.
    chat.edit(&u, "Tell me a short story.", 6).unwrap();
    chat.edit(&u, "Tell me a scary story.", 7).unwrap();
    let swipe = &chat.get(&u).unwrap().swipes[0];
    assert_eq!(swipe.text, "Tell me a scary story.");
    let history: Vec<&str> = swipe
        .edits
        .iter()
        .map(|e| e.previous_text.as_str())
        .collect();
    assert_eq!(history, ["Tell me a story.", "Tell me a short story."]);
    assert_eq!(swipe.edits[1].edited_at_ms, 7);

    // Hidden messages stay but leave the visible list.
    chat.set_hidden(&u, true, 8).unwrap();
    assert_eq!(chat.visible().count(), 2);
    assert_eq!(chat.len(), 3);

    let removed = chat.delete(&u, 9).unwrap();
    assert_eq!(removed.id, u);
    assert_eq!(chat.len(), 2);
    assert!(matches!(chat.get(&u), Err(ChatError::UnknownMessage(_))));
    // A deleted id is never handed out again by the counter.
    let next = chat.append(Author::User, "again", 10).unwrap();
    assert_eq!(next, "m4");
    assert_eq!(chat.updated_at_ms, 10);
}

#[test]
fn caller_ids_are_checked() {
    let mut chat = Chat::new("c", 0).unwrap();
    chat.append_with_id("m2", Author::User, "x", 1).unwrap();
    assert_eq!(
        chat.append_with_id("m2", Author::User, "y", 2),
        Err(ChatError::DuplicateMessageId("m2".into()))
    );
    assert!(matches!(
        chat.append_with_id("", Author::User, "y", 2),
        Err(ChatError::InvalidId { len: 0, .. })
    ));
    assert!(matches!(
        chat.append_with_id("x".repeat(500), Author::User, "y", 2),
        Err(ChatError::InvalidId { .. })
    ));
    // The counter skips ids the caller already used.
    chat.append(Author::User, "a", 3).unwrap();
    let id = chat.append(Author::User, "b", 4).unwrap();
    assert_eq!(id, "m3");
    assert!(Chat::new("", 0).is_err());
}

#[test]
fn branch_shares_history_and_links_parent() {
    let mut chat = Chat::with_greeting("main", "a", &["Hello."], 0).unwrap();
    let m2 = chat.append(Author::User, "Left or right?", 1).unwrap();
    let m3 = chat.append(Author::character("a"), "Left.", 2).unwrap();
    chat.append(Author::User, "Why left?", 3).unwrap();
    chat.pin(
        "The door on the left is locked.",
        Some(&m3),
        kindred_characters::chat::memory::PinnedBy::User,
        4,
    )
    .unwrap();

    let branch = chat.branch(&m2, "alt", 5).unwrap();
    assert_eq!(branch.len(), 2);
    assert_eq!(branch.messages[..], chat.messages[..2]);
    let link = branch.parent.as_ref().unwrap();
    assert_eq!(
        (
            link.parent_chat_id.as_str(),
            link.parent_message_id.as_str()
        ),
        ("main", m2.as_str())
    );
    // The pin came from a message the branch does not have.
    assert!(branch.memory.pinned.is_empty());
    // New messages in the branch do not collide with the parent's ids.
    let mut branch = branch;
    let new_id = branch.append(Author::character("a"), "Right.", 6).unwrap();
    assert!(chat.position(&new_id).is_none());
    assert!(chat.branch("nope", "x", 7).is_err());

    let cp = chat.checkpoint(&m3, "before the door", "cp1", 8).unwrap();
    assert_eq!(cp.checkpoint_name.as_deref(), Some("before the door"));
    assert_eq!(cp.len(), 3);
    assert_eq!(
        cp.memory.pinned.len(),
        1,
        "pin source is inside the checkpoint"
    );
    let rec = chat.find_checkpoint("before the door").unwrap();
    assert_eq!(
        (rec.chat_id.as_str(), rec.message_id.as_str()),
        ("cp1", m3.as_str())
    );
    assert!(matches!(
        chat.find_checkpoint("other"),
        Err(ChatError::UnknownCheckpoint(_))
    ));
}

#[test]
fn branch_keeps_only_summaries_of_copied_messages() {
    let mut chat = Chat::new("c", 0).unwrap();
    let ids: Vec<String> = (0..6)
        .map(|i| chat.append(Author::User, format!("msg {i}"), i).unwrap())
        .collect();
    let summary = |from: usize, to: usize| Summary {
        text: format!("{from}-{to}"),
        from_id: ids[from].clone(),
        to_id: ids[to].clone(),
        message_ids: ids[from..=to].to_vec(),
        created_at_ms: 0,
    };
    chat.memory.summaries = vec![summary(0, 1), summary(2, 3)];
    let b = chat.branch(&ids[2], "b", 9).unwrap();
    assert_eq!(b.memory.summaries.len(), 1);
    assert_eq!(b.memory.summaries[0].text, "0-1");
}

#[test]
fn chat_round_trips_through_json_and_repairs_corruption() {
    let mut chat = Chat::with_greeting("c", "a", &["One", "Two"], 0).unwrap();
    let id = chat.append(Author::Narrator, "The wind howls.", 1).unwrap();
    chat.rate(&id, 0, Some(rating(4))).unwrap();
    chat.append(Author::System, "Scene change.", 2).unwrap();
    let json = serde_json::to_string(&chat).unwrap();
    let back: Chat = serde_json::from_str(&json).unwrap();
    assert_eq!(back, chat);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["messages"][0]["author"],
        serde_json::json!({"kind": "character", "id": "a"})
    );
    assert_eq!(
        v["messages"][1]["author"],
        serde_json::json!({"kind": "narrator"})
    );

    // A stored message pointing past its swipes reads as empty, then repairs.
    let mut v = v;
    v["messages"][0]["chosen"] = serde_json::json!(7);
    let mut broken: Chat = serde_json::from_value(v).unwrap();
    assert_eq!(broken.messages[0].text(), "");
    assert!(broken.continue_message("m1", "x", 3).is_err());
    broken.repair();
    assert_eq!(broken.messages[0].text(), "Two");
}
