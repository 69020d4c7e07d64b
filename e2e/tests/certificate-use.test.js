// 电子证照, end to end in the browser: a market-regulation clerk issues a business licence to
// the demo enterprise; the enterprise finds it in its wallet and shows it; a verifier sees it
// valid; the clerk revokes it and the verifier sees it revoked. A tax clerk asks for the
// enterprise's licence for a named service and is refused until the enterprise allows it on its
// wallet page; then the clerk receives the annotated copy, and the enterprise sees the use.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, readQr, shot, startDemo, totp, account as demoAccount, api as demoApi } from '../lib/harness.js';

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

async function logIn(user, next, staff) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login?next=${next}`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  if (staff) await page.fill('#totp', totp(user.totp_secret));
  await page.click('button[type=submit].primary');
  await page.waitForURL(`**${next}`);
  return { context, page };
}

test('a licence is issued, shown, verified, revoked, and used by the tax office with consent', async () => {
  const enterprise = account('enterprise.qingyuan');
  const market = account('demo.clerk.market');
  const tax = account('demo.clerk.tax');
  const verifier = account('demo.clerk.tax');

  // The market clerk issues a business licence on the issuing page.
  const clerk = await logIn(market, '/certs/issue', true);
  await clerk.page.selectOption('#type', { label: '营业执照' });
  await clerk.page.click('form[action="/certs/issue"][method="get"] button');
  await clerk.page.fill('#holder_code', enterprise.uscc);
  await clerk.page.fill('#item-name', '临江市清源食品有限公司');
  await clerk.page.fill('#item-legal_representative', '张伟');
  await clerk.page.fill('#item-registered_capital', '800万元人民币');
  await clerk.page.fill('#item-established_on', '2026-11-26');
  await clerk.page.fill('#item-business_scope', '食品销售\n餐饮服务\n预包装食品批发');
  await clerk.page.click('form[action="/certs/issue"][method="post"] button.primary');
  await clerk.page.waitForSelector('text=已签发');
  const id = (await clerk.page.locator('[role=status] .identifier').textContent()).trim();
  assert.match(id, /^1\.2\.156\.3005\.2\./, 'a GB/T 36904 identifier');
  await shot(clerk.page, 'certs-01-issued');

  // The enterprise finds it in its wallet and shows the name and capital.
  const holder = await logIn(enterprise, '/wallet', false);
  await holder.page.click(`a[href="/wallet/${id}"]`);
  await holder.page.waitForSelector('h1:has-text("营业执照")');
  await holder.page.check('input[name="item.name"]');
  await holder.page.check('input[name="item.registered_capital"]');
  await holder.page.click('form[action$="/show"] button[type=submit]');
  await holder.page.waitForSelector('.show .qr svg');
  const code = await readQr(demo, holder.page, '.show .qr svg');
  assert.ok(code && code.startsWith('TC1:'));
  const check = async () => (await api(verifier.api_token, '/api/v1/certs/verify', { method: 'POST', body: JSON.stringify({ code }) })).body;
  const seen = await check();
  assert.equal(seen.valid, true);
  assert.equal(seen.items.registered_capital, '800万元人民币');

  // The clerk revokes it; the verifier sees it revoked at once.
  await clerk.page.goto(`${demo.baseUrl}/certs/issue`);
  await clerk.page.fill('#holder', enterprise.uscc);
  await clerk.page.click('#found button[type=submit]');
  const row = clerk.page.locator('#found tr', { hasText: id });
  await row.locator('input[name=reason]').fill('申请人主动注销');
  await row.locator('button[value=revoke]').click();
  await clerk.page.waitForURL('**/certs/issue*');
  assert.ok(await clerk.page.locator('#found tr', { hasText: id }).locator('.status-revoked').isVisible());
  const revoked = await check();
  assert.equal(revoked.valid, false);
  assert.equal(revoked.status, 'revoked');
  await clerk.context.close();

  // The tax clerk asks for the licence for a named service: refused until the holder allows it.
  const office = await logIn(tax, '/certs/use', true);
  const ask = async () => {
    await office.page.goto(`${demo.baseUrl}/certs/use`);
    await office.page.fill('#holder_code', enterprise.uscc);
    await office.page.selectOption('#type_code', { label: '营业执照' });
    await office.page.selectOption('#service_code', { label: '新办纳税人套餐式服务' });
    await office.page.fill('#cause', '新办纳税人核验营业执照');
    await office.page.click('form[action="/certs/use"] button.primary');
  };
  await ask();
  await office.page.waitForSelector('text=wallet page');
  await shot(office.page, 'certs-02-refused');

  await holder.page.goto(`${demo.baseUrl}/wallet`);
  const request = holder.page.locator('#authorisations li.request', { hasText: '临江市税务局' });
  assert.ok(await request.isVisible(), 'the request waits on the wallet page');
  await shot(holder.page, 'certs-03-request');
  await request.locator('button[value=once]').click();
  await holder.page.waitForURL('**/wallet*');

  await ask();
  await office.page.waitForSelector('text=已取得加注件');
  assert.ok(await office.page.locator('.annotation', { hasText: '新办纳税人核验营业执照' }).isVisible());
  await shot(office.page, 'certs-04-copy');
  await office.context.close();

  // The enterprise sees both the refused attempt and the use in its usage record.
  await holder.page.goto(`${demo.baseUrl}/wallet`);
  const uses = holder.page.locator('#uses tbody tr');
  assert.equal(await uses.count(), 2);
  assert.ok(await holder.page.locator('#uses tr.use-released', { hasText: '新办纳税人核验营业执照' }).isVisible());
  assert.ok(await holder.page.locator('#uses tr.use-refused').isVisible());
  await shot(holder.page, 'certs-05-usage-record');
  await holder.context.close();
});
