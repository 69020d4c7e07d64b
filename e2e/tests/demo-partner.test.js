// The README's demo command with a partner region: `tongban demo --partner 440300` runs the demo
// city and a second region beside it, which recognise each other and agree on 跨省通办. A citizen
// of 临江市 finds the other region's items on /cross-region, applies online, and the other
// region's tax clerk finds the application in the 跨省 inbox.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, launchBrowser, shot, startDemo } from '../lib/harness.js';

let demo;
let browser;

before(async () => {
  demo = await startDemo({ partner: '440300' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('the demo with a partner region lists its items, and an application reaches it', async () => {
  const citizen = demo.accounts.find((a) => a.username === 'citizen.zhangwei');
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login?next=/cross-region`);
  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/cross-region');
  const items = await page.locator('#items').innerText();
  assert.ok(items.includes('完税证明开具') && items.includes('440300 地区'), items);
  assert.ok(items.includes('多地联办'), 'the joint items are listed');
  const form = page.locator('#apply');
  await form.locator('select[name=item]').selectOption('440300|339900-SW-0003');
  await form.locator('textarea[name=statement]').fill('申请开具2025年度完税证明，用于在临江市办理购房资格审核。');
  await form.locator('input[name=consent]').check();
  await form.locator('button').click();
  await page.waitForURL('**/cross-region/apply');
  assert.ok((await page.locator('[role=status]').innerText()).includes('完税证明开具'));
  await shot(page, 'demo-partner-01-applied');
  await context.close();

  // The partner's outbox-fed inbox: its tax clerk sees the application within a few seconds.
  const clerk = demo.partner.accounts.find((a) => a.username === 'demo.clerk.tax');
  let found = null;
  for (let i = 0; i < 50 && !found; i += 1) {
    const { body } = await api(demo.partner, clerk.api_token, '/api/v1/cross-region/work');
    found = body.inbox.find((c) => c.item_code === '339900-SW-0003' && c.home_region === '339900');
    if (!found) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(found, 'the application reached region 440300');
  assert.equal(found.mode, 'online');
  assert.equal(found.materials[0], '申请说明');
});
