// No page answers 4xx or 5xx to a link the site itself shows: for a visitor and for each kind
// of account, every link on the home page and on the pages it leads to, three steps deep, is
// followed as that account and must answer. And the main pages fit a phone in both text sizes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, startDemo, totp, account } from '../lib/harness.js';

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

const accounts = [null, 'citizen.zhangwei', 'enterprise.qingyuan', 'demo.clerk.market', 'demo.sysadmin',
  'demo.secadmin', 'demo.auditadmin', 'demo.health', 'demo.deptadmin.market', 'demo.venue', 'demo.checkpoint', 'demo.duty'];

// `later` signs in with the next time step's code: a code is taken once, and the first test
// has used this one.
async function signedIn(who, options, later = false) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  if (who) {
    const a = account(demo, who);
    await page.goto(`${demo.baseUrl}/login`);
    await page.fill('#username', a.username);
    await page.fill('#password', a.password);
    if (a.totp_secret) await page.fill('#totp', totp(a.totp_secret, Date.now() + (later ? 30_000 : 0)));
    await page.click('button[type=submit].primary');
    await page.waitForURL('**/home');
  }
  return { context, page };
}

test('every link a page shows answers, for a visitor and every kind of account', async () => {
  const broken = [];
  for (const who of accounts) {
    const { context, page } = await signedIn(who, { viewport: { width: 1280, height: 900 } });
    const seen = new Set();
    let frontier = [who ? '/home' : '/'];
    for (let depth = 0; depth < 3; depth += 1) {
      const next = [];
      for (const path of frontier) {
        if (seen.has(path)) continue;
        seen.add(path);
        const answer = await page.request.get(`${demo.baseUrl}${path}`, { maxRedirects: 5 });
        if (answer.status() >= 400) broken.push(`${who ?? 'visitor'}: ${path} → ${answer.status()}`);
        if (!(answer.headers()['content-type'] || '').startsWith('text/html')) continue;
        for (const [, href] of (await answer.text()).matchAll(/href="(\/[^"#]*)"/g)) {
          const link = href.replaceAll('&amp;', '&').replaceAll('&#38;', '&');
          // The shell's switches change the account's settings; they are tested elsewhere.
          if (link.startsWith('/static/') || /[?&](lang|large)=/.test(link)) continue;
          next.push(link);
        }
      }
      frontier = next;
    }
    assert.ok(seen.size > 10, `${who}: the crawl reached the site (${seen.size} pages)`);
    await context.close();
  }
  assert.deepEqual(broken, [], 'links that answer an error');
});

test('the main pages fit a phone, in standard and in large text', async () => {
  const pages = {
    'citizen.zhangwei': ['/home', '/pass', '/wallet', '/applications', '/services', '/security', '/cross-region'],
    'demo.clerk.market': ['/home', '/workbench/applications', '/certs/issue', '/certs/use', '/exchange'],
    'demo.sysadmin': ['/home', '/admin', '/console/services'],
  };
  const misfits = [];
  for (const [who, paths] of Object.entries(pages)) {
    const { context, page } = await signedIn(who, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }, true);
    for (const large of ['0', '1']) {
      for (const path of paths) {
        await page.goto(`${demo.baseUrl}${path}?large=${large}`);
        const fit = await page.evaluate(() => ({
          over: document.documentElement.scrollWidth - window.innerWidth,
          // A table column squeezed to a character or two per line.
          squeezed: [...document.querySelectorAll('td, th')]
            .filter((cell) => cell.innerText.trim().length > 2 && cell.getBoundingClientRect().width < 36).length,
        }));
        if (fit.over > 1 || fit.squeezed > 0) misfits.push(`${who} ${path} large=${large}: ${JSON.stringify(fit)}`);
      }
    }
    await page.goto(`${demo.baseUrl}/home?large=0`);
    await context.close();
  }
  assert.deepEqual(misfits, []);
});
