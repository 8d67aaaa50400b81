// Settings, "Training data": the chats and ratings of everything (or one character) as JSON
// lines for fine-tuning, built by the same rule as `kindred dataset export`
// (crates/characters/src/chat/dataset/backup.rs, through the page's Rust tools). What a file
// will hold is shown before it is downloaded.
import { exportAll } from './backup.js';
import { listCharacters, displayName } from './character-store.js';
import { listChats } from './chat-store.js';
import { download } from './download.js';
import { rustTools, errorText } from './wasm.js';

const $ = (id) => document.getElementById(id);

// What each format is for, and which tools read it.
const NOTES = {
  'openai-chat': 'One chat a line, the system message from the card; replies you rated 1-2 stars stay as context but are not learned. OpenAI fine-tuning reads it, as do most SFT tools.',
  'trl-sft': 'One chat a line as a list of messages: TRL\'s SFTTrainer, Axolotl and Unsloth read it.',
  'trl-preference': 'For each message with replies you rated differently, the better one (chosen) against the worse (rejected): TRL\'s DPOTrainer reads it.',
  'openai-dpo': 'The same pairs in OpenAI\'s preference fine-tuning format.',
  kto: 'Every reply you rated on its own, 3-4 stars as good and 1-2 as bad: TRL\'s KTOTrainer reads it.',
};

const lines = (n) => (n === 1 ? '1 line' : `${n} lines`);

export class TrainingData {
  // deps: {db}
  constructor(deps) {
    this.d = deps;
    this.serial = 0;
    this.leftOut = new Set(); // chat ids unticked under "Chats in the file"
    $('dataset-format').addEventListener('change', () => this.preview());
    $('dataset-character').addEventListener('change', async () => {
      await this.listChats();
      await this.preview();
    });
    $('dataset-export').addEventListener('click', () => this.save());
  }

  async show() {
    const characters = await listCharacters(this.d.db);
    const chosen = $('dataset-character').value;
    $('dataset-character').replaceChildren(
      new Option('All characters', ''),
      ...characters.map((c) => new Option(displayName(c), c.id)).sort((a, b) => a.text.localeCompare(b.text)),
    );
    $('dataset-character').value = characters.some((c) => c.id === chosen) ? chosen : '';
    await this.listChats();
    await this.preview();
  }

  // The chosen character's chats, each ticked to go in the file; unticked ones are left out.
  async listChats() {
    const id = $('dataset-character').value;
    this.leftOut.clear();
    const chats = id ? await listChats(this.d.db, id).catch(() => []) : [];
    $('dataset-chats').hidden = chats.length === 0;
    $('dataset-chat-list').replaceChildren(...chats.map((chat) => {
      const li = document.createElement('li');
      const label = document.createElement('label');
      label.className = 'inline';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = true;
      box.addEventListener('change', () => {
        if (box.checked) this.leftOut.delete(chat.id);
        else this.leftOut.add(chat.id);
        this.preview();
      });
      const when = new Date(chat.updatedAt || chat.createdAt || 0).toLocaleDateString();
      label.append(box, document.createTextNode(` ${chat.title || 'Chat'} · ${when}`));
      li.append(label);
      return li;
    }));
  }

  // The file for the current choice: {text, lines, chats, characters, format}.
  async build() {
    const format = $('dataset-format').value;
    const character = $('dataset-character').value || undefined;
    const [backup, tools] = await Promise.all([exportAll(this.d.db), rustTools()]);
    return { ...tools.dataset_export(JSON.stringify(backup), format, character, [...this.leftOut]), format };
  }

  async preview() {
    const serial = ++this.serial;
    const note = NOTES[$('dataset-format').value] || '';
    try {
      const file = await this.build();
      if (serial !== this.serial) return;
      $('dataset-note').textContent = `${lines(file.lines)} from ${file.chats} chat${file.chats === 1 ? '' : 's'}. ${note}`;
      $('dataset-export').disabled = file.lines === 0;
    } catch (err) {
      if (serial === this.serial) $('dataset-note').textContent = `Could not read your chats: ${errorText(err)}`;
    }
  }

  async save() {
    try {
      const file = await this.build();
      const day = new Date().toISOString().slice(0, 10);
      download(new TextEncoder().encode(file.text), `kindred-${file.format}-${day}.jsonl`, 'application/jsonl');
      $('data-status').textContent = `Saved ${lines(file.lines)} of training data (${file.format}).`;
    } catch (err) {
      $('data-status').textContent = `Could not make the training data: ${errorText(err)}`;
    }
  }
}
