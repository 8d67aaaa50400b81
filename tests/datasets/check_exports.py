"""Each training-data export loads with Hugging Face `datasets` and keeps the field rules its
readers document: OpenAI chat fine-tuning and preference (DPO) files, TRL's conversational SFT,
preference and KTO datasets. The backup is shaped as the app writes one: rated swipes, a branch
(its own chat holding copies of the messages it grew from), a room, a message deleted from the
middle of a chat, a swipe cut off mid-reply. Run by scripts/test.sh with the venv setup.sh makes:
    target/py-datasets/bin/python tests/datasets/check_exports.py [KINDRED_BIN]
"""
import json
import os
import subprocess
import sys
import tempfile

from datasets import load_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "kindred")
ROLES = {"system", "user", "assistant"}


def swipe(text, rating=None, status="done"):
    return {"text": text, "rating": rating, "status": status}


def msg(id, chat, pos, role, swipes, chosen=0):
    return {"id": id, "chatId": chat, "pos": pos, "role": role, "swipes": swipes, "chosen": chosen}


BACKUP = {
    "format": "kindred-backup", "version": 2,
    "characters": [
        {"id": "wren", "card": {"name": "Wren", "description": "{{char}} runs a tea room.", "first_mes": "Hello, {{user}}!"}},
        {"id": "rook", "card": {"name": "Rook", "description": "A raven.", "first_mes": "Caw."}},
    ],
    "chats": [
        {"id": "chat-w", "characterId": "wren"},
        # A branch from message 3: copies of messages 1-3, then its own turn.
        {"id": "chat-b", "characterId": "wren", "parent": {"chatId": "chat-w", "messageId": 3}},
        {"id": "chat-r", "characterId": "rook"},
        {"id": "room-1", "room": {"members": ["wren", "rook"]}},
    ],
    "messages": [
        msg(1, "chat-w", 0, "assistant", [swipe("Hello, {{user}}!")]),
        msg(2, "chat-w", 1, "user", [swipe("Hi Wren, busy day?")]),
        msg(3, "chat-w", 2, "assistant", [swipe("Busy but happy.", 4), swipe("As an AI I cannot.", 1)]),
        # pos 3 and 4 were deleted; the chat goes on at 5.
        msg(6, "chat-w", 5, "user", [swipe("And after closing?")]),
        msg(7, "chat-w", 6, "assistant", [swipe("Then we have tea.", 3), swipe("I sweep the fl", None, "interrupted")]),
        msg(11, "chat-b", 0, "assistant", [swipe("Hello, {{user}}!")]),
        msg(12, "chat-b", 1, "user", [swipe("Hi Wren, busy day?")]),
        msg(13, "chat-b", 2, "assistant", [swipe("Busy but happy.", 4), swipe("As an AI I cannot.", 1)]),
        msg(14, "chat-b", 3, "user", [swipe("Which tea today?")]),
        msg(15, "chat-b", 4, "assistant", [swipe("Ginger, always.", 4), swipe("Tea is a beverage.", 2)], chosen=0),
        msg(21, "chat-r", 0, "assistant", [swipe("Caw.")]),
        msg(22, "chat-r", 1, "user", [swipe("Hello bird.")]),
        msg(23, "chat-r", 2, "assistant", [swipe("Caw caw.", 4)]),
        msg(31, "room-1", 0, "assistant", [swipe("ROOM LINE: welcome, both.")]),
        msg(32, "room-1", 1, "user", [swipe("ROOM LINE: hi all.")]),
    ],
    "settings": [{"key": "prefs", "value": {"persona": {"name": "Sam", "description": ""}}}],
    "memories": [],
}


def messages_ok(ms, where, last=None):
    assert isinstance(ms, list) and ms, f"{where}: a non-empty list of messages"
    for m in ms:
        assert set(m) <= {"role", "content", "weight"}, f"{where}: unexpected keys {sorted(m)}"
        assert m["role"] in ROLES, f"{where}: role {m['role']!r}"
        assert isinstance(m["content"], str) and m["content"].strip(), f"{where}: empty content"
        if "weight" in m and m["weight"] is not None:
            assert m["role"] == "assistant" and m["weight"] in (0, 1), f"{where}: weight {m['weight']!r}"
    assert sum(m["role"] == "system" for m in ms) <= 1 and all(m["role"] != "system" for m in ms[1:]), f"{where}: one system message, first"
    if last:
        assert ms[-1]["role"] == last, f"{where}: ends with {ms[-1]['role']}, not {last}"


