//! Rooms for the page: several characters (and a narrator) in one chat.
//!
//! The page keeps a room as JSON on its chat record. These functions run the
//! chat domain's room logic over that JSON (members, mute, who speaks next,
//! autonomous turns, dice, opening greetings) and hand the room back, since
//! its random state moves on with every choice. A room's random state is a
//! u64, which a JS number cannot hold exactly, so on the page it travels as
//! a decimal string (`rng.state`).
//!
//! [`prepare`] turns a prompt request with a [`RoomTurn`] into the request
//! for one speaker: swap (only the speaker's card) or join (every member's),
//! names on every character's line, and the group nudge last.

use kindred_characters::chat::narrator::Narrator;
use kindred_characters::chat::room::GROUP_NUDGE;
use kindred_characters::chat::{Author, Autonomous, Chat, ChatCharacter, PromptMode, Room, Speaker, SpeakerStrategy, StopReason};
use kindred_characters::persona::{one_line, MAX_NAME_CHARS};
use kindred_characters::prompt::Author as HistoryAuthor;
use kindred_characters::Card;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::prompt::PromptRequest;
use crate::turns::Turn;

/// What a narrator that is not speaking is called in stop strings.
const NARRATOR_NAME: &str = "Narrator";

/// A chat message as speaker choice sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct RoomMessage {
    pub id: String,
    pub author: Author,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub hidden: bool,
}

/// One member of a new room, or one joining: the character's id and card.
#[derive(Debug, Clone, Deserialize)]
pub struct NewMember {
    pub character_id: String,
    pub card: Card,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewRoom {
    pub id: String,
    pub seed: u64,
    pub members: Vec<NewMember>,
}

/// A change to a room.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RoomChange {
    Add { member: Box<NewMember> },
    Remove { character_id: String },
    Mute { character_id: String, muted: bool },
    Strategy { strategy: SpeakerStrategy },
    PromptMode { mode: PromptMode },
    AllowSelf { allow: bool },
    /// `None` removes the narrator.
    Narrator { narrator: Option<Narrator> },
}

/// Rooms need at least this many members to be worth the name.
pub const MIN_MEMBERS: usize = 2;

fn from_wire(room: &Value) -> Result<Room, String> {
    let mut room = room.clone();
    if let Some(state) = room.pointer_mut("/rng/state") {
        if let Some(s) = state.as_str() {
            let n: u64 = s.trim().parse().map_err(|_| format!("room: random state {s:?} is not a whole number"))?;
            *state = Value::from(n);
        }
    }
    serde_json::from_value(room).map_err(|e| format!("room: {e}"))
}

fn to_wire(room: &Room) -> Result<Value, String> {
    let mut v = serde_json::to_value(room).map_err(|e| format!("room: {e}"))?;
    if let Some(state) = v.pointer_mut("/rng/state") {
        *state = Value::from(room.rng.state.to_string());
    }
    Ok(v)
}

fn member_name(card: &Card) -> String {
    match one_line(card.display_name(), MAX_NAME_CHARS) {
        n if n.is_empty() => "Character".to_string(),
        n => n,
    }
}

fn add_member(room: &mut Room, m: &NewMember) -> Result<(), String> {
    let talkativeness = ChatCharacter::talkativeness(&m.card);
    room.add_member(&m.character_id, &member_name(&m.card), talkativeness).map_err(|e| e.to_string())
}

pub fn create(req: &NewRoom) -> Result<Room, String> {
    if req.members.len() < MIN_MEMBERS {
        return Err(format!("a room needs at least {MIN_MEMBERS} characters"));
    }
    let mut room = Room::new(req.id.clone(), req.seed).map_err(|e| e.to_string())?;
    for m in &req.members {
        add_member(&mut room, m)?;
    }
    Ok(room)
}

pub fn change(room: &mut Room, change: &RoomChange) -> Result<(), String> {
    match change {
        RoomChange::Add { member } => add_member(room, member),
        RoomChange::Remove { character_id } => {
            if room.members.len() <= MIN_MEMBERS {
                return Err(format!("a room keeps at least {MIN_MEMBERS} characters"));
            }
            room.remove_member(character_id).map(|_| ()).map_err(|e| e.to_string())
        }
        RoomChange::Mute { character_id, muted } => room.set_muted(character_id, *muted).map_err(|e| e.to_string()),
        RoomChange::Strategy { strategy } => {
            room.strategy = *strategy;
            Ok(())
        }
        RoomChange::PromptMode { mode } => {
            room.prompt_mode = *mode;
            Ok(())
        }
        RoomChange::AllowSelf { allow } => {
            room.allow_self_responses = *allow;
            Ok(())
        }
        RoomChange::Narrator { narrator } => {
            room.narrator = narrator.clone().map(|mut n| {
                n.name = match one_line(&n.name, MAX_NAME_CHARS) {
                    s if s.is_empty() => NARRATOR_NAME.to_string(),
                    s => s,
                };
                n
            });
            Ok(())
        }
    }
}

