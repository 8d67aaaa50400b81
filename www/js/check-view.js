// #/check: the quality check for the chosen characters on the chosen stored models, one model
// after the other (each loaded in turn, then the model in use loaded back), with progress and
// Stop; a table of every kept result, each model's beside the others'. The editor's Check panel
// runs the same check for one character on the loaded model (check-panel.js); both keep
// results the same way.
import { el, button } from './editor-dom.js';
import { listCharacters, displayName } from './character-store.js';
import { listStoredModels } from './model-storage.js';
import { ADAPTER_KIND } from './model-store.js';
import { formatBytes } from './format.js';
import { readChecks, keepCheck, startCheck, dimensionText, checkRate } from './check-panel.js';

const WAITING = 'The check runs once the model has loaded.';

// A list of checkboxes in a fieldset; returns {box, list, all, picked()}.
function picker(legendText, allText) {
  const box = el('fieldset', 'check-picks');
  box.append(el('legend', '', legendText));
  const allLabel = el('label', 'check-pick check-pick-all');
  const all = el('input');
  all.type = 'checkbox';
  allLabel.append(all, document.createTextNode(` ${allText}`));
  const list = el('div', 'check-pick-list');
  all.addEventListener('change', () => {
    for (const input of list.querySelectorAll('input')) input.checked = all.checked;
  });
  list.addEventListener('change', () => {
    const inputs = [...list.querySelectorAll('input')];
    all.checked = inputs.length > 0 && inputs.every((i) => i.checked);
    all.indeterminate = !all.checked && inputs.some((i) => i.checked);
  });
  box.append(allLabel, list);
  const picked = () => [...list.querySelectorAll('input')].filter((i) => i.checked).map((i) => i.value);
  return { box, list, all, picked };
}

function pick(value, text, checked, detail = '') {
  const label = el('label', 'check-pick');
  const input = el('input');
  input.type = 'checkbox';
  input.value = value;
  input.checked = checked;
  const name = el('span', '', text);
  if (detail) name.append(el('span', 'models-item-meta', ` · ${detail}`));
  label.append(input, name);
  return label;
}

export class CheckView {
  // deps: {db, root, engine(), ready(), prefs(), options(), modelName(), current(): choice, use(choice)}
  constructor(deps) {
    this.d = deps;
    this.checkId = null;
    this.run = null; // {models: [choice], characters: [record], modelIndex, queue, done, home, phase}
    this.character = null; // the one being checked now
    this.built = false;
    this.models = [];
    this.characters = [];
    this.pickedFor = undefined; // the model in use when the model picks were last drawn
  }

  build() {
    const title = el('h2', '', 'Check characters');
    title.id = 'check-view-title';
    const intro = el('p', 'ed-hint', 'Runs scripted turns with each chosen character on each chosen model and scores every reply: '
      + 'staying in character, speaking only for the character, ending its turn, using the card, remembering what you said, '
      + 'engaging with you. Models on this device are loaded one after the other, and the model in use is loaded back at the end.');
    this.modelPicks = picker('Models', 'Every model on this device');
    this.characterPicks = picker('Characters', 'Every character');
    // Changes bubble to the fieldset after each picker has updated its boxes.
    for (const p of [this.modelPicks, this.characterPicks]) p.box.addEventListener('change', () => this.refresh());
    const picks = el('div', 'check-pick-boxes');
    picks.append(this.modelPicks.box, this.characterPicks.box);
    this.startButton = button('Check', 'primary', 'Check the chosen characters on the chosen models');
    this.startButton.addEventListener('click', () => this.start());
    this.stopButton = button('Stop', 'ghost', 'Stop checking');
    this.stopButton.addEventListener('click', () => this.stop());
    const actions = el('div', 'try-actions');
    actions.append(this.stopButton, this.startButton);
    this.progress = el('progress', 'check-progress');
    this.progress.hidden = true;
    this.status = el('p', 'check-status');
    this.status.setAttribute('role', 'status');
    this.table = el('table', 'check-table');
    this.d.root.replaceChildren(title, intro, picks, actions, this.progress, this.status, this.table);
    this.built = true;
  }

  async show() {
    if (!this.built) this.build();
    if (!this.run) await this.renderPicks();
    this.refresh();
    await this.renderTable();
  }

