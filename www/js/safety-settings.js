// The safety part of the Settings form: the level and a word list per category (with the
// strict-only words apart). Only lists that differ from the built-in ones are stored, so
// categories the user never touched follow the built-in lists as they improve.
import { SAFETY_CATEGORIES, normalizeSafety, parseTerms } from './safety.js';

const $ = (id) => document.getElementById(id);

function area(id, label) {
  const wrap = document.createElement('label');
  wrap.append(`${label} `);
  const box = document.createElement('textarea');
  box.id = id;
  box.rows = 3;
  box.spellcheck = false;
  wrap.append(box);
  return wrap;
}

export class SafetySettings {
  constructor() {
    this.builtIn = null;
    const root = $('safety-lists');
    for (const [key, label] of SAFETY_CATEGORIES) {
      const group = document.createElement('div');
      group.className = 'safety-category';
      group.append(area(`safety-${key}`, `${label} words`), area(`safety-${key}-strict`, `${label} words, strict only`));
      root.append(group);
    }
  }

  async show(prefs) {
    for (const radio of document.querySelectorAll('input[name="safety-level"]')) radio.checked = radio.value === prefs.safety.level;
    const [mine, builtIn] = await Promise.all([normalizeSafety(prefs.safety), normalizeSafety(null)]);
    this.builtIn = builtIn.settings.lists;
    for (const [key] of SAFETY_CATEGORIES) {
      const lists = mine.settings.lists[key] || { terms: [], strict_terms: [] };
      $(`safety-${key}`).value = lists.terms.join('\n');
      $(`safety-${key}-strict`).value = lists.strict_terms.join('\n');
    }
  }

  // `{safety, rejected}`: the setting to store and the terms Rust refused, with why.
  async value() {
    const level = document.querySelector('input[name="safety-level"]:checked')?.value || 'standard';
    const lists = {};
    for (const [key] of SAFETY_CATEGORIES) {
      lists[key] = { terms: parseTerms($(`safety-${key}`).value), strict_terms: parseTerms($(`safety-${key}-strict`).value) };
    }
    const checked = await normalizeSafety({ level, lists });
    const builtIn = this.builtIn || (await normalizeSafety(null)).settings.lists;
    const changed = {};
    for (const [key, l] of Object.entries(checked.settings.lists)) {
      if (JSON.stringify(l) !== JSON.stringify(builtIn[key])) changed[key] = l;
    }
    return { safety: { level: checked.settings.level, lists: changed }, rejected: checked.rejected };
  }
}
