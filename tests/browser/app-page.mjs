// What the library, character and settings tests share: reading IndexedDB from the page,
// importing files through the file pickers, and catching downloads.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './harness.mjs';

export const FIXTURES = join(REPO, '..', 'shared', 'fixtures', 'cards');

export async function fixture(name) {
  return readFile(join(FIXTURES, name));
}

// Every record of the given stores, read in the page (avatars as byte counts).
export function readStores(page, stores) {
  return page.evaluate((names) => new Promise((resolve, reject) => {
    const open = indexedDB.open('kindred');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const present = names.filter((n) => db.objectStoreNames.contains(n));
      const out = { version: db.version };
      if (!present.length) { db.close(); resolve(out); return; }
      const tx = db.transaction(present, 'readonly');
      for (const n of present) {
        const req = tx.objectStore(n).getAll();
        req.onsuccess = () => {
          out[n] = req.result.map((r) => (r && r.avatar instanceof ArrayBuffer ? { ...r, avatar: r.avatar.byteLength } : r))
            .map((r) => (r && r.data instanceof ArrayBuffer ? { ...r, data: r.data.byteLength } : r));
        };
      }
      tx.oncomplete = () => { db.close(); resolve(out); };
      tx.onerror = () => reject(tx.error);
    };
  }), stores);
}

export async function characters(page) {
  return (await readStores(page, ['characters'])).characters;
}

// Imports files through the library's picker and waits for the page to report back.
export async function importCards(page, files) {
  await page.evaluate(() => { delete document.body.dataset.lastImport; });
  await page.locator('#import-file').setInputFiles(files);
  await page.waitForFunction(() => document.body.dataset.lastImport !== undefined);
  return page.locator('#import-status').textContent();
}

// Clicks a button that downloads a file; returns the file's name and bytes.
export async function downloadFrom(page, locator) {
  const [download] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: await readFile(path) };
}

export async function gotoLibrary(page) {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.waitForFunction(() => document.body.dataset.view === 'library' && document.querySelectorAll('#character-grid .character-card').length > 0);
}

export async function openDetails(page, name) {
  await gotoLibrary(page);
  await page.getByRole('link', { name: `Details of ${name}` }).first().click();
  await page.waitForFunction((n) => document.body.dataset.view === 'character'
    && document.getElementById('character-title').textContent === n, name);
}

// Writes a chat straight into IndexedDB: `texts` are its messages in order (ids and positions
// 1, 2, ...), the first the character's greeting, then the user's and the character's in
// turns; `chat` adds fields to the chat record (cutUntil, ...).
export function seedChat(page, { chatId, characterId, title = 'Chat', texts, chat = {} }) {
  return page.evaluate(({ chatId: id, characterId: cid, title: name, texts: all, chat: extra }) => new Promise((resolve, reject) => {
    const req = indexedDB.open('kindred');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(['chats', 'messages'], 'readwrite');
      const now = Date.now();
      tx.objectStore('chats').put({ id, characterId: cid, title: name, createdAt: now, updatedAt: now, ...extra });
      const store = tx.objectStore('messages');
      all.forEach((text, i) => {
        store.put({
          id: i + 1, chatId: id, pos: i + 1, role: i % 2 === 0 ? 'assistant' : 'user', greeting: i === 0 || undefined,
          swipes: [{ text, status: i === 0 ? 'greeting' : 'done', rating: null, createdAt: now }], chosen: 0, createdAt: now,
        });
      });
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), { chatId, characterId, title, texts, chat });
}

// Sets the context size in Settings and waits for it to be saved.
export async function setContextSize(page, tokens) {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Context size (tokens)').fill(String(tokens));
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForFunction(() => document.getElementById('settings-saved').textContent === 'Saved.');
}
