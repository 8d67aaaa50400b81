// "Trait studio": the loaded model writes messages that would show each chosen trait, answers
// each several times in character (as the chat would), and ranks its answers by how well they
// show the trait. The steps, their JSON Schemas, retries and skips are Rust
// (crates/characters/src/chat/dataset/studio_run.rs, walked by the engine worker); this panel
// picks the traits, shows progress with Stop, and a review where the person keeps or leaves out
// each question and may pick another best reply. Kept questions become example dialogues or a
// preference dataset (Rust again: crates/web/src/datasets.rs). The last result per character is
// kept in the settings store. Model text is only ever set as text.
import { el, button, field, checkbox } from './editor-dom.js';
import { promptSettings } from './prefs.js';
import { rustTools, errorText } from './wasm.js';
import { download } from './download.js';

export const studioKey = (characterId) => `studio:${characterId || 'unsaved'}`;

const STEP_TEXT = {
  questions: (s) => `writing messages that would show \u201c${s.trait_name}\u201d`,
  candidate: (s) => `reply ${s.variant + 1} to \u201c${s.question}\u201d`,
  ranking: (s) => `ranking the replies to \u201c${s.question}\u201d`,
};

const ISSUE_TEXT = {
  no_questions: (i) => `No messages could be read for \u201c${i.trait_name}\u201d.`,
  too_few_candidates: (i) => `\u201c${i.question}\u201d got ${i.got} usable ${i.got === 1 ? 'reply' : 'replies'}: left out.`,
  unreadable_ranking: (i) => `The ranking for \u201c${i.question}\u201d could not be read: left out.`,
};

