import { existsSync } from 'node:fs';
import { launchChromium, screenshot, seriousAxeViolations } from '../harness/browser';

// The browser harness itself: Debian's chromium starts under playwright-core, screenshots land in the
// CI folder, and axe-core reports what the web clients' scenarios assert on.
describe('browser harness', () => {
  it('drives chromium, writes a screenshot and finds a serious axe violation on a broken page', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent('<html lang="en"><head><title>t</title></head><body><main><img src="x.png"><p>hello</p></main></body></html>');
      expect(await page.textContent('p')).toBe('hello');
      const path = await screenshot(page, 'browser-harness', 'broken-page');
      expect(existsSync(path)).toBe(true);
      // An image without alt text is a critical violation: proof that the scan runs and can fail.
      const violations = await seriousAxeViolations(page);
      expect(violations.map((v) => v.id)).toContain('image-alt');
    } finally {
      await browser.close();
    }
  });
});