/// The room's chat as the domain sees it; timestamps do not matter here.
pub fn to_chat(room: &Room, messages: &[RoomMessage]) -> Result<Chat, String> {
    let mut chat = Chat::new(room.id.clone(), 0).map_err(|e| e.to_string())?;
    for m in messages {
        chat.append_with_id(m.id.clone(), m.author.clone(), m.text.clone(), 0).map_err(|e| e.to_string())?;
        if m.hidden {
            chat.set_hidden(&m.id, true, 0).map_err(|e| e.to_string())?;
        }
    }
    Ok(chat)
}

/// Opening greetings: one message per unmuted member with greetings, its
/// group-only greetings first. Returns (character id, greetings) in order.
pub fn greetings(room: &Room, cast: &[NewMember]) -> Result<Vec<(String, Vec<String>)>, String> {
    let cast: Vec<ChatCharacter> = cast.iter().map(|m| ChatCharacter::from_card(m.character_id.clone(), &m.card)).collect();
    let mut chat = Chat::new(room.id.clone(), 0).map_err(|e| e.to_string())?;
    room.open_chat(&mut chat, &cast, 0).map_err(|e| e.to_string())?;
    Ok(chat
        .messages
        .iter()
        .filter_map(|m| {
            let id = m.author.character_id()?.to_string();
            Some((id, m.swipes.iter().map(|s| s.text.clone()).collect()))
        })
        .collect())
}

/// How one speaker's prompt is made in a room.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoomTurn {
    pub mode: PromptMode,
    /// The other members' cards (V3 `data`), in room order.
    pub others: Vec<Card>,
    /// Set when the narrator speaks; the request's `card` is then unused.
    pub narrator: Option<Narrator>,
}

/// A room request rewritten for one speaker.
pub struct Prepared {
    pub request: PromptRequest,
    /// The cards the prompt presents, the speaker first.
    pub cast: Vec<Card>,
    /// Lines that start another member's turn: the reply ends there.
    pub stop: Vec<String>,
    /// The speaker's name as every line of theirs is written.
    pub speaker: String,
}

pub fn prepare(req: &PromptRequest, turn: &RoomTurn) -> Prepared {
    let mut request = req.clone();
    request.room = None;
    let narrating = turn.narrator.is_some();
    if let Some(narrator) = &turn.narrator {
        request.card = narrator_card(narrator, &turn.others);
        // The narrator's book would be the first member's otherwise.
        request.lorebooks.clear();
    }
    let speaker = member_name(&request.card);
    let narrator_name = turn.narrator.as_ref().map_or(NARRATOR_NAME.to_string(), |n| n.name.clone());
    for m in &mut request.history {
        let author = m.author;
        if narrating && author == HistoryAuthor::Narrator {
            m.author = HistoryAuthor::Char;
        }
        let default = match author {
            HistoryAuthor::Char => &speaker,
            HistoryAuthor::Narrator => &narrator_name,
            _ => continue,
        };
        let name = match one_line(&m.name, MAX_NAME_CHARS) {
            n if n.is_empty() => default.clone(),
            n => n,
        };
        // Every character writes as "assistant"; the name says who.
        if !m.text.starts_with(&format!("{name}:")) {
            m.text = format!("{name}: {}", m.text);
        }
        m.name = name;
    }
    let nudge = match &turn.narrator {
        Some(n) => format!("[Write the next reply only as {}, the narrator.]", n.name),
        None => GROUP_NUDGE.replace("{{char}}", &speaker),
    };
    let post = &mut request.settings.post_history;
    *post = if post.trim().is_empty() { nudge } else { format!("{}\n{nudge}", post.trim_end()) };

    let mut cast = vec![request.card.clone()];
    if turn.mode == PromptMode::Join && !narrating {
        cast.extend(turn.others.iter().cloned());
    }
    let mut stop: Vec<String> = turn.others.iter().map(|c| format!("\n{}:", member_name(c))).collect();
    if !narrating {
        stop.push(format!("\n{narrator_name}:"));
    }
    stop.retain(|s| s != &format!("\n{speaker}:"));
    stop.dedup();
    Prepared { request, cast, stop, speaker }
}

/// Opens the speaker's turn with their name, as the room writes every line: a small model
/// then goes on as that speaker instead of starting someone else's turn (or the user's).
/// True when the turn was added: the reply continues it.
pub fn prime(turns: &mut Vec<Turn>, prepared: &Prepared) -> bool {
    if turns.last().is_none_or(|t| t.role == "assistant") {
        return false;
    }
    turns.push(Turn { role: "assistant", content: format!("{}:", prepared.speaker), name: None });
    true
}