export class StudioPanel {
  // deps: {engine(), ready(), prefs(), options(), card(), lorebooks(), traits(), db, characterId(),
  //        adapter(), add(text)}
  constructor(deps) {
    this.d = deps;
    this.runId = null;
    this.result = null;
    this.extra = [];
    this.seen = new Set();
    this.added = new Set();
    this.root = el('section', 'check-panel studio-panel');
    this.root.setAttribute('aria-labelledby', 'studio-title');
    const head = el('div', 'try-head');
    const title = el('h3', '', 'Trait studio');
    title.id = 'studio-title';
    this.startButton = button('Run studio', 'primary small', 'Run studio on this character');
    this.startButton.addEventListener('click', () => this.start());
    this.stopButton = button('Stop', 'ghost small', 'Stop the trait studio');
    this.stopButton.addEventListener('click', () => this.stop());
    const actions = el('div', 'try-actions');
    actions.append(this.stopButton, this.startButton);
    head.append(title, actions);
    const note = el('p', 'ed-hint', 'The loaded model writes messages that would show each trait, answers each in character '
      + 'a few times and ranks the answers. Keep the best as example dialogues, or download them as preference data to train with.');

    this.traitBox = el('fieldset', 'studio-traits');
    this.traitBox.append(el('legend', '', 'Traits'));
    this.traitList = el('div', 'studio-trait-list');
    const other = field('Another trait', { max: 240, placeholder: 'Answers a question with a question' });
    this.otherInput = other.control;
    const addTrait = button('Add', 'ghost small');
    addTrait.addEventListener('click', () => this.addTrait());
    this.otherInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.addTrait(); }
    });
    const otherRow = el('div', 'studio-other');
    otherRow.append(other.wrap, addTrait);
    this.traitBox.append(this.traitList, otherRow);

    const counts = el('div', 'studio-counts');
    this.questions = field('Messages per trait', { type: 'number', value: '2' });
    this.candidates = field('Replies per message', { type: 'number', value: '3' });
    Object.assign(this.questions.control, { min: 1, max: 10 });
    Object.assign(this.candidates.control, { min: 2, max: 5 });
    counts.append(this.questions.wrap, this.candidates.wrap);

    this.progress = el('progress', 'check-progress');
    this.progress.max = 1;
    this.progress.hidden = true;
    this.status = el('p', 'check-status');
    this.status.setAttribute('role', 'status');
    this.issues = el('ul', 'studio-issues');
    this.list = el('ol', 'studio-items');
    this.list.setAttribute('aria-label', 'Trait studio results');

    this.useButton = button('Add kept replies to example dialogues', 'ghost small');
    this.useButton.addEventListener('click', () => this.useAsExamples());
    this.format = el('select', 'studio-format');
    this.format.setAttribute('aria-label', 'Preference data format');
    for (const [value, label] of [['trl-preference', 'TRL preference'], ['openai-dpo', 'OpenAI DPO']]) {
      const o = el('option', '', label);
      o.value = value;
      this.format.append(o);
    }
    this.downloadButton = button('Download preference data', 'ghost small');
    this.downloadButton.addEventListener('click', () => this.downloadPairs());
    this.outputs = el('div', 'ed-suggest-actions studio-outputs');
    this.outputs.append(this.useButton, this.format, this.downloadButton);
    this.root.append(head, note, this.traitBox, counts, this.progress, this.status, this.issues, this.list, this.outputs);
    this.refresh();
  }

  get busy() {
    return this.runId !== null;
  }

  stop() {
    if (this.busy) this.d.engine()?.stop();
  }

  refresh() {
    const ready = this.d.ready();
    this.startButton.disabled = !ready || this.busy;
    this.stopButton.disabled = !this.busy;
    this.root.dataset.busy = String(this.busy);
    this.outputs.hidden = !this.result?.items?.length || this.busy;
    const waiting = 'The studio runs once the model has loaded.';
    if (!ready && !this.busy && !this.result) this.status.textContent = waiting;
    else if (ready && this.status.textContent === waiting) this.status.textContent = '';
  }

  // The character's traits (its profile's, then any added here), each a checkbox. One not
  // seen before is ticked while fewer than three are; the others keep their ticks.
  renderTraits() {
    const ticked = new Set(this.chosen());
    const names = [...new Set([...this.d.traits(), ...this.extra].map((t) => String(t).trim()).filter(Boolean))];
    let count = names.filter((n) => this.seen.has(n) && ticked.has(n)).length;
    this.traitList.replaceChildren(...names.map((name) => {
      const on = this.seen.has(name) ? ticked.has(name) : count < 3 || this.extra.includes(name);
      if (!this.seen.has(name) && on) count += 1;
      this.seen.add(name);
      const box = checkbox(name, on);
      box.control.value = name;
      return box.wrap;
    }));
    if (!names.length) this.traitList.append(el('p', 'ed-hint', 'No traits yet: add them in the profile, or here.'));
  }

  chosen() {
    return [...this.traitList.querySelectorAll('input[type=checkbox]')].filter((c) => c.checked).map((c) => c.value);
  }

  addTrait() {
    const name = this.otherInput.value.trim();
    if (!name) return;
    if (!this.extra.includes(name)) this.extra.push(name);
    this.otherInput.value = '';
    this.renderTraits();
  }

  // On opening a character: its traits, and the last kept result.
  async restore() {
    this.extra = [];
    this.seen = new Set();
    this.added = new Set();
    this.traitList.replaceChildren();
    this.renderTraits();
    this.result = null;
    this.show();
    try {
      const row = await this.d.db.get('settings', studioKey(this.d.characterId()));
      if (row?.value?.result && !this.busy) {
        this.result = row.value.result;
        this.show();
        this.status.textContent = `Last run: ${row.value.model || 'model'}, ${new Date(row.value.at).toLocaleString()}.`;
      }
    } catch { /* nothing kept */ }
    this.refresh();
  }

  start() {
    const engine = this.d.engine();
    if (this.busy || !this.d.ready() || !engine) return;
    const traits = this.chosen().map((name) => ({ name }));
    if (!traits.length) {
      this.status.textContent = 'Tick at least one trait.';
      return;
    }
    const prefs = this.d.prefs();
    const adapter = this.d.adapter?.() ?? null;
    this.result = null;
    this.show();
    this.progress.hidden = false;
    this.progress.value = 0;
    this.status.textContent = 'Starting…';
    this.runId = engine.studio({
      card: this.d.card(), persona: prefs.persona, lorebooks: this.d.lorebooks(),
      settings: promptSettings(prefs, 1), scan: { seed: 1 }, adapter: adapter ?? undefined,
    }, { ...this.d.options(), seed: 1 }, {
      traits, questions: Number(this.questions.control.value), candidates: Number(this.candidates.control.value),
    });
    this.refresh();
  }

  onEngine(msg) {
    if (msg.type === 'ready' || (msg.type === 'error' && msg.scope === 'load')) this.refresh();
    if (this.runId === null || msg.id !== this.runId) return;
    if (msg.type === 'studio-progress') {
      this.progress.max = Math.max(1, msg.total);
      this.progress.value = msg.done;
      this.status.textContent = `Step ${msg.done + 1} of about ${msg.total}: ${(STEP_TEXT[msg.step.kind] || (() => ''))(msg.step)}\u2026`;
    } else if (msg.type === 'studio-done') {
      this.runId = null;
      this.progress.hidden = true;
      this.result = msg.result;
      const n = msg.result.items.length;
      const found = `${n} ${n === 1 ? 'message' : 'messages'} with ranked replies`;
      this.status.textContent = msg.stopped ? `Stopped: ${found} so far.` : `Done in ${msg.seconds.toFixed(0)} s: ${found}.`;
      this.show();
      this.keep();
    } else if (msg.type === 'error') {
      this.runId = null;
      this.progress.hidden = true;
      this.status.textContent = `The studio failed: ${msg.message}`;
    }
    this.refresh();
  }

  async keep() {
    try {
      await this.d.db.put('settings', { key: studioKey(this.d.characterId()), value: { result: this.result, at: Date.now(), model: this.d.modelName?.() || '' } });
    } catch { /* shown, just not kept */ }
  }

  // The review: per message its trait, the replies best first as the model ranked them (a
  // radio picks another best), and whether to keep it.
  show() {
    const items = this.result?.items || [];
    this.issues.replaceChildren(...(this.result?.issues || []).map((i) => el('li', 'ed-hint', (ISSUE_TEXT[i.kind] || (() => i.kind))(i))));
    this.list.replaceChildren(...items.map((item, k) => this.item(item, k)));
    this.refresh();
  }

  item(item, k) {
    const li = el('li', 'studio-item');
    li.dataset.trait = item.trait_name;
    const keep = checkbox('Keep', item.keep !== false);
    keep.control.addEventListener('change', () => { item.keep = keep.control.checked; this.keep(); });
    const top = el('div', 'studio-item-head');
    top.append(el('span', 'studio-trait', item.trait_name), keep.wrap);
    li.append(top, el('p', 'check-probe', item.question));
    const replies = el('fieldset', 'studio-replies');
    replies.append(el('legend', 'visually-hidden', `Best reply to message ${k + 1}`));
    const modelPick = item.model_pick ?? item.ranking[0];
    for (const c of item.ranking) {
      const label = el('label', 'studio-reply');
      const radio = el('input');
      radio.type = 'radio';
      radio.name = `studio-best-${k}`;
      radio.checked = c === item.ranking[0];
      radio.addEventListener('change', () => {
        if (!radio.checked) return;
        // The person's pick goes first; the rest keep the model's order.
        item.model_pick = modelPick;
        item.ranking = [c, ...item.ranking.filter((x) => x !== c)];
        this.keep();
      });
      label.append(radio, el('span', 'check-shown', item.candidates[c]));
      if (c === modelPick) label.append(el('span', 'studio-pick', 'model\u2019s pick'));
      replies.append(label);
    }
    li.append(replies);
    return li;
  }

  // The kept items, as the Rust functions read a StudioResult.
  kept() {
    const items = (this.result?.items || []).filter((i) => i.keep !== false)
      .map(({ trait_name, question, candidates, ranking }) => ({ trait_name, question, candidates, ranking }));
    return { items, issues: [] };
  }

  async useAsExamples() {
    try {
      const examples = (await rustTools()).studio_examples(JSON.stringify(this.kept()));
      // A second click adds only what the first did not.
      const fresh = examples.filter((e) => !this.added.has(e.text));
      for (const e of fresh) {
        this.d.add(e.text);
        this.added.add(e.text);
      }
      this.status.textContent = fresh.length
        ? `Added ${fresh.length} example ${fresh.length === 1 ? 'dialogue' : 'dialogues'} (at most 8, about 1,600 tokens together). Save to keep them.`
        : examples.length ? 'These are in the example dialogues already.' : 'No kept message to add.';
    } catch (err) {
      this.status.textContent = `Could not add them: ${errorText(err)}`;
    }
  }

  async downloadPairs() {
    try {
      const out = (await rustTools()).studio_preferences(JSON.stringify(this.d.card()), JSON.stringify(this.kept()), this.format.value);
      const name = (this.d.card().name || 'character').replace(/[^\p{L}\p{N}_-]+/gu, '-');
      download(new TextEncoder().encode(out.text), `kindred-studio-${name}-${this.format.value}.jsonl`, 'application/jsonl');
      this.status.textContent = `Downloaded ${out.lines} preference ${out.lines === 1 ? 'pair' : 'pairs'}.`;
    } catch (err) {
      this.status.textContent = `Could not write the file: ${errorText(err)}`;
    }
  }
}
