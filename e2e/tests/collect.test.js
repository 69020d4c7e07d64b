// 一表通 on a phone with scripts turned off: a village collector signs in with the device token
// their department made, opens the form sent to their subdistrict, is told beside each question
// what to correct, sees the questions that apply appear after "check", sends it and finds it
// counted; chooses an older person from the list earlier visits made and finds the follow-up
// prefilled; the fill page has no serious accessibility violation; a district clerk who carries
// a device finds its forms on their to-do list and fills one in signed in, without the token.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { account, launchBrowser, shot, signIn, startDemo } from '../lib/harness.js';

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

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function deviceToken() {
  const clerk = account(demo, 'demo.clerk.market');
  const made = await fetch(`${demo.baseUrl}/v1/projects/1/app-users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clerk.api_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: '桥头村 网格员', regionCode: '339901001002' }),
  });
  assert.equal(made.status, 200);
  return (await made.json()).token;
}

async function signInDevice(context, token) {
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/collect/device`);
  await page.fill('#device-token', token);
  await page.click('form[action="/collect/device/sign-in"] button');
  await page.waitForURL('**/collect/device');
  return page;
}

const field = (page, path) => page.locator(`[name="${path}"]`);

test('a collector fills in a form on a phone without scripts', async () => {
  const token = await deviceToken();
  const context = await browser.newContext({ ...phone, javaScriptEnabled: false });
  const page = await signInDevice(context, token);
  const todo = page.locator('ul.todo');
  assert.ok((await todo.innerText()).includes('个体工商户经营情况摸底'));
  await shot(page, 'collect-01-my-forms');
  await page.click('a[href="/collect/device/forms/business_survey"]');
  await page.waitForURL('**/collect/device/forms/business_survey');
  assert.equal(await field(page, '/data/impacts').count(), 0, 'hidden until the shop is affected');

  await field(page, '/data/shop_name').fill('桥头小卖部');
  await field(page, '/data/operator_name').fill('赵桥');
  await field(page, '/data/operator_phone').fill('12345');
  await page.check('[name="/data/industry"][value=retail]');
  await field(page, '/data/staff').fill('2');
  await page.check('[name="/data/affected"][value=yes]');
  await field(page, '/data/visit_day').fill('2026-12-01');
  await page.click('button[value=check]');
  await page.waitForLoadState();
  assert.ok((await page.locator('.field-error').first().innerText()).includes('11位手机号'));
  assert.equal(await field(page, '/data/shop_name').inputValue(), '桥头小卖部', 'answers are kept');
  assert.ok((await field(page, '/data/impacts').count()) > 0, 'the questions about the effects appear');
  await shot(page, 'collect-02-checked');

  await field(page, '/data/operator_phone').fill('13900001234');
  await page.check('[name="/data/impacts"][value=rent]');
  await page.click('button[value=send]');
  await page.waitForURL('**/collect/device?sent=business_survey');
  const mine = await page.locator('main').innerText();
  assert.ok(mine.includes('已收到'), mine);
  assert.ok(mine.includes('本单位已报 1'), mine);
  await context.close();
});

test('the fill page has no serious accessibility violation', async () => {
  const token = await deviceToken();
  const context = await browser.newContext({ ...phone, bypassCSP: true });
  const page = await signInDevice(context, token);
  const found = [];
  for (const path of ['/collect/device', '/collect/device/forms/business_survey']) {
    await page.goto(`${demo.baseUrl}${path}`);
    await page.addScriptTag({ path: axePath });
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
    found.push(...violations.map((v) => `${path} ${v}`));
  }
  assert.deepEqual(found, []);
  await context.close();
});

