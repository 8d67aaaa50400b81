// Cutting a page off from its engine worker, for tests that reload mid-reply. A test that
// checks "still streaming" and then reloads races the model: a reply can end in between and be
// saved as done. After the cut no message from a worker reaches the page's own handlers, so the
// page stays exactly as it was at the cut (the reply streaming, its last tokens queued to be
// saved), as if the tab were closed at that instant.

// The page-side flag: a test's own page.evaluate checks the page and sets
// window[ENGINE_CUT] = true in the same task, so nothing the worker sends can change the page
// between the check and the cut.
export const ENGINE_CUT = 'kindredTestEngineCut';

// Must run before the page's scripts: wraps Worker so that every worker's messages pass
// through a listener added before the page's own.
export function allowEngineCut(page) {
  return page.addInitScript((flag) => {
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (event) => {
          if (window[flag]) event.stopImmediatePropagation();
        });
      }
    };
  }, ENGINE_CUT);
}
