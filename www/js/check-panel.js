// "Check": the quality harness on the character in the editor and the loaded model. The
// engine worker walks the probe conversation (small talk, card facts, an emotional turn,
// out-of-character bait, an invitation to speak for the user, a recall) and scores each reply
// in Rust (crates/characters/src/eval); this panel shows progress, a Stop button, the scores
// per dimension and every verdict with the text that earned it, beside the check before on
// the same model (how many example dialogues the card had then and now: accepted suggestions
// show here). The last result per character and model is kept in the settings store, with the
// complete run before it. Model text is only ever set as text.
import { el, button } from './editor-dom.js';
import { promptSettings } from './prefs.js';
import { rustTools } from './wasm.js';

const DIMENSIONS = [['consistency', 'Consistency'], ['human_likeness', 'Human-likeness'], ['engagement', 'Engagement']];
// The checks' names for people; which checks exist, their dimensions and every rate come from
// Rust (crates/characters/src/eval: a run's `summary`).
const CHECK_LABELS = {
  speaks_for_user: 'Speaks only for the character',
  leak: 'No template text',
  ended: 'Ends its turn',
  script: 'Stays in the card\u2019s script',
  persona: 'Stays in character',
  repetition: 'No repetition',
  card_copy: 'Does not parrot the card',
  recall: 'Uses the card and the chat',
  length: 'Length fits the card',
  engagement: 'Engages with the user',
};

export const checkKey = (characterId) => `check:${characterId || 'unsaved'}`;

// Kept results, in the settings store: per character, the last run on each model with its summary,
// and the last complete run before it on that model (`before`), to compare with.
// {key: 'check:ID', value: {latest: model, byModel: {[model]: {run, summary, at, stopped, examples,
//   before: {summary, at, examples} | null}}}}
export async function readChecks(db, characterId) {
  const row = await db.get('settings', checkKey(characterId));
  const v = row?.value;
  return v && typeof v === 'object' && v.byModel && typeof v.byModel === 'object' ? v : { latest: '', byModel: {} };
}

// `stopped`: the run was cut short (never the "before" of a later one); `card`: the card checked.
// Returns what was kept.
export async function keepCheck(db, characterId, run, summary, { stopped = false, card = null } = {}) {
  if (!run?.replies?.length) return null;
  const kept = await readChecks(db, characterId).catch(() => ({ latest: '', byModel: {} }));
  const last = kept.byModel[run.model];
  const before = last?.summary && !last.stopped ? { summary: last.summary, at: last.at, examples: last.examples ?? null } : last?.before ?? null;
  const examples = card ? (await rustTools()).example_count(typeof card.mes_example === 'string' ? card.mes_example : '') : null;
  const entry = { run, summary, at: Date.now(), stopped: Boolean(stopped), examples, before };
  kept.byModel[run.model] = entry;
  kept.latest = run.model;
  await db.put('settings', { key: checkKey(characterId), value: kept });
  return entry;
}

const examplesText = (n) => `${n} example ${n === 1 ? 'dialogue' : 'dialogues'}`;

// From a summary: a dimension's rate ('93%', or '–'), and a check's [rate, replies it applied to].
export function dimensionText(summary, dimension) {
  const d = (summary?.dimensions || []).find(([name]) => name === dimension);
  return d ? `${Math.round(d[1])}%` : '–';
}

export function checkRate(summary, check) {
  const c = (summary?.checks || []).find(([name, , n]) => name === check && n > 0);
  return c ? [c[1], c[2]] : null;
}

// Starts the check of `card` on the engine, seeded so the same model gives the same run.
// A character's trained adapter goes on the model for it, and its results are kept as
// another model's ("MODEL + ADAPTER"), beside those of the model alone.
export function startCheck(engine, { card, lorebooks, prefs, options, model, adapter = null }) {
  return engine.check({
    card,
    persona: prefs.persona,
    lorebooks,
    settings: promptSettings(prefs, 1),
    scan: { seed: 1 },
    adapter: adapter ?? undefined,
  }, { ...options, seed: 1 }, adapter ? `${model} + ${adapter.name}` : model);
}

