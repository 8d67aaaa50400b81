//! Rooms: speaker strategies, autonomous mode, per-speaker prompts,
//! greetings, the narrator and dice.

use kindred_characters::chat::dice::{expand_rolls, DiceExpr};
use kindred_characters::chat::narrator::{Narrator, NarratorCadence};
use kindred_characters::chat::room::GROUP_NUDGE;
use kindred_characters::chat::{
    Author, Autonomous, AutonomousState, Chat, ChatCharacter, ChatError, PromptMode, Rng, Room,
    Speaker, SpeakerStrategy, StopReason,
};

fn ch(id: &str) -> Speaker {
    Speaker::character(id)
}

fn room(strategy: SpeakerStrategy, seed: u64) -> Room {
    let mut r = Room::new("room", seed).unwrap();
    r.strategy = strategy;
    r.add_member("ann", "Ann", 0.0).unwrap();
    r.add_member("bo", "Bo Lindqvist", 0.0).unwrap();
    r.add_member("cy", "Cy", 0.0).unwrap();
    r
}

fn chat_with(lines: &[(Author, &str)]) -> Chat {
    let mut c = Chat::new("c", 0).unwrap();
    for (i, (a, t)) in lines.iter().enumerate() {
        c.append(a.clone(), *t, i as u64).unwrap();
    }
    c
}

#[test]
fn rng_is_deterministic_and_in_range() {
    let (mut a, mut b) = (Rng::new(9), Rng::new(9));
    let xs: Vec<u64> = (0..50).map(|_| a.below(6)).collect();
    let ys: Vec<u64> = (0..50).map(|_| b.below(6)).collect();
    assert_eq!(xs, ys);
    assert!(xs.iter().all(|&x| x < 6));
    for k in 0..6 {
        assert!(xs.contains(&k), "every face appears in 50 rolls");
    }
    assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    let f = Rng::new(3).next_f64();
    assert!((0.0..1.0).contains(&f));
    assert_eq!(Rng::new(3).below(0), 0);
}

#[test]
fn members_are_validated() {
    let mut r = room(SpeakerStrategy::Natural, 1);
    assert_eq!(
        r.add_member("ann", "Ann again", 0.5),
        Err(ChatError::DuplicateMember("ann".into()))
    );
    assert_eq!(
        r.add_member("dee", "Dee", 1.5),
        Err(ChatError::InvalidTalkativeness(1.5))
    );
    assert!(r.add_member("dee", "Dee", f32::NAN).is_err());
    assert!(r.set_talkativeness("zed", 0.5).is_err());
    assert_eq!(r.remove_member("cy").unwrap().name, "Cy");
    assert!(r.member("cy").is_err());
}

#[test]
fn natural_order_named_member_speaks_first() {
    let mut r = room(SpeakerStrategy::Natural, 1);
    let chat = chat_with(&[(Author::User, "Cy, what do you think? And you, bo?")]);
    // Nobody is talkative: only the named ones, in order of mention; "bo"
    // is the first word of "Bo Lindqvist".
    assert_eq!(r.next_speakers(&chat), vec![ch("cy"), ch("bo")]);
    // Names match whole words only: "Annabel" is not "Ann".
    let chat = chat_with(&[(Author::User, "Annabel sends her regards, Cyrus too.")]);
    assert!(
        r.next_speakers(&chat).is_empty(),
        "no mention and no talkativeness: nobody"
    );
    // A title or article alone does not name anyone.
    r.add_member("twins", "The Twins", 0.0).unwrap();
    let chat = chat_with(&[(Author::User, "The rain stopped. Where are the twins?")]);
    assert_eq!(r.next_speakers(&chat), vec![ch("twins")]);
    let chat = chat_with(&[(Author::User, "The rain stopped.")]);
    assert!(r.next_speakers(&chat).is_empty());
}

#[test]
fn natural_order_never_answers_itself_unless_allowed() {
    let mut r = room(SpeakerStrategy::Natural, 1);
    let chat = chat_with(&[(Author::character("ann"), "I, Ann, say hello. Cy?")]);
    assert_eq!(r.next_speakers(&chat), vec![ch("cy")]);
    r.set_talkativeness("ann", 1.0).unwrap();
    r.set_talkativeness("cy", 0.0).unwrap();
    let chat = chat_with(&[(Author::character("ann"), "Hmm.")]);
    assert!(
        r.next_speakers(&chat).is_empty(),
        "only Ann is talkative and she just spoke"
    );
    r.allow_self_responses = true;
    assert_eq!(r.next_speakers(&chat), vec![ch("ann")]);
}

