// 一网通办, end to end on a phone: a citizen finds 个体工商户注册登记 by a shortened name, applies
// with the identity card and household register pulled from the certificate library and one
// upload; a market-regulation clerk accepts, reviews, approves and delivers it; the licence is in
// the citizen's wallet, and the citizen rates the service.

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
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

test('a citizen registers a sole proprietorship online and the licence reaches the wallet', async () => {
  const citizen = account('citizen.zhangwei');
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await page.goto(`${demo.baseUrl}/login?next=/services`);
  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/services');

  await page.fill('#q', '个体户注册');
  await page.click('form[role=search] button[type=submit]');
  await page.locator('.service a').first().click();
  await page.waitForSelector('h1:has-text("个体工商户注册登记")');
  await shot(page, 'apply-01-guide');
  await page.click('text=在线办理');
  await page.waitForSelector('form.apply');
  assert.equal(await page.inputValue('#field-operator'), '张伟', 'the name is filled in');
  assert.ok(await page.locator('#field-resident_id').getAttribute('readonly') !== null);
  if ((await page.locator('#field-phone').getAttribute('readonly')) === null) {
    await page.fill('#field-phone', '13800000000');
  }
  await page.fill('#field-name', '临江市张伟小吃店');
  await page.fill('#field-place', '临江市江北区解放路12号');
  await page.fill('#field-business_scope', '小吃服务、预包装食品销售');
  assert.ok(await page.locator('.pulled', { hasText: '居民身份证' }).isVisible());
  assert.ok(await page.locator('.pulled', { hasText: '户口簿' }).isVisible());
  await page.check('input[name=use_certificates]');
  await page.setInputFiles('input[type=file]', { name: 'lease.png', mimeType: 'image/png', buffer: PNG });
  await shot(page, 'apply-02-form');
  await page.click('form.apply button[type=submit].primary');
  await page.waitForURL(/\/applications\/[^/]+$/);
  assert.match(await page.locator('#state').innerText(), /已提交/);
  const applicationUrl = page.url();
  await shot(page, 'apply-03-submitted');

  // The clerk works through the queue.
  const clerk = account('demo.clerk.market');
  const office = await browser.newContext();
  const desk = await office.newPage();
  await desk.goto(`${demo.baseUrl}/login?next=/workbench/applications`);
  await desk.fill('#username', clerk.username);
  await desk.fill('#password', clerk.password);
  await desk.fill('#totp', totp(clerk.totp_secret));
  await desk.click('button[type=submit].primary');
  await desk.waitForURL('**/workbench/applications');
  await desk.click('.queue a:has-text("个体工商户注册登记")');
  for (const action of ['accept', 'pass', 'approve', 'deliver']) {
    await desk.click(`.actions button[value=${action}]`);
    await desk.waitForLoadState('load');
  }
  assert.match(await desk.locator('#state').innerText(), /已办结/);
  // The result is named for the clerk, not given as a bare identifier.
  assert.match(await desk.locator('dt:has-text("办理结果") + dd').innerText(), /营业执照 · 有效 · 已发放到申请人的证照夹/);
  await shot(desk, 'apply-04-clerk-done');
  await office.close();

  // The citizen sees it completed, with the licence in the wallet.
  await page.goto(applicationUrl);
  assert.match(await page.locator('#state').innerText(), /已办结/);
  await page.click('text=已发放到证照夹');
  await page.waitForSelector('h1:has-text("个体工商户营业执照")');
  assert.ok(await page.locator('dd', { hasText: '临江市张伟小吃店' }).isVisible());
  await shot(page, 'apply-05-licence');

  // 好差评: the citizen rates the service.
  await page.goto(applicationUrl);
  await page.check('input[name=grade][value=very_satisfied]');
  await page.fill('#comment', '全程网上办，没跑一次腿');
  await page.click('#evaluation button[type=submit]');
  await page.waitForSelector('#evaluation .grade');
  assert.match(await page.locator('#evaluation .grade').innerText(), /非常满意/);
  await shot(page, 'apply-06-rated');
  await phone.close();
});