export class CheckPanel {
  // deps: {engine(), ready(), prefs(), options(), card(), lorebooks(), db, characterId(), modelName(), adapter()}
  constructor(deps) {
    this.d = deps;
    this.checkId = null;
    this.run = null;
    this.summary = null;
    this.kept = null; // what is kept of the shown run: its `before` and example count
    this.card = null; // the card the running check was started with
    this.root = el('section', 'check-panel');
    this.root.setAttribute('aria-labelledby', 'check-title');
    const head = el('div', 'try-head');
    const title = el('h3', '', 'Check');
    title.id = 'check-title';
    this.startButton = button('Run check', 'primary small', 'Run check on this character');
    this.startButton.addEventListener('click', () => this.start());
    this.stopButton = button('Stop', 'ghost small', 'Stop the quality check');
    this.stopButton.addEventListener('click', () => this.stop());
    const actions = el('div', 'try-actions');
    actions.append(this.stopButton, this.startButton);
    head.append(title, actions);
    this.note = el('p', 'ed-hint', 'Scripted turns test how the loaded model plays this character: '
      + 'staying in character, ending its turn, never speaking for you, using the card, remembering what you said.');
    this.progress = el('progress', 'check-progress');
    this.progress.max = 1;
    this.progress.value = 0;
    this.progress.hidden = true;
    this.status = el('p', 'check-status');
    this.status.setAttribute('role', 'status');
    this.summaryBox = el('div', 'check-summary');
    this.list = el('ol', 'check-replies');
    this.list.setAttribute('aria-label', 'Checked replies');
    this.root.append(head, this.note, this.progress, this.status, this.summaryBox, this.list);
    this.refresh();
  }

  get busy() {
    return this.checkId !== null;
  }

  refresh() {
    const ready = this.d.ready();
    this.startButton.disabled = !ready || this.busy;
    this.stopButton.disabled = !this.busy;
    this.root.dataset.busy = String(this.busy);
    const waiting = 'The check runs once the model has loaded.';
    if (!ready && !this.busy && !this.run) this.status.textContent = waiting;
    else if (ready && this.status.textContent === waiting) this.status.textContent = '';
  }

  // The last kept result for this character, if any.
  async restore() {
    try {
      const kept = await readChecks(this.d.db, this.d.characterId());
      const last = kept.byModel[kept.latest];
      if (last?.run && !this.busy) {
        this.run = last.run;
        this.summary = last.summary;
        this.kept = last;
        this.renderAll();
        this.status.textContent = `Last check: ${kept.latest}, ${new Date(last.at).toLocaleString()}.`;
      }
    } catch { /* nothing kept */ }
  }

  start() {
    const engine = this.d.engine();
    if (this.busy || !this.d.ready() || !engine) return;
    const prefs = this.d.prefs();
    this.run = { replies: [] };
    this.summary = null;
    this.kept = null;
    this.card = this.d.card();
    this.renderAll();
    this.progress.hidden = false;
    this.progress.value = 0;
    this.status.textContent = 'Checking…';
    this.checkId = startCheck(engine, {
      card: this.card, lorebooks: this.d.lorebooks(), prefs, options: this.d.options(), model: this.d.modelName(),
      adapter: this.d.adapter?.() ?? null,
    });
    this.refresh();
  }

  stop() {
    if (this.busy) this.d.engine()?.stop();
  }

