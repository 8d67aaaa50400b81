// #/check: the quality check for every character on the loaded model, one after the other,
// with progress and Stop; a table of every kept result, each model's beside the others' (load
// another model under Models and check again to compare). The editor's Check panel runs the
// same check for one character (check-panel.js); both keep results the same way.
import { el, button } from './editor-dom.js';
import { listCharacters, displayName } from './character-store.js';
import { readChecks, keepCheck, startCheck, dimensionText, checkRate } from './check-panel.js';

export class CheckView {
  // deps: {db, root, engine(), ready(), prefs(), options(), modelName()}
  constructor(deps) {
    this.d = deps;
    this.checkId = null;
    this.queue = [];
    this.current = null;
    this.stopping = false;
    this.built = false;
  }

  build() {
    const title = el('h2', '', 'Check characters');
    title.id = 'check-view-title';
    const intro = el('p', 'ed-hint', 'Runs scripted turns with every character on the loaded model and scores each reply: '
      + 'staying in character, speaking only for the character, ending its turn, using the card, remembering what you said, '
      + 'engaging with you. Load another model under Models and check again to compare them side by side.');
    this.startButton = button('Check every character', 'primary', 'Check every character');
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
    this.d.root.replaceChildren(title, intro, actions, this.progress, this.status, this.table);
    this.built = true;
  }

  async show() {
    if (!this.built) this.build();
    this.refresh();
    await this.renderTable();
  }

  refresh() {
    if (!this.built) return;
    const ready = this.d.ready();
    this.startButton.disabled = !ready || this.checkId !== null;
    this.stopButton.disabled = this.checkId === null;
    if (!ready && this.checkId === null) this.status.textContent = 'The check runs once the model has loaded.';
    else if (this.checkId === null && this.status.textContent === 'The check runs once the model has loaded.') this.status.textContent = '';
  }

  async start() {
    const engine = this.d.engine();
    if (this.checkId !== null || !this.d.ready() || !engine) return;
    const all = await listCharacters(this.d.db);
    this.queue = all.filter((c) => c?.card).sort((a, b) => displayName(a).localeCompare(displayName(b)));
    this.total = this.queue.length;
    this.stopping = false;
    this.progress.hidden = false;
    this.progress.max = Math.max(1, this.total);
    this.progress.value = 0;
    this.next();
  }

  next() {
    const engine = this.d.engine();
    this.current = this.queue.shift() || null;
    if (!this.current || this.stopping || !engine) {
      this.checkId = null;
      this.progress.hidden = true;
      this.status.textContent = this.stopping ? 'Stopped.' : `Checked ${this.total} characters on ${this.d.modelName()}.`;
      this.refresh();
      return;
    }
    this.checkId = startCheck(engine, {
      card: this.current.card, lorebooks: (this.current.lorebooks || []).map((l) => l.book).filter(Boolean),
      prefs: this.d.prefs(), options: this.d.options(), model: this.d.modelName(),
    });
    this.status.textContent = `Checking ${displayName(this.current)} (${this.total - this.queue.length} of ${this.total})…`;
    this.refresh();
  }

  stop() {
    if (this.checkId === null) return;
    this.stopping = true;
    this.d.engine()?.stop();
  }

  engineEvent(msg) {
    if (msg.type === 'ready' || (msg.type === 'error' && msg.scope === 'load')) this.refresh();
    if (this.checkId === null || msg.id !== this.checkId) return;
    if (msg.type === 'check-progress') {
      const done = this.total - this.queue.length - 1;
      this.progress.value = done + msg.done / Math.max(1, msg.total);
      this.status.textContent = `Checking ${displayName(this.current)} (${done + 1} of ${this.total}): ${msg.done} of ${msg.total} replies.`;
    } else if (msg.type === 'check-done' || msg.type === 'error') {
      const finished = this.current;
      const after = async () => {
        if (msg.type === 'check-done' && !msg.stopped) await keepCheck(this.d.db, finished.id, msg.run, msg.summary).catch(() => {});
        if (msg.type === 'error') this.status.textContent = `${displayName(finished)}: the check failed (${msg.message}).`;
        if (msg.stopped) this.stopping = true;
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
