// axe-core, in Chromium, on the main pages in both languages, at phone and desk size: no
// serious or critical violation. The pages are what a citizen, a clerk and an administrator
// use most, and the public pages a visitor sees.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { launchBrowser, startDemo, totp, account } from '../lib/harness.js';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

const pages = {
  visitor: ['/', '/services', '/services/339900-SJ-0001', '/services/339900-SJ-0003', '/opendata', '/login', '/register', '/docs', '/collect/device'],
  'citizen.zhangwei': ['/home', '/pass', '/wallet', '/applications', '/messages', '/services/339900-SJ-0001/apply', '/security'],
  'demo.clerk.market': ['/home', '/workbench/applications', '/certs/issue', '/collect'],
  'demo.deptadmin': ['/collect', '/todo', '/office', '/office/notices'],
  'demo.health': ['/health', '/health/approvals', '/health/policy', '/ops', '/ops?region=339901&period=week'],
  'demo.sysadmin': ['/admin', '/admin/users', '/admin/regions', '/console/services/339900-SJ-0001', '/console/services/new'],
  'demo.auditadmin': ['/admin/events'],
};

async function open(who, options, step) {
  // The site's policy forbids inline scripts; the checker is injected as one.
  const context = await browser.newContext({ ...options, bypassCSP: true });
  const page = await context.newPage();
  if (who !== 'visitor') {
    const a = account(demo, who);
    await page.goto(`${demo.baseUrl}/login`);
    await page.fill('#username', a.username);
    await page.fill('#password', a.password);
    if (a.totp_secret) await page.fill('#totp', totp(a.totp_secret, Date.now() + step * 30_000));
    await page.click('button[type=submit].primary');
    await page.waitForURL('**/home');
  }
  return { context, page };
}

const sizes = [
  ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
  ['desk', { viewport: { width: 1280, height: 900 } }],
];

sizes.forEach(([size, options], step) => {
  test(`no serious or critical accessibility violation on the main pages (${size})`, async () => {
    const found = [];
    for (const [who, paths] of Object.entries(pages)) {
      const { context, page } = await open(who, options, step);
      for (const lang of ['zh', 'en']) {
        for (const path of paths) {
          await page.goto(`${demo.baseUrl}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
          await page.addScriptTag({ path: axePath });
          const violations = await page.evaluate(async () => {
            const result = await window.axe.run(document, { resultTypes: ['violations'] });
            return result.violations
              .filter((v) => v.impact === 'serious' || v.impact === 'critical')
              .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
          });
          for (const v of violations) found.push(`${who} ${path} [${lang}] ${v}`);
        }
      }
      // Back to Chinese, so the account is as the other tests expect it.
      await page.goto(`${demo.baseUrl}/home?lang=zh`);
      await context.close();
    }
    assert.deepEqual(found, []);
  });
});