  onEngine(msg) {
    if (msg.type === 'ready' || (msg.type === 'error' && msg.scope === 'load')) this.refresh();
    if (this.checkId === null || msg.id !== this.checkId) return;
    if (msg.type === 'check-progress') {
      this.progress.max = Math.max(1, msg.total);
      this.progress.value = msg.done;
      this.status.textContent = `Checking: ${msg.done} of ${msg.total} replies.`;
      this.summary = msg.summary;
      if (msg.record) {
        this.run.replies.push(msg.record);
        this.renderSummary();
        this.list.append(this.item(msg.record));
      }
    } else if (msg.type === 'check-done') {
      this.checkId = null;
      this.run = msg.run;
      this.summary = msg.summary;
      this.progress.hidden = true;
      const n = msg.run.replies.length;
      this.status.textContent = msg.stopped
        ? `Stopped after ${n} ${n === 1 ? 'reply' : 'replies'}.`
        : `Checked ${n} replies in ${msg.seconds.toFixed(1)} s on ${msg.run.model} (${msg.run.format} layout).`;
      this.renderAll();
      this.keep(msg.run, msg.summary, msg.stopped);
      this.refresh();
    } else if (msg.type === 'error') {
      this.checkId = null;
      this.progress.hidden = true;
      this.status.textContent = `The check failed: ${msg.message}`;
      this.refresh();
    }
  }

  async keep(run, summary, stopped) {
    try {
      this.kept = await keepCheck(this.d.db, this.d.characterId(), run, summary, { stopped, card: this.card });
      if (this.run === run) this.renderSummary();
    } catch { /* shown, just not kept */ }
  }

  renderAll() {
    this.renderSummary();
    this.list.replaceChildren(...(this.run?.replies || []).map((r) => this.item(r)));
  }

  renderSummary() {
    if (!this.run?.replies?.length || !this.summary) {
      this.summaryBox.replaceChildren();
      return;
    }
    const before = this.kept?.before?.summary ? this.kept.before : null;
    const dims = el('dl', 'check-dimensions');
    for (const [key, label] of DIMENSIONS) {
      const box = el('div', 'check-dimension');
      box.dataset.dimension = key;
      const value = el('dd', '', dimensionText(this.summary, key));
      if (before) value.append(el('span', 'check-before', `before ${dimensionText(before.summary, key)}`));
      box.append(el('dt', '', label), value);
      dims.append(box);
    }
    const rows = el('ul', 'check-rates');
    for (const [name, label] of Object.entries(CHECK_LABELS)) {
      const rate = checkRate(this.summary, name);
      if (!rate) continue;
      const li = el('li', rate[0] === 100 ? 'pass' : 'fail', `${label}: ${Math.round(rate[0])}% of ${rate[1]}`);
      li.dataset.check = name;
      rows.append(li);
    }
    const parts = [dims, rows];
    if (before) {
      const then = Number.isInteger(before.examples) ? `, ${examplesText(before.examples)} then` : '';
      const now = Number.isInteger(this.kept.examples) ? `; ${examplesText(this.kept.examples)} now` : '';
      parts.unshift(el('p', 'check-compare', `Before: the check of ${new Date(before.at).toLocaleString()} on this model${then}${now}.`));
    }
    this.summaryBox.replaceChildren(...parts);
  }

  item(r) {
    const li = el('li', 'check-reply');
    const failed = (r.checks || []).filter((c) => !c.pass);
    li.dataset.failed = String(failed.length);
    li.append(el('p', 'check-probe', `${r.probe?.text ?? ''}`));
    li.append(el('p', 'check-shown', r.shown ? r.shown : '(no reply)'));
    const verdicts = el('ul', 'check-verdicts');
    for (const c of r.checks || []) {
      const v = el('li', c.pass ? 'pass' : 'fail');
      v.dataset.check = c.check;
      v.append(el('span', 'check-mark', c.pass ? '\u2713' : '\u2717'), `${CHECK_LABELS[c.check] || c.check}: ${c.evidence}`);
      verdicts.append(v);
    }
    const details = el('details', 'check-details');
    details.append(el('summary', '', failed.length ? `${failed.length} failed` : 'All checks pass'), verdicts);
    if (failed.length) details.open = true;
    li.append(details);
    return li;
  }
}
