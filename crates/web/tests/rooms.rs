//! Rooms over JSON as the page drives them: creating and changing a room,
//! who speaks next, autonomous turns, dice, greetings, and the prompt of one
//! speaker (swap / join, names, nudge, stop strings, narrator).

use kindred_web::prompt::{build_prompt, PromptRequest};
use kindred_web::rooms::{autonomous_next_json, change_json, create_json, greetings_json, next_speakers_json, roll_json};
use serde_json::{json, Value};

fn words(t: &str) -> usize {
    t.split_whitespace().count()
}

fn card(name: &str, talk: f64) -> Value {
    json!({"name": name, "description": format!("{name} lives by the sea."), "first_mes": format!("Hello from {name}."),
           "extensions": {"talkativeness": talk}})
}

fn room3() -> Value {
    let req = json!({"id": "chat-1", "seed": 7, "members": [
        {"character_id": "a", "card": card("Ada", 0.5)},
        {"character_id": "b", "card": card("Ben", 0.5)},
        {"character_id": "c", "card": card("Cy", 0.5)},
    ]});
    serde_json::from_str(&create_json(&req.to_string()).unwrap()).unwrap()
}

fn change(room: &Value, change: Value) -> Result<Value, String> {
    change_json(&json!({"room": room, "change": change}).to_string()).map(|s| serde_json::from_str(&s).unwrap())
}

fn msg(id: u32, author: &str, text: &str) -> Value {
    let author = match author {
        "user" => json!({"kind": "user"}),
        "narrator" => json!({"kind": "narrator"}),
        id => json!({"kind": "character", "id": id}),
    };
    json!({"id": id.to_string(), "author": author, "text": text})
}