  // The loaded model first (stored or not), then every complete stored copy; every character.
  async renderPicks() {
    const stored = await listStoredModels(this.d.db).catch(() => []);
    const current = this.d.current();
    const others = stored.filter((m) => m.complete && m.kind !== ADAPTER_KIND && m.id !== current?.id);
    const storedCurrent = stored.find((m) => m.complete && m.id === current?.id);
    this.models = [...(current ? [{ ...storedCurrent, ...current }] : []), ...others];
    // The picks stay as they were, unless another model is in use now: then it alone.
    const wasPicked = new Set(this.modelPicks.picked());
    const fresh = this.pickedFor !== (current?.id ?? null);
    this.pickedFor = current?.id ?? null;
    this.modelPicks.list.replaceChildren(...this.models.map((m, i) => pick(m.id, m.name || m.id,
      fresh ? i === 0 : wasPicked.has(m.id),
      [i === 0 && current ? 'in use' : '', m.bytes ? formatBytes(m.bytes) : ''].filter(Boolean).join(' · '))));
    this.modelPicks.list.dispatchEvent(new Event('change'));

    const all = await listCharacters(this.d.db).catch(() => []);
    this.characters = all.filter((c) => c?.card).sort((a, b) => displayName(a).localeCompare(displayName(b)));
    const charsPicked = new Set(this.characterPicks.picked());
    const charsFirst = this.characterPicks.list.children.length === 0;
    this.characterPicks.list.replaceChildren(...this.characters.map((c) => pick(c.id, displayName(c),
      charsFirst || charsPicked.has(c.id))));
    this.characterPicks.list.dispatchEvent(new Event('change'));
  }

  refresh() {
    if (!this.built) return;
    const ready = this.d.ready();
    const running = this.run !== null;
    const chosen = this.modelPicks.picked().length > 0 && this.characterPicks.picked().length > 0;
    this.startButton.disabled = !ready || running || !chosen;
    this.stopButton.disabled = !running;
    for (const input of this.d.root.querySelectorAll('.check-picks input')) input.disabled = running;
    if (!ready && !running) this.status.textContent = WAITING;
    else if (!running && this.status.textContent === WAITING) this.status.textContent = '';
  }

  start() {
    if (this.run || !this.d.ready() || !this.d.engine()) return;
    const modelIds = new Set(this.modelPicks.picked());
    const characterIds = new Set(this.characterPicks.picked());
    const models = this.models.filter((m) => modelIds.has(m.id));
    const characters = this.characters.filter((c) => characterIds.has(c.id));
    if (!models.length || !characters.length) return;
    this.run = { models, characters, modelIndex: -1, queue: [], done: 0, home: this.d.current(), phase: 'check', stopping: false, failed: [] };
    this.progress.hidden = false;
    this.progress.max = models.length * characters.length;
    this.progress.value = 0;
    this.refresh();
    this.nextModel();
  }

  model() {
    return this.run.models[this.run.modelIndex];
  }

  // Loads the next chosen model (unless it is the one loaded) and checks its characters.
  nextModel() {
    const run = this.run;
    run.modelIndex += 1;
    if (run.stopping || run.modelIndex >= run.models.length) {
      this.goHome();
      return;
    }
    const model = this.model();
    run.queue = [...run.characters];
    if (model.id === this.d.current()?.id && this.d.ready()) {
      this.next();
      return;
    }
    run.phase = 'load';
    this.status.textContent = `Loading ${model.name} (model ${run.modelIndex + 1} of ${run.models.length})…`;
    this.d.use(model);
  }

  next() {
    const run = this.run;
    const engine = this.d.engine();
    this.character = run.queue.shift() || null;
    if (!this.character || run.stopping || !engine) {
      this.checkId = null;
      this.nextModel();
      return;
    }
    run.phase = 'check';
    this.checkId = startCheck(engine, {
      card: this.character.card, lorebooks: (this.character.lorebooks || []).map((l) => l.book).filter(Boolean),
      prefs: this.d.prefs(), options: this.d.options(), model: this.d.modelName(), adapter: this.character.adapter ?? null,
    });
    this.status.textContent = `${this.where()}…`;
  }

  // "Checking Wren (1 of 3) on Gemma (model 1 of 2)".
  where() {
    const run = this.run;
    const n = run.characters.length;
    const models = run.models.length > 1 ? ` on ${this.model().name} (model ${run.modelIndex + 1} of ${run.models.length})` : '';
    return `Checking ${displayName(this.character)} (${n - run.queue.length} of ${n})${models}`;
  }

  // Back to the model that was in use, then the summary.
  goHome() {
    const run = this.run;
    const home = run.home;
    if (home && this.d.current()?.id !== home.id) {
      run.phase = 'home';
      this.status.textContent = `Loading ${home.name} back…`;
      this.d.use(home);
      return;
    }
    this.finish();
  }

