// A card whose every field carries script and HTML payloads: imported, shown in the library,
// on its page and in a chat, it runs nothing (no dialog, no request, no new script element,
// no javascript: link) and its text is shown as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots } from './harness.mjs';
import { messages, openCharacter } from './chat-page.mjs';
import { characters, importCards, openDetails, gotoLibrary } from './app-page.mjs';

const PAYLOADS = [
  '<img src=x onerror="alert(1)">',
  '<script>alert(2)</script>',
  '<a href="javascript:alert(3)">click</a>',
  '[markdown link](javascript:alert(4))',
  '![tracker](https://tracker.example/pixel.png)',
  '<iframe src="https://evil.example/"></iframe>',
  '<svg onload=alert(5)>',
  '[site](https://evil.example/page)',
].join(' ');

const FIELDS = ['description', 'personality', 'scenario', 'first_mes', 'mes_example', 'creator_notes',
  'system_prompt', 'post_history_instructions', 'creator', 'character_version'];

function hostileCard() {
  const data = { name: 'Mallory <b>bold</b><script>alert(6)</script>', tags: ['<img src=x onerror=alert(7)>', 'evil'] };
  for (const f of FIELDS) data[f] = `${f}: ${PAYLOADS}`;
  data.alternate_greetings = [`alt: ${PAYLOADS}`];
  data.character_book = { entries: [{ keys: ['x'], content: PAYLOADS, name: '<script>alert(8)</script>' }] };
  return { spec: 'chara_card_v2', spec_version: '2.0', data };
}

let server;
let browser;
const dialogs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const { page } = browser;
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  // Counts every <script>, <iframe> and event-handler attribute that ever enters the page.
  await page.addInitScript(() => {
    window.__inserted = [];
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (n.nodeType !== 1) continue;
          for (const el of [n, ...n.querySelectorAll('*')]) {
            if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED'].includes(el.tagName)) {
              window.__inserted.push(`${el.tagName} ${el.getAttribute('src') || el.textContent.slice(0, 40)}`);
            }
            for (const a of el.attributes) if (/^on/i.test(a.name)) window.__inserted.push(`${el.tagName}[${a.name}]`);
          }
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const NAME = 'Mallory <b>bold</b><script>alert(6)</script>';

test('a hostile card imports, and every view shows its text without running it', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const status = await importCards(page, {
    name: 'mallory.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(hostileCard())),
  });
  assert.equal(status, `Imported ${NAME}.`);
  const [record] = (await characters(page)).filter((c) => c.card.name === NAME);
  for (const f of FIELDS) assert.equal(record.card[f], `${f}: ${PAYLOADS}`, `${f} is stored as it came`);

  // Library card.
  const card = page.locator('#character-grid .character-card', { hasText: 'Mallory' });
  assert.equal(await card.locator('.name').textContent(), NAME);
  assert.ok((await card.textContent()).includes('<img src=x onerror=alert(7)>'), 'the tag shows as text');
  await screenshots(page, 'hostile-library');

  // The character's page.
  await openDetails(page, NAME);
  const about = await page.locator('#character-about').textContent();
  assert.ok(about.includes(`description: ${PAYLOADS}`), 'the description shows as text');

  // The chat: the greeting rendered as Markdown.
  await gotoLibrary(page);
  await openCharacter(page, 'Mallory');
  const [greeting] = await messages(page);
  assert.equal(greeting.text, `first_mes: ${PAYLOADS}`);
  const shown = await page.locator('#messages li.message .text').first().textContent();
  assert.ok(shown.includes('<img src=x onerror="alert(1)">'), 'HTML shows as text');
  assert.ok(shown.includes('<script>alert(2)</script>'));
  assert.ok(shown.includes('[image: tracker]'), 'an image shows its description, not the image');
  const links = await page.locator('#messages a').evaluateAll((as) => as.map((a) => ({ href: a.href, rel: a.rel, text: a.textContent })));
  assert.deepEqual(links, [{ href: 'https://evil.example/page', rel: 'noopener noreferrer', text: 'site' }],
    'only the http(s) Markdown link is a link, with rel="noopener noreferrer"');
  // Swiping to the alternate greeting renders it too.
  await page.getByRole('button', { name: 'Next reply' }).click();
  await page.waitForFunction(() => document.querySelector('#messages li.message .swipe-count').textContent === '2/2');
  assert.equal((await messages(page))[0].text, `alt: ${PAYLOADS}`);
  await screenshots(page, 'hostile-chat');
});

test('nothing ran and nothing was fetched', async () => {
  const { page } = browser;
  assert.deepEqual(dialogs, [], 'no dialog opened');
  // The parser's insertion of the page's own module script is the only one expected.
  const inserted = await page.evaluate(() => window.__inserted);
  assert.ok(inserted.includes('SCRIPT js/app.js'), 'the observer saw the page\'s own script');
  assert.deepEqual(inserted.filter((e) => e !== 'SCRIPT js/app.js'), [], 'no other script, frame or handler entered the page');
  assert.equal(await page.locator('script').count(), 1, 'only the page\'s own module script');
  assert.equal(await page.locator('a[href^="javascript"], img[src="x"], iframe, svg').count(), 0);
  const foreign = browser.requests.filter((url) => new URL(url).origin !== server.origin);
  assert.deepEqual(foreign, []);
  assert.ok(!browser.requests.some((u) => new URL(u).pathname === '/x'), 'no request for the img payload');
  assert.deepEqual(browser.pageErrors, []);
});
