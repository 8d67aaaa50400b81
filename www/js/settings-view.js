// The settings page: personas, sampling, context size, theme and safety; export, import
// and deletion of everything; training data (training-data.js).
import { savePrefs, applyTheme, SAMPLING } from './prefs.js';
import { exportAll, importAll, deleteAll } from './backup.js';
import { download } from './download.js';
import { isQuotaError } from './db.js';
import { rustTools, errorText } from './wasm.js';
import { PersonaSettings } from './persona-settings.js';
import { SafetySettings } from './safety-settings.js';
import { TrainingData } from './training-data.js';

const $ = (id) => document.getElementById(id);

export class SettingsView {
  // deps: {db, prefs(), setPrefs(p), afterDataChange(), unloadModel()}
  constructor(deps) {
    this.d = deps;
    this.personas = new PersonaSettings();
    this.safety = new SafetySettings();
    this.training = new TrainingData({ db: deps.db });
    $('settings-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.save();
    });
    $('export-all').addEventListener('click', () => this.exportAll());
    $('import-all').addEventListener('change', (e) => {
      const [file] = e.target.files;
      e.target.value = '';
      if (file) this.importAll(file);
    });
    $('delete-all').addEventListener('click', () => this.deleteAll());
  }

  show() {
    const p = this.d.prefs();
    this.personas.show(p);
    this.safety.show(p).catch((err) => {
      $('settings-saved').textContent = `The safety lists could not be read: ${errorText(err)}`;
    });
    this.showSampling(p).catch((err) => {
      $('settings-saved').textContent = `The reply settings could not be read: ${errorText(err)}`;
    });
    this.training.show().catch((err) => {
      $('dataset-note').textContent = `Your characters could not be read: ${errorText(err)}`;
    });
    $('context').value = String(p.context);
    $('keep-scripts').checked = p.keepScripts;
    for (const radio of document.querySelectorAll('input[name="theme"]')) radio.checked = radio.value === p.theme;
    for (const radio of document.querySelectorAll('input[name="backend"]')) radio.checked = radio.value === p.backend;
    $('settings-saved').textContent = '';
    $('data-status').textContent = '';
  }

  // The sampling inputs: each setting's range and step from the engine's table, and the
  // value a reply runs with (the person's, held to its range, or the default).
  async showSampling(p) {
    delete $('settings-form').dataset.samplingReady;
    const tools = await rustTools();
    const used = tools.check_options(p.sampling);
    for (const { name, min, max, step } of tools.reply_settings()) {
      const input = $(name);
      Object.assign(input, { min: String(min), max: String(max), step: String(step) });
      // f32 values read back as f64 (0.800000011920929): six digits say what was meant.
      input.value = String(Number(used[name].toPrecision(6)));
    }
    $('settings-form').dataset.samplingReady = 'true';
  }

  async save() {
    const sampling = {};
    for (const key of SAMPLING) sampling[key] = $(key).valueAsNumber;
    const theme = document.querySelector('input[name="theme"]:checked')?.value;
    const backend = document.querySelector('input[name="backend"]:checked')?.value;
    const { personas, defaultPersona } = this.personas.value();
    const next = {
      personas,
      defaultPersona,
      sampling,
      context: $('context').valueAsNumber,
      keepScripts: $('keep-scripts').checked,
      theme,
      backend,
    };
    try {
      const { safety, rejected } = await this.safety.value();
      next.safety = safety;
      const saved = await savePrefs(this.d.db, next);
      this.d.setPrefs(saved);
      applyTheme(saved.theme);
      this.show();
      $('settings-saved').textContent = rejected.length ? `Saved, without ${rejected.join('; ')}.` : 'Saved.';
    } catch (err) {
      $('settings-saved').textContent = `Could not save: ${errorText(err)}`;
    }
  }

  async exportAll() {
    try {
      const data = await exportAll(this.d.db);
      const day = new Date().toISOString().slice(0, 10);
      download(new TextEncoder().encode(JSON.stringify(data)), `kindred-backup-${day}.json`, 'application/json');
      $('data-status').textContent = `Exported ${data.characters.length} characters, ${data.chats.length} chats and ${data.messages.length} messages.`;
    } catch (err) {
      $('data-status').textContent = `Could not export: ${errorText(err)}`;
    }
  }

  async importAll(file) {
    try {
      const n = await importAll(this.d.db, file);
      await this.d.afterDataChange();
      this.show();
      $('data-status').textContent = `Imported ${n.characters} characters, ${n.chats} chats and ${n.messages} messages.`;
    } catch (err) {
      // The records are written in one transaction: a refusal leaves nothing half-imported.
      $('data-status').textContent = isQuotaError(err)
        ? 'Could not import: this device\'s storage is full, and nothing was imported. Free some space (under Models, delete a stored model you do not use) and import again.'
        : `Could not import: ${errorText(err)}`;
    }
  }

  async deleteAll() {
    if ($('delete-confirm').value.trim() !== 'DELETE') {
      $('data-status').textContent = 'Type DELETE in the box to confirm.';
      $('delete-confirm').focus();
      return;
    }
    const model = $('delete-model').checked;
    try {
      await deleteAll(this.d.db, { model });
      if (model) this.d.unloadModel();
      $('delete-confirm').value = '';
      $('delete-model').checked = false;
      await this.d.afterDataChange();
      this.show();
      $('data-status').textContent = model ? 'Everything was deleted, the model too.' : 'Everything was deleted.';
    } catch (err) {
      $('data-status').textContent = `Could not delete: ${errorText(err)}`;
    }
  }
}
