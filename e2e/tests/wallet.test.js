// 电子证照: an enterprise opens its wallet, shows its business licence with two chosen items as
// a QR code; a verifier reads the QR and sees the licence valid with exactly those items.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, readQr, shot, startDemo, account as demoAccount, api as demoApi } from '../lib/harness.js';

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

const account = (username) => demoAccount(demo, username);
const api = (token, path, init) => demoApi(demo, token, path, init);

test('an enterprise shows its licence from the wallet and a verifier reads it', async () => {
  const enterprise = account('enterprise.qingyuan');
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login?next=/wallet`);
  await page.fill('#username', enterprise.username);
  await page.fill('#password', enterprise.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/wallet');
  await shot(page, 'wallet-01-list');
  await page.click('text=营业执照');
  await page.waitForSelector('h1:has-text("营业执照")');
  await page.check('input[name="item.name"]');
  await page.check('input[name="item.legal_representative"]');
  await page.click('form[action$="/show"] button[type=submit]');
  await page.waitForSelector('.show .qr svg');
  await shot(page, 'wallet-02-shown');

  const code = await readQr(demo, page, '.show .qr svg');
  assert.ok(code && code.startsWith('TC1:'), 'the QR carries a shown certificate');
  await context.close();

  const verifier = account('demo.clerk.tax');
  const seen = await api(verifier.api_token, '/api/v1/certs/verify', { method: 'POST', body: JSON.stringify({ code }) });
  assert.equal(seen.status, 200);
  assert.equal(seen.body.valid, true);
  assert.equal(seen.body.type_name, '营业执照');
  assert.deepEqual(Object.keys(seen.body.items).sort(), ['legal_representative', 'name']);
});