#[test]
fn natural_order_talkativeness_rolls_and_fallback() {
    let mut r = room(SpeakerStrategy::Natural, 7);
    r.set_talkativeness("ann", 1.0).unwrap();
    let chat = chat_with(&[(Author::User, "Hello everyone.")]);
    // Talkativeness 1 always speaks, 0 never (unless named).
    for _ in 0..20 {
        assert_eq!(r.next_speakers(&chat), vec![ch("ann")]);
    }
    // Low talkativeness: when no roll succeeds, a random willing member.
    r.set_talkativeness("ann", 0.0).unwrap();
    r.set_talkativeness("bo", 0.01).unwrap();
    r.set_talkativeness("cy", 0.01).unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let s = r.next_speakers(&chat);
        assert!(!s.is_empty() && !s.contains(&ch("ann")), "{s:?}");
        seen.extend(s);
    }
    assert_eq!(
        seen.len(),
        2,
        "both willing members get picked at some point"
    );
    // Frequencies follow talkativeness.
    let mut r = room(SpeakerStrategy::Natural, 11);
    r.set_talkativeness("ann", 0.8).unwrap();
    r.set_talkativeness("bo", 0.2).unwrap();
    let (mut ann, mut bo) = (0, 0);
    for _ in 0..2000 {
        let s = r.next_speakers(&chat);
        ann += usize::from(s.contains(&ch("ann")));
        bo += usize::from(s.contains(&ch("bo")));
    }
    // 0.8 by her own roll, plus half of the 16 % of rounds where both rolls
    // fail and a random willing member is picked: 0.88.
    assert!((1680..1840).contains(&ann), "ann spoke {ann} times");
    assert!(bo < ann / 2, "bo spoke {bo} times");
}

