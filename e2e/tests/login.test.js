// A citizen on a phone logs in, switches to English and to large text; a clerk logs in with
// password and one-time code. Every page visited is kept as a screenshot.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, shot, startDemo, totp } from '../lib/harness.js';

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

const byRole = (role) => demo.accounts.find((a) => a.role === role);

test('a citizen logs in on a phone, switches to English and to large text', async () => {
  const citizen = byRole('citizen');
  // A clerk reads the citizen's record first, so the page has an access to show and check.
  const clerk = byRole('clerk');
  const me = await (await fetch(`${demo.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${citizen.api_token}` } })).json();
  const read = await fetch(`${demo.baseUrl}/api/v1/persons/${me.person_id}?purpose=service_handling`, { headers: { authorization: `Bearer ${clerk.api_token}` } });
  assert.equal(read.status, 200);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/`);
  assert.ok(await page.locator('ul.offers').isVisible(), 'a visitor lands on what the platform offers');
  await page.click('.hero a[href="/login"]');
  await assert.doesNotReject(page.waitForURL('**/login'));
  assert.equal(await page.locator('h1').innerText(), '登录');
  await shot(page, 'citizen-01-login');

  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  assert.match(await page.locator('h1').innerText(), new RegExp(citizen.name));
  assert.ok(await page.getByText('谁查看了我的数据').isVisible());
  await page.locator('.verdict.ok').first().waitFor({ timeout: 10000 });
  await shot(page, 'citizen-02-home');
  assert.match(await page.locator('.verdict').first().innerText(), /已核验/, 'the page checked the inclusion proof in the browser');
  const body = await page.content();
  assert.ok(!body.includes(citizen.resident_id), 'the full ID number is never on the page');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page fits a phone (scroll width ${width})`);
  await shot(page, 'citizen-02-home');

  await page.click('a[lang=en]');
  await page.waitForURL('**/home?lang=en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.ok(await page.getByText('Who accessed my data').isVisible());
  await shot(page, 'citizen-03-english');

  const before = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize));
  await page.click('a[href$="?large=1"]');
  await page.waitForURL('**/home?large=1');
  assert.equal(await page.getAttribute('html', 'class'), 'large-text');
  const larger = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize));
  assert.ok(larger > before * 1.2, `large text makes text larger (${before}px → ${larger}px)`);
  await shot(page, 'citizen-04-large-text');

  await page.goto(`${demo.baseUrl}/home`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice stays with the account');
  await context.close();
});

test('a clerk logs in with password and one-time code and reaches the workbench', async () => {
  const clerk = byRole('clerk');
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login`);

  await page.fill('#username', clerk.username);
  await page.fill('#password', clerk.password);
  await page.click('button[type=submit].primary');
  assert.ok(await page.locator('[role=alert]').isVisible(), 'without the code the login is refused');
  await shot(page, 'clerk-01-refused-without-code');

  await page.fill('#password', clerk.password);
  await page.fill('#totp', totp(clerk.totp_secret));
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  assert.ok(await page.getByText('工作台').first().isVisible());
  assert.ok(await page.getByText(clerk.display_name).first().isVisible());
  await shot(page, 'clerk-02-workbench');
  await context.close();
});

test('pages work without JavaScript', async () => {
  const citizen = byRole('citizen');
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login`);
  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  await shot(page, 'no-js-01-home');
  await page.click('button.link');
  await page.waitForURL('**/login');
  await context.close();
});