/// The narrator as a card: its role, the game's rules and the cast.
fn narrator_card(narrator: &Narrator, others: &[Card]) -> Card {
    let mut card = Card { name: narrator.name.clone(), ..Card::default() };
    let Ok(mut room) = Room::new("narration", 0) else { return card };
    let mut cast = Vec::new();
    for (i, other) in others.iter().enumerate() {
        let id = format!("m{i}");
        if room.add_member(&id, &member_name(other), 0.5).is_ok() {
            cast.push(ChatCharacter::from_card(id, other));
        }
    }
    // The roll macros are examples for the model, not dice to roll now: the card macro
    // expander leaves the `{{roll d20}}` spelling alone, and the room's dice accept it.
    card.description = narrator.prompt(&room, &cast).character_text.replace("{{roll:", "{{roll ");
    card
}

// ---- wasm-bindgen surface: JSON text in, JSON text out -----------------------------------

fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| format!("{what}: {e}"))
}

fn field<T: DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    let got = v.get(key).cloned().unwrap_or(Value::Null);
    serde_json::from_value(got).map_err(|e| format!("{key}: {e}"))
}

fn room_of(v: &Value) -> Result<Room, String> {
    from_wire(v.get("room").ok_or("the request has no room")?)
}

fn reply(v: Value) -> Result<String, String> {
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

fn js(r: Result<String, String>) -> Result<String, JsError> {
    r.map_err(|e| JsError::new(&e))
}

/// `{id, seed, members: [{character_id, card}]}` -> the room.
pub fn create_json(json: &str) -> Result<String, String> {
    let req: NewRoom = parse("new room", json)?;
    reply(to_wire(&create(&req)?)?)
}

/// `{room, change: {op, ...}}` -> the room.
pub fn change_json(json: &str) -> Result<String, String> {
    let v: Value = parse("room change", json)?;
    let mut room = room_of(&v)?;
    change(&mut room, &field::<RoomChange>(&v, "change")?)?;
    reply(to_wire(&room)?)
}

/// `{room, messages}` -> `{speakers, room}`.
pub fn next_speakers_json(json: &str) -> Result<String, String> {
    let v: Value = parse("speaker request", json)?;
    let mut room = room_of(&v)?;
    let chat = to_chat(&room, &field::<Vec<RoomMessage>>(&v, "messages")?)?;
    let speakers = room.next_speakers(&chat);
    reply(serde_json::json!({"speakers": speakers, "room": to_wire(&room)?}))
}

/// `{room, messages, autonomous?, turns}`: the next speaker of an autonomous
/// run (started with `turns` when `autonomous` is absent) -> `{speaker,
/// stop_reason, autonomous, room}`; `speaker` is null once the run ended.
pub fn autonomous_next_json(json: &str) -> Result<String, String> {
    let v: Value = parse("autonomous request", json)?;
    let mut room = room_of(&v)?;
    let chat = to_chat(&room, &field::<Vec<RoomMessage>>(&v, "messages")?)?;
    let mut auto = match field::<Option<Autonomous>>(&v, "autonomous")? {
        Some(a) => a,
        None => Autonomous::start(field::<u32>(&v, "turns")?, &chat),
    };
    let speaker: Option<Speaker> = auto.next(&mut room, &chat);
    let stop_reason: Option<StopReason> = match &auto.state {
        kindred_characters::chat::AutonomousState::Stopped { reason } => Some(*reason),
        _ => None,
    };
    reply(serde_json::json!({
        "speaker": speaker, "stop_reason": stop_reason, "autonomous": auto, "room": to_wire(&room)?,
    }))
}

/// `{room, text}` -> `{text, rolls, room}`: every `{{roll:…}}` replaced by its total.
pub fn roll_json(json: &str) -> Result<String, String> {
    let v: Value = parse("dice request", json)?;
    let mut room = room_of(&v)?;
    let text: String = field(&v, "text")?;
    let (text, rolls) = Narrator::resolve_dice(&mut room, &text);
    reply(serde_json::json!({"text": text, "rolls": rolls, "room": to_wire(&room)?}))
}

/// `{room, cast: [{character_id, card}]}` -> `[{character_id, greetings}]`.
pub fn greetings_json(json: &str) -> Result<String, String> {
    let v: Value = parse("greetings request", json)?;
    let room = room_of(&v)?;
    let list = greetings(&room, &field::<Vec<NewMember>>(&v, "cast")?)?;
    let out: Vec<Value> = list
        .into_iter()
        .map(|(id, g)| serde_json::json!({"character_id": id, "greetings": g}))
        .collect();
    reply(Value::from(out))
}

#[wasm_bindgen]
pub fn room_create(json: &str) -> Result<String, JsError> {
    js(create_json(json))
}

#[wasm_bindgen]
pub fn room_change(json: &str) -> Result<String, JsError> {
    js(change_json(json))
}

#[wasm_bindgen]
pub fn room_next_speakers(json: &str) -> Result<String, JsError> {
    js(next_speakers_json(json))
}

#[wasm_bindgen]
pub fn room_autonomous_next(json: &str) -> Result<String, JsError> {
    js(autonomous_next_json(json))
}

#[wasm_bindgen]
pub fn room_roll_dice(json: &str) -> Result<String, JsError> {
    js(roll_json(json))
}

#[wasm_bindgen]
pub fn room_greetings(json: &str) -> Result<String, JsError> {
    js(greetings_json(json))
}