#[test]
fn same_seed_same_choices() {
    let chat = chat_with(&[(Author::User, "Hi all.")]);
    let run = |seed| {
        let mut r = room(SpeakerStrategy::Natural, seed);
        for m in ["ann", "bo", "cy"] {
            r.set_talkativeness(m, 0.5).unwrap();
        }
        (0..30).map(|_| r.next_speakers(&chat)).collect::<Vec<_>>()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn muted_members_are_skipped_but_can_be_forced() {
    let mut r = room(SpeakerStrategy::ListOrder, 1);
    r.set_muted("bo", true).unwrap();
    let chat = chat_with(&[(Author::User, "Bo, talk to me.")]);
    assert_eq!(r.next_speakers(&chat), vec![ch("ann"), ch("cy")]);
    r.strategy = SpeakerStrategy::Natural;
    assert!(!r.next_speakers(&chat).contains(&ch("bo")));
    assert_eq!(r.force_talk("bo").unwrap(), ch("bo"));
    assert!(r.force_talk("nobody").is_err());
}

#[test]
fn list_order_rotates_after_the_last_speaker() {
    let mut r = room(SpeakerStrategy::ListOrder, 1);
    let chat = chat_with(&[(Author::character("bo"), "Done.")]);
    assert_eq!(r.next_speakers(&chat), vec![ch("cy"), ch("ann")]);
    r.allow_self_responses = true;
    assert_eq!(r.next_speakers(&chat), vec![ch("cy"), ch("ann"), ch("bo")]);
    let empty = Chat::new("e", 0).unwrap();
    assert_eq!(r.next_speakers(&empty), vec![ch("ann"), ch("bo"), ch("cy")]);
}

#[test]
fn pooled_picks_who_spoke_least_recently() {
    let mut r = room(SpeakerStrategy::Pooled, 1);
    let chat = chat_with(&[
        (Author::character("cy"), "1"),
        (Author::character("ann"), "2"),
        (Author::character("bo"), "3"),
        (Author::User, "4"),
    ]);
    assert_eq!(r.next_speakers(&chat), vec![ch("cy")]);
    let chat = chat_with(&[(Author::character("cy"), "1"), (Author::User, "2")]);
    // Ann and Bo never spoke: a seeded pick between them, both over time.
    let picks: std::collections::HashSet<_> = (0..40).map(|_| r.next_speakers(&chat)).collect();
    assert_eq!(picks.len(), 2);
    assert!(picks.iter().all(|p| p.len() == 1 && p[0] != ch("cy")));
}

#[test]
fn manual_strategy_waits_for_the_user() {
    let mut r = room(SpeakerStrategy::Manual, 1);
    r.set_talkativeness("ann", 1.0).unwrap();
    let chat = chat_with(&[(Author::User, "Ann?")]);
    assert!(r.next_speakers(&chat).is_empty());
}

#[test]
fn autonomous_mode_runs_n_turns_and_stops() {
    let mut r = room(SpeakerStrategy::ListOrder, 1);
    let mut chat = chat_with(&[(Author::User, "Talk among yourselves.")]);
    let mut auto = Autonomous::start(5, &chat);
    let mut spoken = Vec::new();
    while let Some(Speaker::Character { id }) = auto.next(&mut r, &chat) {
        chat.append(Author::character(id.clone()), format!("{id} speaks"), 1)
            .unwrap();
        spoken.push(id);
    }
    assert_eq!(spoken, ["ann", "bo", "cy", "ann", "bo"]);
    assert_eq!(
        auto.state,
        AutonomousState::Stopped {
            reason: StopReason::TurnsDone
        }
    );
    assert_eq!(auto.next(&mut r, &chat), None);

    // The user speaking stops it.
    let mut auto = Autonomous::start(10, &chat);
    let s = auto.next(&mut r, &chat).unwrap();
    chat.append(
        Author::character(match s {
            Speaker::Character { id } => id,
            _ => unreachable!(),
        }),
        "x",
        2,
    )
    .unwrap();
    assert!(auto.next(&mut r, &chat).is_some());
    chat.append(Author::User, "Wait!", 3).unwrap();
    assert_eq!(auto.next(&mut r, &chat), None);
    assert_eq!(
        auto.state,
        AutonomousState::Stopped {
            reason: StopReason::UserSpoke
        }
    );

    // stop() stops it, and it survives a JSON round trip while running.
    let mut auto = Autonomous::start(10, &chat);
    let json = serde_json::to_string(&auto).unwrap();
    let mut back: Autonomous = serde_json::from_str(&json).unwrap();
    assert!(back.next(&mut r, &chat).is_some());
    auto.stop();
    assert_eq!(auto.next(&mut r, &chat), None);
    assert_eq!(
        auto.state,
        AutonomousState::Stopped {
            reason: StopReason::Stopped
        }
    );

    // Nobody to speak.
    let mut manual = room(SpeakerStrategy::Manual, 1);
    let mut auto = Autonomous::start(3, &chat);
    assert_eq!(auto.next(&mut manual, &chat), None);
    assert_eq!(
        auto.state,
        AutonomousState::Stopped {
            reason: StopReason::NoSpeaker
        }
    );
}

fn cast() -> Vec<ChatCharacter> {
    let mut ann = ChatCharacter::new("ann", "Ann");
    ann.description = "A retired sea captain.".into();
    ann.personality = "gruff".into();
    ann.scenario = "A tavern by the harbour.".into();
    ann.first_mes = "Ahoy.".into();
    ann.group_only_greetings = vec!["Ahoy, all of you.".into()];
    let mut bo = ChatCharacter::new("bo", "Bo Lindqvist");
    bo.description = "A young cartographer.".into();
    bo.first_mes = "Hello there.".into();
    bo.alternate_greetings = vec!["Oh, hi.".into()];
    vec![ann, bo]
}

#[test]
fn swap_and_join_prompts_with_group_nudge() {
    let mut r = room(SpeakerStrategy::Natural, 1);
    let cast = cast();
    let p = r.speaker_prompt(&ch("ann"), &cast).unwrap();
    assert_eq!(p.nudge, "[Write the next reply only as Ann.]");
    assert_eq!(GROUP_NUDGE, "[Write the next reply only as {{char}}.]");
    assert!(p.character_text.contains("retired sea captain"));
    assert!(p.character_text.contains("Ann's personality: gruff"));
    assert!(p.character_text.contains("Scenario: A tavern"));
    assert!(
        !p.character_text.contains("cartographer"),
        "swap: only the speaker's card"
    );

    r.prompt_mode = PromptMode::Join;
    r.set_muted("cy", true).unwrap();
    let p = r.speaker_prompt(&ch("bo"), &cast).unwrap();
    assert!(p.character_text.contains("[Ann]\nA retired sea captain."));
    assert!(p
        .character_text
        .contains("[Bo Lindqvist]\nA young cartographer."));
    assert!(
        !p.character_text.contains("[Cy]"),
        "muted members are left out"
    );
    assert_eq!(p.nudge, "[Write the next reply only as Bo Lindqvist.]");
    assert!(r.speaker_prompt(&ch("zed"), &cast).is_err());
}

#[test]
fn room_greetings_use_group_only_greetings_first() {
    let r = room(SpeakerStrategy::Natural, 1);
    let mut chat = Chat::new("c", 0).unwrap();
    let ids = r.open_chat(&mut chat, &cast(), 5).unwrap();
    assert_eq!(ids.len(), 2, "Cy has no card, so no greeting");
    let ann = chat.get(&ids[0]).unwrap();
    let texts: Vec<&str> = ann.swipes.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["Ahoy, all of you.", "Ahoy."]);
    assert_eq!(ann.text(), "Ahoy, all of you.");
    let bo = chat.get(&ids[1]).unwrap();
    assert_eq!(bo.author, Author::character("bo"));
    assert_eq!(bo.swipes.len(), 2);
}

#[test]
fn narrator_answers_the_user_first_and_rolls_dice() {
    let mut r = room(SpeakerStrategy::ListOrder, 99);
    r.narrator = Some(Narrator {
        name: "The Keeper".into(),
        instructions: "A dungeon crawl.".into(),
        cadence: NarratorCadence::AfterUser,
        dice: true,
    });
    let chat = chat_with(&[(Author::User, "I kick the door.")]);
    assert_eq!(r.next_speakers(&chat)[0], Speaker::Narrator);
    let chat2 = chat_with(&[(Author::character("ann"), "Careful.")]);
    assert!(!r.next_speakers(&chat2).contains(&Speaker::Narrator));

    let p = r.speaker_prompt(&Speaker::Narrator, &cast()).unwrap();
    assert!(p.character_text.contains("game master"));
    assert!(p.character_text.contains("{{roll:d20}}"));
    assert!(p.character_text.contains("Game rules:\nA dungeon crawl."));
    assert!(p.character_text.contains("- Ann: A retired sea captain."));
    assert_eq!(p.speaker_name, "The Keeper");

    let (text, rolls) =
        Narrator::resolve_dice(&mut r, "You roll {{roll:d20}} and {{roll: 2d6+3}}.");
    assert_eq!(rolls.len(), 2);
    assert!((1..=20).contains(&rolls[0].total));
    assert_eq!(rolls[1].rolls.len(), 2);
    assert_eq!(
        rolls[1].total,
        rolls[1].rolls.iter().map(|&x| i64::from(x)).sum::<i64>() + 3
    );
    assert_eq!(
        text,
        format!("You roll {} and {}.", rolls[0].total, rolls[1].total)
    );
    // The same room state replays the same rolls.
    let mut again = room(SpeakerStrategy::ListOrder, 99);
    again.next_speakers(&chat);
    again.next_speakers(&chat2);
    let (text2, _) =
        Narrator::resolve_dice(&mut again, "You roll {{roll:d20}} and {{roll: 2d6+3}}.");
    assert_eq!(text2, text);
}

#[test]
fn narrator_every_round_joins_autonomous_mode() {
    let mut r = room(SpeakerStrategy::ListOrder, 4);
    r.narrator = Some(Narrator {
        cadence: NarratorCadence::EveryRound,
        ..Narrator::default()
    });
    let mut chat = chat_with(&[(Author::character("cy"), "Hm.")]);
    let mut auto = Autonomous::start(4, &chat);
    let mut order = Vec::new();
    while let Some(s) = auto.next(&mut r, &chat) {
        let author = match &s {
            Speaker::Narrator => Author::Narrator,
            Speaker::Character { id } => Author::character(id.clone()),
        };
        chat.append(author, "…", 1).unwrap();
        order.push(s);
    }
    assert_eq!(
        order,
        [Speaker::Narrator, ch("ann"), ch("bo"), Speaker::Narrator]
    );
    r.narrator.as_mut().unwrap().cadence = NarratorCadence::Manual;
    let chat = chat_with(&[(Author::User, "Go.")]);
    assert!(!r.next_speakers(&chat).contains(&Speaker::Narrator));
}

#[test]
fn dice_parser_accepts_forms_and_rejects_junk() {
    assert_eq!(
        DiceExpr::parse("d20").map(|d| (d.count, d.sides, d.modifier)),
        Some((1, 20, 0))
    );
    assert_eq!(
        DiceExpr::parse("20").map(|d| (d.count, d.sides)),
        Some((1, 20))
    );
    assert_eq!(
        DiceExpr::parse("3D6 - 2").map(|d| (d.count, d.sides, d.modifier)),
        Some((3, 6, -2))
    );
    for bad in [
        "", "d", "d0", "0d6", "101d6", "d1000001", "2d6+", "abc", "2d6+1+1", "-d6",
    ] {
        assert_eq!(DiceExpr::parse(bad), None, "{bad}");
    }
    let mut rng = Rng::new(1);
    let (text, rolls) = expand_rolls(
        "{{roll:d0}} {{roll:x}} {{char}} {{roll:1d1+4}} {{roll:d6",
        &mut rng,
    );
    assert_eq!(text, "{{roll:d0}} {{roll:x}} {{char}} 5 {{roll:d6");
    assert_eq!(rolls.len(), 1);
    // Distribution sanity: a d6 hits every face.
    let (_, rolls) = expand_rolls(&"{{roll:d6}}".repeat(200), &mut rng);
    assert_eq!(rolls.len(), 200);
    for face in 1..=6 {
        assert!(rolls.iter().any(|r| r.total == face));
    }
    let (_, capped) = expand_rolls(&"{{roll:d6}}".repeat(1000), &mut rng);
    assert_eq!(
        capped.len(),
        kindred_characters::chat::dice::MAX_ROLLS_PER_TEXT
    );
}

#[test]
fn room_round_trips_through_json() {
    let mut r = room(SpeakerStrategy::Pooled, 3);
    r.narrator = Some(Narrator::default());
    r.rng.next_u64();
    let back: Room = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}
