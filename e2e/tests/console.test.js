// The administrator's console and the health officer's desk, as they are used: the console in
// parts with tabs, a user made on its form and the outcome told after the redirect, the audit
// view filtered, a service item edited as a form and the change seen on its guide; the health
// desk's emergency switch proposed for a second officer; and a resident registering on a phone.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, shot, startDemo, totp, account as demoAccount } from '../lib/harness.js';

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
const desk = { viewport: { width: 1280, height: 900 } };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function signIn(username, options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const a = account(username);
  await page.goto(`${demo.baseUrl}/login`);
  await page.fill('#username', a.username);
  await page.fill('#password', a.password);
  if (a.totp_secret) await page.fill('#totp', totp(a.totp_secret));
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  return { context, page };
}

test('the system administrator works through the console’s parts and edits an item as a form', async () => {
  const { context, page } = await signIn('demo.sysadmin', desk);
  await page.goto(`${demo.baseUrl}/admin`);
  assert.equal(await page.locator('nav.tabs a[aria-current="page"]').innerText(), '概览');
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(height < 2400, `the overview is short (${height}px)`);
  await shot(page, 'console-overview-desk');

  await page.click('nav.tabs a[href="/admin/users"]');
  await page.waitForURL('**/admin/users');
  await page.fill('#new-username', 'window.three');
  await page.fill('#new-display', '三号窗口');
  await page.selectOption('#new-role', 'clerk');
  await page.click('form[action="/admin/users"] button[type=submit]');
  await page.waitForURL(/\/admin\/users\?done=/);
  assert.match(await page.locator('#console-notice').innerText(), /window\.three/);
  await page.reload();
  assert.match(await page.locator('#console-notice').innerText(), /window\.three/, 'a reload shows the page again, it sends nothing');
  await shot(page, 'console-user-created-desk');

  await page.goto(`${demo.baseUrl}/console/services/339900-SJ-0003`);
  assert.equal(await page.locator('textarea.code').count(), 0, 'a form, not JSON');
  await page.fill('input[name="fee.0.name"]', '核查工本费');
  await page.fill('input[name="fee.0.standard"]', '20 元');
  await page.click('form.item-editor button[type=submit].primary');
  await page.waitForURL(/339900-SJ-0003$/);
  assert.ok(await page.locator('#form-problems').isVisible(), 'the missing basis is refused');
  assert.equal(await page.inputValue('input[name="fee.0.standard"]'), '20 元', 'what was typed stays');
  const fees = page.locator('#part-fees .field-error');
  assert.match(await fees.first().innerText(), /核查工本费/);
  await shot(page, 'console-item-refused-desk');
  await page.fill('input[name="fee.0.basis"]', '《临江市行政事业性收费目录》');
  await page.click('form.item-editor button[type=submit].primary');
  await page.waitForURL(/saved=1/);
  assert.ok(await page.locator('#item-saved').isVisible());
  await page.goto(`${demo.baseUrl}/services/339900-SJ-0003`);
  assert.ok(await page.locator('text=核查工本费').isVisible(), 'the guide shows the new fee');
  await context.close();
});

test('the audit administrator filters the administrative events', async () => {
  const a = account('demo.auditadmin');
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login`);
  await page.fill('#username', a.username);
  await page.fill('#password', a.password);
  await page.fill('#totp', totp(a.totp_secret, Date.now() + 30_000));
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  await page.goto(`${demo.baseUrl}/admin/events`);
  const all = await page.locator('section[aria-labelledby=events] tbody tr').count();
  await page.selectOption('#event-action', 'department.create');
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/action=department\.create/);
  const rows = page.locator('section[aria-labelledby=events] tbody tr');
  const kept = await rows.count();
  assert.ok(kept > 0 && kept < all, `the filter narrows (${all} → ${kept})`);
  for (const text of await rows.allInnerTexts()) assert.match(text, /创建部门/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the audit view fits a phone (${overflow}px over)`);
  await shot(page, 'console-audit-filtered-phone');
  await context.close();
});

test('a health officer proposes the emergency switch on the desk and a second officer sees it', async () => {
  const { context, page } = await signIn('demo.health', phone);
  await page.goto(`${demo.baseUrl}/health`);
  await page.click('#emergency-form button[type=submit]');
  await page.waitForURL(/done=emergency/);
  assert.ok(await page.locator('[role=status]').first().isVisible());
  await shot(page, 'health-emergency-proposed-phone');
  await context.close();
  const second = account('demo.health2');
  const other = await browser.newContext(desk);
  const inbox = await other.newPage();
  await inbox.goto(`${demo.baseUrl}/login`);
  await inbox.fill('#username', second.username);
  await inbox.fill('#password', second.password);
  if (second.totp_secret) await inbox.fill('#totp', totp(second.totp_secret));
  await inbox.click('button[type=submit].primary');
  await inbox.waitForURL('**/home');
  await inbox.goto(`${demo.baseUrl}/health/approvals`);
  assert.equal(await inbox.locator('form[action^="/health/approvals/emergency/"]').count(), 1);
  await shot(inbox, 'health-emergency-inbox-desk');
  await other.close();
});

test('a resident registers on a phone with their ID number', async () => {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/`);
  await page.click('.hero a[href="/register"]');
  await page.waitForURL('**/register');
  await page.fill('#username', 'citizen.zhangwei');
  await page.fill('#resident-id', '339902199506182081');
  await page.click('#register-form button[type=submit]');
  assert.ok(await page.locator('#username-problem').isVisible(), 'a taken username is said beside it');
  assert.equal(await page.inputValue('#username'), 'citizen.zhangwei');
  await shot(page, 'register-taken-phone');
  await page.fill('#username', 'zhao.min');
  await page.fill('#resident-id', '339902199506182081');
  await page.click('#register-form button[type=submit]');
  assert.ok(await page.locator('#register-sent').isVisible());
  await shot(page, 'register-sent-phone');
  await context.close();
});
