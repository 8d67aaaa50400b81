// The personas part of the Settings form: pick one to edit, add, delete, mark the default.
// Edits stay in a working copy until the form is saved with the rest of the settings.
import { newPersonaId, MAX_PERSONAS } from './personas.js';

const $ = (id) => document.getElementById(id);

export class PersonaSettings {
  constructor() {
    this.personas = [];
    this.defaultId = null;
    this.editing = null;
    $('persona-pick').addEventListener('change', (e) => {
      this.keep();
      this.select(e.target.value);
    });
    $('persona-name').addEventListener('input', () => {
      this.keep();
      this.fillPick();
    });
    $('persona-default').addEventListener('change', (e) => {
      if (e.target.checked) this.defaultId = this.editing;
      else e.target.checked = true; // one persona is always the default: choose another instead
      this.fillPick();
    });
    $('persona-add').addEventListener('click', () => this.add());
    $('persona-delete').addEventListener('click', () => this.remove());
  }

  show(prefs) {
    this.personas = prefs.personas.map((p) => ({ ...p }));
    this.defaultId = prefs.defaultPersona;
    this.select(this.defaultId);
  }

  // The edited fields into the working copy.
  keep() {
    const p = this.personas.find((x) => x.id === this.editing);
    if (!p) return;
    p.name = $('persona-name').value;
    p.description = $('persona-description').value;
  }

  select(id) {
    const p = this.personas.find((x) => x.id === id) || this.personas[0];
    this.editing = p.id;
    $('persona-name').value = p.name;
    $('persona-description').value = p.description;
    this.fillPick();
  }

  fillPick() {
    const pick = $('persona-pick');
    pick.replaceChildren(...this.personas.map((p) => {
      const option = document.createElement('option');
      option.value = p.id;
      const name = p.name.trim() || 'User';
      option.textContent = p.id === this.defaultId ? `${name} (default)` : name;
      return option;
    }));
    pick.value = this.editing;
    $('persona-default').checked = this.editing === this.defaultId;
    $('persona-delete').disabled = this.personas.length < 2;
    $('persona-add').disabled = this.personas.length >= MAX_PERSONAS;
  }

  add() {
    this.keep();
    if (this.personas.length >= MAX_PERSONAS) return;
    const p = { id: newPersonaId(this.personas), name: 'New persona', description: '' };
    this.personas.push(p);
    this.select(p.id);
    $('persona-name').select();
    $('persona-name').focus();
  }

  remove() {
    if (this.personas.length < 2) return;
    this.personas = this.personas.filter((p) => p.id !== this.editing);
    if (!this.personas.some((p) => p.id === this.defaultId)) this.defaultId = this.personas[0].id;
    this.select(this.defaultId);
    $('persona-pick').focus();
  }

  // What to save: {personas, defaultPersona}.
  value() {
    this.keep();
    return { personas: this.personas.map((p) => ({ ...p })), defaultPersona: this.defaultId };
  }
}
