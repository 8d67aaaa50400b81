// The usual set-up of a test file: one server and one browser for all its tests, stopped
// after them. `session()` returns an object whose `server` and `browser` are set once they
// are up (options: {server: startServer's, browser: launchBrowser's}).
import { before, after } from 'node:test';
import { startServer, launchBrowser } from './harness.mjs';

export function session(options = {}) {
  const it = { server: null, browser: null };
  before(async () => {
    it.server = await startServer(options.server);
    it.browser = await launchBrowser(options.browser);
  }, { timeout: 120_000 });
  after(async () => {
    await it.browser?.close();
    await it.server?.stop();
  });
  return it;
}