def one_reply(ms, where):
    assert isinstance(ms, list) and len(ms) == 1, f"{where}: one message"
    assert ms[0]["role"] == "assistant" and ms[0]["content"].strip(), f"{where}: an assistant reply"
    return ms[0]["content"]


def check(fmt, rows):
    for i, r in enumerate(rows):
        where = f"{fmt} line {i + 1}"
        if fmt == "openai-chat":
            assert set(r) == {"messages"}, where
            messages_ok(r["messages"], where)
            assert any(m["role"] == "assistant" and m.get("weight", 1) != 0 for m in r["messages"]), f"{where}: nothing to learn"
        elif fmt == "trl-sft":
            assert set(r) == {"messages"}, where
            messages_ok(r["messages"], where)
            assert all("weight" not in m or m["weight"] is None for m in r["messages"]), f"{where}: TRL has no weights"
        elif fmt == "trl-preference":
            assert set(r) == {"prompt", "chosen", "rejected"}, where
            messages_ok(r["prompt"], where, last="user")
            assert one_reply(r["chosen"], where) != one_reply(r["rejected"], where), f"{where}: chosen is rejected"
        elif fmt == "openai-dpo":
            assert set(r) == {"input", "preferred_output", "non_preferred_output"}, where
            assert set(r["input"]) >= {"messages"}, where
            messages_ok(r["input"]["messages"], where, last="user")
            assert one_reply(r["preferred_output"], where) != one_reply(r["non_preferred_output"], where), where
        elif fmt == "kto":
            assert set(r) == {"prompt", "completion", "label"}, where
            messages_ok(r["prompt"], where, last="user")
            one_reply(r["completion"], where)
            assert isinstance(r["label"], bool), f"{where}: label {r['label']!r}"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        backup = os.path.join(tmp, "backup.json")
        with open(backup, "w") as f:
            json.dump(BACKUP, f)
        found = {}
        for fmt in ["openai-chat", "trl-sft", "trl-preference", "openai-dpo", "kto"]:
            out = os.path.join(tmp, f"{fmt}.jsonl")
            subprocess.run([BIN, "dataset", "export", "--backup", backup, "--format", fmt, "--out", out], check=True)
            with open(out) as f:
                lines = [json.loads(l) for l in f if l.strip()]
            ds = load_dataset("json", data_files=out, split="train")
            assert ds.num_rows == len(lines), f"{fmt}: datasets read {ds.num_rows} rows of {len(lines)}"
            check(fmt, lines)
            check(fmt, list(ds))
            text = json.dumps(lines)
            assert "ROOM LINE" not in text, f"{fmt}: a room is left out"
            assert "I sweep the fl" not in text, f"{fmt}: a reply cut off mid-way is left out"
            found[fmt] = lines
            print(f"{fmt}: {len(lines)} lines, columns {ds.column_names}")
        # Three one-character chats (the branch is its own chat); the room is not one.
        assert len(found["openai-chat"]) == 3, found["openai-chat"]
        assert "Hello, Sam!" in json.dumps(found["openai-chat"]), "names filled in"
        pairs = [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in found["trl-preference"]]
        assert ("Ginger, always.", "Tea is a beverage.") in pairs, pairs
        assert ("Busy but happy.", "As an AI I cannot.") in pairs, pairs
        after_gap = [p for p in found["kto"] if p["completion"][0]["content"] == "Then we have tea."]
        assert after_gap and after_gap[0]["prompt"][-1]["content"] == "And after closing?", "the turn after the deleted ones"
        assert len(found["openai-dpo"]) == len(found["trl-preference"])
        # The branch's copies of its parent's rated message give no second line.
        for fmt, rows in found.items():
            lines = [json.dumps(r, sort_keys=True) for r in rows]
            assert len(set(lines)) == len(lines), f"{fmt}: a line twice"
        assert len(found["trl-preference"]) == 2, pairs
    print("every export loads with datasets and keeps its format's rules")


if __name__ == "__main__":
    main()
