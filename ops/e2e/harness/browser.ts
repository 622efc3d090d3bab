import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';

export { CHROMIUM_PATH, launchChromium } from '../../src/web/chromium';

/** Where scenarios write their screenshots; `.ci/run` lists the folder in CI's log. */
export const SCREENSHOT_DIR = resolve(process.env.E2E_SCREENSHOT_DIR ?? join(__dirname, '..', '..', '..', 'e2e-screenshots'));

/** Saves a full-page PNG as `<scenario>/<step>.png` under SCREENSHOT_DIR and returns its path. */
export async function screenshot(page: Page, scenario: string, step: string): Promise<string> {
  const dir = join(SCREENSHOT_DIR, scenario);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${step}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

let axeSource: string | null = null;
const AXE_SOURCE = (): string => (axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/**
 * Runs axe-core in the page (optionally inside one element, e.g. a shadow host or an iframe's body)
 * and returns the serious and critical violations: the suites assert the list is empty.
 */
export async function seriousAxeViolations(page: Page, context?: string): Promise<AxeViolation[]> {
  // Evaluated over the DevTools protocol rather than added as a <script>: pages with a strict
  // Content-Security-Policy (the console, the widget's demo pages) would refuse an injected script.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE_SOURCE());
  const violations = await page.evaluate(async (selector) => {
    type AxeResult = { violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> };
    const axe = (globalThis as unknown as { axe: { run(context: unknown): Promise<AxeResult> } }).axe;
    const result = await axe.run(selector ?? document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  }, context ?? null);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