fn next(room: &Value, messages: &[Value]) -> (Vec<String>, Value) {
    let out: Value =
        serde_json::from_str(&next_speakers_json(&json!({"room": room, "messages": messages}).to_string()).unwrap()).unwrap();
    let ids = out["speakers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap_or("narrator").to_string()).collect();
    (ids, out["room"].clone())
}

#[test]
fn a_room_keeps_its_members_names_and_random_state_as_a_string() {
    let room = room3();
    let names: Vec<&str> = room["members"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ada", "Ben", "Cy"]);
    assert_eq!(room["rng"]["state"], json!("7"));
    assert_eq!(room["strategy"], json!("natural"));
}

#[test]
fn bad_rooms_are_refused_with_a_reason() {
    let one = json!({"id": "r", "seed": 1, "members": [{"character_id": "a", "card": card("Ada", 0.5)}]});
    assert!(create_json(&one.to_string()).unwrap_err().contains("at least 2"));
    let twice = json!({"id": "r", "seed": 1, "members": [
        {"character_id": "a", "card": card("Ada", 0.5)}, {"character_id": "a", "card": card("Ada", 0.5)}]});
    assert!(create_json(&twice.to_string()).unwrap_err().contains("already in the room"));
    assert!(create_json("{").is_err());
    let mut room = room3();
    room["rng"]["state"] = json!("not a number");
    assert!(next_speakers_json(&json!({"room": room, "messages": []}).to_string()).unwrap_err().contains("random state"));
    let room = room3();
    assert!(change(&room, json!({"op": "mute", "character_id": "zz", "muted": true})).unwrap_err().contains("zz"));
    assert!(change(&room, json!({"op": "explode"})).is_err());
}

#[test]
fn members_join_leave_and_mute() {
    let room = room3();
    let room = change(&room, json!({"op": "add", "member": {"character_id": "d", "card": card("Dee", 0.2)}})).unwrap();
    assert_eq!(room["members"][3]["name"], json!("Dee"));
    assert!((room["members"][3]["talkativeness"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    let room = change(&room, json!({"op": "remove", "character_id": "a"})).unwrap();
    let room = change(&room, json!({"op": "remove", "character_id": "b"})).unwrap();
    assert_eq!(room["members"].as_array().unwrap().len(), 2);
    assert!(change(&room, json!({"op": "remove", "character_id": "c"})).unwrap_err().contains("at least 2"));
    let room = change(&room, json!({"op": "mute", "character_id": "c", "muted": true})).unwrap();
    assert_eq!(room["members"][0]["muted"], json!(true));
}

#[test]
fn list_order_alternates_and_skips_the_muted() {
    let room = change(&room3(), json!({"op": "strategy", "strategy": "list_order"})).unwrap();
    let (ids, _) = next(&room, &[msg(1, "a", "hi")]);
    assert_eq!(ids, ["b", "c"]);
    let (ids, _) = next(&room, &[msg(1, "a", "hi"), msg(2, "b", "yo")]);
    assert_eq!(ids, ["c", "a"]);
    let muted = change(&room, json!({"op": "mute", "character_id": "c", "muted": true})).unwrap();
    let (ids, _) = next(&muted, &[msg(1, "a", "hi"), msg(2, "b", "yo")]);
    assert_eq!(ids, ["a"]);
}

#[test]
fn manual_chooses_nobody_and_natural_answers_a_name() {
    let manual = change(&room3(), json!({"op": "strategy", "strategy": "manual"})).unwrap();
    assert!(next(&manual, &[msg(1, "user", "Hello all")]).0.is_empty());
    let (ids, room) = next(&room3(), &[msg(1, "user", "What do you think, Cy?")]);
    assert_eq!(ids.first().map(String::as_str), Some("c"));
    assert_ne!(room["rng"]["state"], room3()["rng"]["state"], "the random state moved on");
}

#[test]
fn pooled_picks_who_spoke_least_recently() {
    let room = change(&room3(), json!({"op": "strategy", "strategy": "pooled"})).unwrap();
    let (ids, _) = next(&room, &[msg(1, "a", "x"), msg(2, "c", "y"), msg(3, "user", "z")]);
    assert_eq!(ids, ["b"]);
}

#[test]
fn autonomous_runs_the_requested_turns_then_stops() {
    let room = change(&room3(), json!({"op": "strategy", "strategy": "list_order"})).unwrap();
    let room = change(&room, json!({"op": "mute", "character_id": "c", "muted": true})).unwrap();
    let mut messages = vec![msg(1, "a", "hi")];
    let mut state = Value::Null;
    let mut room = room;
    let mut spoke = Vec::new();
    for i in 0..4 {
        let out: Value = serde_json::from_str(
            &autonomous_next_json(&json!({"room": room, "messages": messages, "autonomous": state, "turns": 3}).to_string())
                .unwrap(),
        )
        .unwrap();
        room = out["room"].clone();
        state = out["autonomous"].clone();
        match out["speaker"]["id"].as_str() {
            Some(id) => {
                spoke.push(id.to_string());
                messages.push(msg(10 + i, id, "words"));
            }
            None => {
                assert_eq!(out["stop_reason"], json!("turns_done"));
                break;
            }
        }
    }
    assert_eq!(spoke, ["b", "a", "b"]);
}

#[test]
fn autonomous_stops_when_the_user_speaks() {
    let room = change(&room3(), json!({"op": "strategy", "strategy": "list_order"})).unwrap();
    let messages = vec![msg(1, "a", "hi")];
    let out: Value =
        serde_json::from_str(&autonomous_next_json(&json!({"room": room, "messages": messages, "turns": 5}).to_string()).unwrap())
            .unwrap();
    let mut messages = messages;
    messages.push(msg(2, "b", "hey"));
    messages.push(msg(3, "user", "stop talking"));
    let again: Value = serde_json::from_str(
        &autonomous_next_json(&json!({"room": out["room"], "messages": messages, "autonomous": out["autonomous"]}).to_string())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(again["speaker"], Value::Null);
    assert_eq!(again["stop_reason"], json!("user_spoke"));
}

#[test]
fn dice_follow_the_rooms_random_state() {
    let room = room3();
    let roll = |room: &Value| -> Value {
        serde_json::from_str(&roll_json(&json!({"room": room, "text": "You roll {{roll:d20}} and {{roll 2d6+1}}."}).to_string()).unwrap())
            .unwrap()
    };
    let first = roll(&room);
    assert_eq!(first, roll(&room), "same state, same rolls");
    let text = first["text"].as_str().unwrap();
    assert!(!text.contains("{{"), "{text}");
    let d20 = first["rolls"][0]["total"].as_i64().unwrap();
    assert!((1..=20).contains(&d20));
    assert!(text.starts_with(&format!("You roll {d20} and ")));
    let second = roll(&first["room"]);
    assert_ne!(first["room"]["rng"], second["room"]["rng"]);
}

#[test]
fn greetings_come_one_per_unmuted_member_group_greetings_first() {
    let room = change(&room3(), json!({"op": "mute", "character_id": "b", "muted": true})).unwrap();
    let mut ada = card("Ada", 0.5);
    ada["group_only_greetings"] = json!(["Hello, everyone."]);
    let cast = json!([
        {"character_id": "a", "card": ada}, {"character_id": "b", "card": card("Ben", 0.5)},
        {"character_id": "c", "card": card("Cy", 0.5)}]);
    let out: Value = serde_json::from_str(&greetings_json(&json!({"room": room, "cast": cast}).to_string()).unwrap()).unwrap();
    assert_eq!(
        out,
        json!([
            {"character_id": "a", "greetings": ["Hello, everyone.", "Hello from Ada."]},
            {"character_id": "c", "greetings": ["Hello from Cy."]},
        ])
    );
}

fn room_request(mode: &str, narrator: Option<Value>) -> PromptRequest {
    serde_json::from_value(json!({
        "card": card("Ben", 0.5),
        "persona": {"name": "Sam"},
        "history": [
            {"author": "char", "name": "Ada", "text": "Hello from Ada."},
            {"author": "user", "text": "Hi both."},
            {"author": "narrator", "name": "Rook", "text": "Thunder rolls."},
            {"author": "char", "name": "Ada", "text": "Did you hear that, Ben?"},
        ],
        "settings": {"context_tokens": 4096, "reply_reserve": 64},
        "room": {"mode": mode, "others": [card("Ada", 0.5)], "narrator": narrator},
    }))
    .unwrap()
}

#[test]
fn swap_shows_only_the_speakers_card_and_names_every_line() {
    let reply = build_prompt(&room_request("swap", None), &words).unwrap();
    let system = &reply.messages[0].content;
    assert!(system.contains("Ben lives by the sea."), "{system}");
    assert!(!system.contains("Ada lives by the sea."), "{system}");
    let all: Vec<&str> = reply.messages.iter().map(|t| t.content.as_str()).collect();
    let joined = all.join("\n");
    assert!(joined.contains("Ada: Hello from Ada."), "{joined}");
    assert!(joined.contains("Rook: Thunder rolls."), "{joined}");
    let n = reply.messages.len();
    let nudge = &reply.messages[n - 2];
    assert_eq!(nudge.role, "user");
    assert!(nudge.content.ends_with("[Write the next reply only as Ben.]"), "{}", nudge.content);
    // The reply goes on from the speaker's name, as every line of the room is written.
    let last = &reply.messages[n - 1];
    assert_eq!((last.role, last.content.as_str()), ("assistant", "Ben:"));
    assert!(reply.continues);
    assert!(reply.stop.contains(&"\nAda:".to_string()), "{:?}", reply.stop);
    assert!(!reply.stop.contains(&"\nBen:".to_string()));
    assert_eq!(reply.char_name, "Ben");
}

#[test]
fn join_describes_every_member() {
    let reply = build_prompt(&room_request("join", None), &words).unwrap();
    let system = &reply.messages[0].content;
    assert!(system.contains("Ben lives by the sea."), "{system}");
    assert!(system.contains("[Ada]"), "{system}");
    assert!(system.contains("Ada lives by the sea."), "{system}");
}

#[test]
fn the_narrator_speaks_as_game_master_with_dice_left_for_the_room() {
    let reply = build_prompt(&room_request("join", Some(json!({"name": "Rook", "instructions": "A storm is coming."}))), &words).unwrap();
    let system = &reply.messages[0].content;
    assert!(system.contains("narrator and game master"), "{system}");
    assert!(system.contains("{{roll d20}}"), "the roll example is kept for the model: {system}");
    assert!(system.contains("A storm is coming."), "{system}");
    assert!(system.contains("- Ada: Ada lives by the sea."), "{system}");
    assert!(!system.contains("Ben lives by the sea."), "the request's card is not the narrator's");
    assert_eq!(reply.char_name, "Rook");
    let n = reply.messages.len();
    let nudge = &reply.messages[n - 2].content;
    assert!(nudge.ends_with("[Write the next reply only as Rook, the narrator.]"), "{nudge}");
    assert_eq!(reply.messages[n - 1].content, "Rook:");
    // The narrator's own earlier line is its own (assistant) turn now.
    assert!(reply.messages.iter().any(|t| t.role == "assistant" && t.content.contains("Rook: Thunder rolls.")));
}

#[test]
fn a_one_to_one_request_is_unchanged_by_rooms() {
    let mut req = room_request("swap", None);
    req.room = None;
    let reply = build_prompt(&req, &words).unwrap();
    assert!(!reply.messages.last().unwrap().content.contains("[Write the next reply"));
    assert!(!reply.stop.contains(&"\nAda:".to_string()));
    assert!(!reply.continues);
}

#[test]
fn continuing_a_room_message_ends_with_it_unprimed() {
    let mut req = room_request("swap", None);
    req.history.push(said("char", "Ben", "Well, I"));
    req.mode = serde_json::from_value(json!("continue")).unwrap();
    let reply = build_prompt(&req, &words).unwrap();
    assert!(reply.continues);
    let last = reply.messages.last().unwrap();
    assert_eq!(last.role, "assistant");
    assert!(last.content.ends_with("Ben: Well, I"), "{}", last.content);
}

fn said(author: &str, name: &str, text: &str) -> kindred_characters::prompt::HistoryMessage {
    serde_json::from_value(json!({"author": author, "name": name, "text": text})).unwrap()
}
