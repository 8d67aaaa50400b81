// Reading replies aloud with the browser's own speech synthesis (the Web Speech API): the
// voices are the device's, nothing is sent anywhere. A device may offer no voice at all
// (many Linux browsers, headless ones), so every control asks unavailableReason() first.
import { parse, plainText } from './markdown.js';

export function speechApi(win = globalThis) {
  const synth = win.speechSynthesis;
  const Utterance = win.SpeechSynthesisUtterance;
  return synth && typeof synth.speak === 'function' && typeof Utterance === 'function' ? { synth, Utterance } : null;
}

// The voices on offer, as plain records for the pickers.
export function voiceList(api = speechApi()) {
  if (!api) return [];
  return [...(api.synth.getVoices() || [])]
    .filter((v) => v && typeof v.voiceURI === 'string' && v.voiceURI)
    .map((v) => ({ uri: v.voiceURI, name: String(v.name || v.voiceURI), lang: String(v.lang || ''), isDefault: Boolean(v.default) }));
}

// Why nothing can be read aloud, or null when it can.
export function unavailableReason(api, voices) {
  if (!api) return 'This browser cannot read text aloud.';
  if (!voices.length) return 'No voices are installed on this device, so nothing can be read aloud.';
  return null;
}

// What is spoken: the reply's words without Markdown marks (asterisks would be read out).
export function spokenText(markdown) {
  return plainText(parse(markdown)).replace(/\s+/g, ' ').trim();
}

// The voice for a character: its own, else the default one chosen in settings ('' lets
// the browser pick). A stored voice the device no longer has falls back the same way.
export function voiceFor(prefs, characterId, voices) {
  const known = (uri) => uri && voices.some((v) => v.uri === uri);
  const own = prefs.characters[characterId];
  if (known(own)) return own;
  return known(prefs.voice) ? prefs.voice : '';
}

// Speaks `text` (Markdown) with the voice `uri`, cutting off whatever was being read.
export function speak(text, uri, api = speechApi()) {
  const words = spokenText(text);
  if (!api || !words) return null;
  api.synth.cancel();
  const utterance = new api.Utterance(words);
  const voice = uri ? [...api.synth.getVoices()].find((v) => v.voiceURI === uri) : null;
  if (voice) {
    utterance.voice = voice;
    utterance.lang = voice.lang;
  }
  api.synth.speak(utterance);
  return utterance;
}

export function stopSpeaking(api = speechApi()) {
  api?.synth.cancel();
}

// Voices often arrive after the page loads; fn runs on each change of the list.
export function watchVoices(fn, api = speechApi()) {
  api?.synth.addEventListener?.('voiceschanged', fn);
}
