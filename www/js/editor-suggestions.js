// Example dialogues proposed from the ratings: the character's best-rated replies (four
// stars), each with the message it answered, found by the same rule as the training data
// (crates/characters/src/chat/dataset/backup.rs, `suggested_examples`); or imported from
// question/answer pairs (CSV or JSONL, as `kindred dataset import-qa` reads them). Each is
// shown with where it came from, to add to the card's example dialogues (then editable
// there) or to leave out.
import { el, button, filePicker } from './editor-dom.js';
import { exportAll } from './backup.js';
import { rustTools, errorText } from './wasm.js';

export class ExampleSuggestions {
  // deps: {db, characterId(), add(text)}
  constructor(deps) {
    this.d = deps;
    this.root = el('div', 'ed-suggest');
    this.find = button('Suggest from your ratings', 'ghost small');
    this.find.addEventListener('click', () => this.suggest());
    const importLabel = filePicker('Import question/answer pairs', '.csv,.jsonl,text/csv,application/jsonl', (file) => this.importPairs(file));
    const actions = el('div', 'ed-suggest-actions');
    actions.append(this.find, importLabel);
    this.note = el('p', 'ed-hint');
    this.note.setAttribute('role', 'status');
    this.list = el('ul', 'ed-suggest-list');
    this.list.setAttribute('aria-label', 'Suggested example dialogues');
    this.root.append(actions, this.note, this.list);
    this.reset();
  }

  reset() {
    this.list.replaceChildren();
    this.note.textContent = 'Replies you rated four stars in this character\'s chats can become its example dialogues, '
      + 'as can question/answer pairs: a spreadsheet saved as CSV (question, answer) or JSONL.';
  }

  // A CSV or JSONL file of question/answer pairs, each shown to add or leave out; a file
  // that cannot be read says which line is wrong.
  async importPairs(file) {
    try {
      const tools = await rustTools();
      const found = tools.import_examples(await file.text());
      this.note.textContent = `${found.length} pair${found.length === 1 ? '' : 's'} from ${file.name}. Add the ones to keep.`;
      this.list.replaceChildren(...found.map((example) => this.item(example)));
    } catch (err) {
      this.list.replaceChildren();
      this.note.textContent = `${file.name} was not imported: ${errorText(err)}`;
    }
  }

  async suggest() {
    const id = this.d.characterId();
    if (!id) {
      this.note.textContent = 'Save the character and chat with it first: suggestions come from its rated replies.';
      return;
    }
    this.find.disabled = true;
    try {
      const [backup, tools] = await Promise.all([exportAll(this.d.db), rustTools()]);
      const found = tools.suggested_examples(JSON.stringify(backup), id);
      this.show(found);
    } catch (err) {
      this.note.textContent = `Could not read the ratings: ${errorText(err)}`;
    } finally {
      this.find.disabled = false;
    }
  }

  show(found) {
    this.note.textContent = found.length
      ? `${found.length} suggested from your ratings (at most 4, about 600 tokens together). Add the ones that sound like the character.`
      : 'No reply of this character is rated four stars yet.';
    this.list.replaceChildren(...found.map((example) => this.item(example)));
  }

  item(example) {
    const li = el('li', 'ed-suggest-item');
    const from = example.source?.kind === 'import'
      ? `row ${example.source.row} of the file`
      : `${'★'.repeat(example.rating || 0)} · from a chat, message ${example.source?.message_id ?? ''}`;
    li.append(el('p', 'ed-hint', `${from} · about ${example.tokens} tokens`));
    li.append(el('pre', 'ed-suggest-text', example.text));
    const add = button('Add to example dialogues', 'ghost small');
    add.addEventListener('click', () => {
      this.d.add(example.text);
      li.remove();
    });
    const leave = button('Leave out', 'ghost small');
    leave.addEventListener('click', () => li.remove());
    const actions = el('div', 'ed-suggest-actions');
    actions.append(add, leave);
    li.append(actions);
    return li;
  }
}