test('a grid worker types an ID number and the name and phone arrive prefilled', async () => {
  const civil = account(demo, 'demo.clerk.civil');
  const projects = await (await fetch(`${demo.baseUrl}/v1/projects`, {
    headers: { authorization: `Bearer ${civil.api_token}` },
  })).json();
  const project = projects.find((p) => p.name === '独居老人关爱走访');
  assert.ok(project, 'the civil-affairs project');
  const made = await fetch(`${demo.baseUrl}/v1/projects/${project.id}/app-users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${civil.api_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: '桥头村 平板', regionCode: '339901001002' }),
  });
  assert.equal(made.status, 200);
  const { token } = await made.json();
  const context = await browser.newContext({ ...phone, javaScriptEnabled: false });
  const page = await signInDevice(context, token);
  await page.click('a[href="/collect/device/forms/elderly_visit"]');
  await page.waitForURL('**/collect/device/forms/elderly_visit');
  await field(page, '/data/elder_id').fill(account(demo, 'citizen.zhangwei').resident_id);
  await page.click('button[value="prefill:/data/elder_id"]');
  await page.waitForLoadState();
  assert.equal(await field(page, '/data/elder_name').inputValue(), '张伟');
  assert.equal(await field(page, '/data/elder_phone').inputValue(), '13800001001');
  assert.ok((await page.locator('.prefilled-note').count()) >= 2, 'the prefilled answers are marked');
  await shot(page, 'collect-03-prefilled');
  await context.close();
});

test('a grid worker chooses an older person from the list the visits made, and the follow-up is prefilled', async () => {
  const civil = account(demo, 'demo.clerk.civil');
  const projects = await (await fetch(`${demo.baseUrl}/v1/projects`, {
    headers: { authorization: `Bearer ${civil.api_token}` },
  })).json();
  const project = projects.find((p) => p.name === '独居老人关爱走访');
  const made = await fetch(`${demo.baseUrl}/v1/projects/${project.id}/app-users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${civil.api_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: '桥头村 手机', regionCode: '339901001002' }),
  });
  assert.equal(made.status, 200);
  const { token } = await made.json();
  const context = await browser.newContext({ ...phone, javaScriptEnabled: false });
  const page = await signInDevice(context, token);
  await page.click('a[href="/collect/device/forms/elderly_followup"]');
  await page.waitForURL('**/collect/device/forms/elderly_followup');
  const options = await page.locator('select[name="/data/elder"] option').allInnerTexts();
  // The village's three older people, not the community's.
  assert.deepEqual(options.slice(1), ['郑福全（江北区）', '陈玉梅（江北区）', '蒋素英（江北区）']);
  await page.selectOption('select[name="/data/elder"]', { label: '陈玉梅（江北区）' });
  await page.click('button[value="prefill:/data/elder"]');
  await page.waitForLoadState();
  assert.equal(await field(page, '/data/elder_name').inputValue(), '陈玉梅');
  assert.equal(await field(page, '/data/elder_phone').inputValue(), '13910039595');
  await shot(page, 'collect-04-followup');
  await context.close();

  // The chooser and its look-up pass axe too.
  const scripted = await browser.newContext({ ...phone, bypassCSP: true });
  const again = await signInDevice(scripted, token);
  await again.goto(`${demo.baseUrl}/collect/device/forms/elderly_followup`);
  await again.addScriptTag({ path: axePath });
  const violations = await again.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id);
  });
  assert.deepEqual(violations, []);
  await scripted.close();
});

test('a clerk who carries a device opens its form from the to-do list and fills it in signed in', async () => {
  const context = await browser.newContext({ ...phone, bypassCSP: true });
  const page = await signIn(demo, context, 'demo.clerk');
  await page.goto(`${demo.baseUrl}/todo`);
  assert.match(await page.textContent('main'), /一表通待填报/);
  await page.locator('a[href^="/collect/device/held/"]').first().click();
  await page.waitForURL('**/collect/device');
  assert.match(await page.textContent('main'), /城东社区/);
  await page.click('a[href="/collect/device/forms/elderly_visit"]');
  await page.waitForURL('**/collect/device/forms/elderly_visit');
  assert.equal(await field(page, '/data/elder_id').count(), 1);
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id);
  });
  assert.deepEqual(violations, []);
  await shot(page, 'collect-04-carried-device');
  await context.close();
});