  finish() {
    const run = this.run;
    this.run = null;
    this.checkId = null;
    this.progress.hidden = true;
    const n = run.characters.length;
    const names = run.models.map((m) => m.name).join(', ');
    const what = `${n} character${n === 1 ? '' : 's'} on ${run.models.length > 1 ? `${run.models.length} models (${names})` : names}`;
    const failed = run.failed.length ? ` ${run.failed.join(' ')}` : '';
    this.status.textContent = run.stopping ? `Stopped.${failed}` : `Checked ${what}.${failed}`;
    this.refresh();
    this.renderPicks().then(() => this.refresh());
  }

  stop() {
    const run = this.run;
    if (!run) return;
    run.stopping = true;
    if (run.phase === 'check') this.d.engine()?.stop();
  }

  engineEvent(msg) {
    const run = this.run;
    if (msg.type === 'ready' || (msg.type === 'error' && msg.scope === 'load')) {
      if (run?.phase === 'load') {
        if (msg.type === 'ready') this.next();
        else {
          run.failed.push(`${this.model().name} could not be loaded (${msg.message}).`);
          run.done += run.characters.length;
          this.progress.value = run.done;
          this.nextModel();
        }
      } else if (run?.phase === 'home') {
        if (msg.type === 'error') run.failed.push(`${run.home.name} could not be loaded back (${msg.message}).`);
        this.finish();
      }
      this.refresh();
    }
    if (!run || this.checkId === null || msg.id !== this.checkId) return;
    if (msg.type === 'check-progress') {
      this.progress.value = run.done + msg.done / Math.max(1, msg.total);
      this.status.textContent = `${this.where()}: ${msg.done} of ${msg.total} replies.`;
    } else if (msg.type === 'check-done' || msg.type === 'error') {
      const finished = this.character;
      this.checkId = null;
      run.done += 1;
      this.progress.value = run.done;
      const after = async () => {
        if (msg.type === 'check-done' && !msg.stopped) await keepCheck(this.d.db, finished.id, msg.run, msg.summary, { card: finished.card }).catch(() => {});
        if (msg.type === 'error') run.failed.push(`${displayName(finished)} on ${this.model().name}: the check failed (${msg.message}).`);
        if (msg.stopped) run.stopping = true;
        await this.renderTable();
        this.next();
      };
      after();
    }
  }

  async renderTable() {
    const characters = await listCharacters(this.d.db).catch(() => []);
    const head = el('thead');
    const hr = el('tr');
    const headings = ['Character', 'Model', 'Layout', 'Consistency', 'Human-likeness', 'Engagement', 'Spoke for you', 'Ended by itself', 'Checked'];
    for (const h of headings) {
      const th = el('th', '', h);
      th.scope = 'col';
      hr.append(th);
    }
    head.append(hr);
    const body = el('tbody');
    for (const c of characters.sort((a, b) => displayName(a).localeCompare(displayName(b)))) {
      const kept = await readChecks(this.d.db, c.id).catch(() => ({ byModel: {} }));
      for (const [model, { run, summary, at }] of Object.entries(kept.byModel)) {
        const spoke = checkRate(summary, 'speaks_for_user');
        const ended = checkRate(summary, 'ended');
        const tr = el('tr');
        tr.dataset.character = c.id;
        tr.dataset.model = model;
        const name = el('th', '');
        name.scope = 'row';
        const link = el('a', '', displayName(c));
        link.href = `#/edit/${encodeURIComponent(c.id)}`;
        name.append(link);
        tr.append(name);
        const cells = [model, run.format, ...['consistency', 'human_likeness', 'engagement'].map((d) => dimensionText(summary, d)),
          spoke ? `${Math.round(((100 - spoke[0]) * spoke[1]) / 100)} of ${spoke[1]}` : '–',
          ended ? `${Math.round(ended[0])}%` : '–', new Date(at).toLocaleString()];
        cells.forEach((v, i) => {
          const td = el('td', '', String(v));
          td.dataset.label = headings[i + 1]; // a phone shows it before the value
          tr.append(td);
        });
        body.append(tr);
      }
    }
    if (!body.children.length) {
      const tr = el('tr');
      const td = el('td', 'models-empty', 'No character has been checked yet.');
      td.colSpan = 9;
      tr.append(td);
      body.append(tr);
    }
    this.table.replaceChildren(head, body);
  }
}
