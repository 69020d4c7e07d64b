// The experience of a new user, at phone and desk size: the landing page a visitor sees, the
// language and text-size switches that keep the page's search, a deep link that comes back
// after signing in, an apply form whose problems appear beside their fields with nothing lost,
// and the correction loop (补正): the clerk's reason in plain sight, the file asked for, the
// clerk seeing it and who did what.

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
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const sizes = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  desk: { viewport: { width: 1280, height: 900 } },
};

for (const [size, options] of Object.entries(sizes)) {
  test(`a visitor's landing page, switches and deep link (${size})`, async () => {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const answer = await page.goto(`${demo.baseUrl}/`);
    assert.equal(answer.status(), 200);
    assert.match(await page.locator('h1').innerText(), /一网通办/);
    assert.ok(await page.locator('ul.offers a[href="/services"]').isVisible());
    assert.ok(await page.locator('ul.offers a[href="/opendata"]').isVisible());
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the landing page fits the ${size} screen (${overflow}px over)`);
    await shot(page, `experience-landing-${size}`);

    // Search from the landing page, then switch language and text size: the search stays.
    await page.fill('input[name=q]', '结婚');
    await page.click('form[role=search] button[type=submit]');
    await page.waitForURL(/\/services\?q=/);
    await page.click('header a[lang=en]');
    await page.waitForURL(/lang=en/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.match(page.url(), /q=%E7%BB%93%E5%A9%9A/, 'the search is kept');
    assert.ok(await page.locator('text=Marriage registration').first().isVisible(), 'the results are still there, in English');
    await page.click('header a:has-text("Large text")');
    await page.waitForURL(/large=1/);
    assert.equal(await page.locator('html').getAttribute('class'), 'large-text');
    assert.match(page.url(), /q=%E7%BB%93%E5%A9%9A/);
    await shot(page, `experience-services-en-large-${size}`);
    await page.click('header a[lang=zh-CN]');
    await page.click('header a:has-text("标准字号")');

    // A deep link asks for the login and comes back.
    const citizen = account('citizen.wangfang');
    await page.goto(`${demo.baseUrl}/services/339900-SJ-0001/apply`);
    await page.waitForURL(/\/login\?next=/);
    await page.fill('#username', citizen.username);
    await page.fill('#password', citizen.password);
    await page.click('button[type=submit].primary');
    await page.waitForURL('**/services/339900-SJ-0001/apply');
    assert.ok(await page.locator('form.apply').isVisible());
    await context.close();
  });
}

test('an apply form with problems keeps everything, and a correction is asked for and answered', async () => {
  const citizen = account('citizen.zhangwei');
  const phone = await browser.newContext(sizes.phone);
  const page = await phone.newPage();
  await page.goto(`${demo.baseUrl}/login?next=/services/339900-SJ-0001/apply`);
  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/services/339900-SJ-0001/apply');
  assert.equal(await page.locator('#field-capital').getAttribute('type'), 'number');
  await page.fill('#field-name', '临江市张伟小吃店');
  await page.fill('#field-business_scope', '小吃服务');
  await page.setInputFiles('#file-0', { name: 'lease.pdf', mimeType: 'application/pdf', buffer: PDF });
  // The browser's own checks stand aside: the server's answer is what is tested.
  await page.evaluate(() => { document.querySelector('form.apply').noValidate = true; });
  await page.click('form.apply button[type=submit].primary');
  await page.waitForSelector('#form-problems');
  assert.match(await page.locator('#error-place').innerText(), /此项必填/);
  assert.match(await page.locator('.pulled .field-error').innerText(), /请勾选同意/);
  assert.equal(await page.inputValue('#field-name'), '临江市张伟小吃店', 'typed text is kept');
  assert.match(await page.locator('.kept').first().innerText(), /已收到/, 'the upload is kept');
  await shot(page, 'experience-apply-problems-phone');
  await page.fill('#field-place', '临江市江北区解放路12号');
  await page.check('input[name=use_certificates]');
  await page.click('form.apply button[type=submit].primary');
  await page.waitForURL(/\/applications\/[^/]+$/);
  const applicationUrl = page.url();

  // The clerk, at a desk, asks for a correction with a reason.
  const clerk = account('demo.clerk.market');
  const office = await browser.newContext(sizes.desk);
  const desk = await office.newPage();
  await desk.goto(`${demo.baseUrl}/login?next=${new URL(applicationUrl).pathname}`);
  await desk.fill('#username', clerk.username);
  await desk.fill('#password', clerk.password);
  await desk.fill('#totp', totp(clerk.totp_secret));
  await desk.click('button[type=submit].primary');
  await desk.waitForURL(applicationUrl);
  const reason = '请补充个体工商户名称预先登记表';
  await desk.fill('form.action-request_correction textarea[name=reason]', reason);
  await desk.click('form.action-request_correction button[value=request_correction]');
  await desk.waitForLoadState('load');
  assert.match(await desk.locator('#state').innerText(), /待补正/);

  // The citizen sees the reason first and brings the file asked for.
  await page.goto(applicationUrl);
  assert.match(await page.locator('.correction .reason').innerText(), new RegExp(reason));
  const box = await page.locator('.correction').boundingBox();
  const history = await page.locator('#history-title').boundingBox();
  assert.ok(box.y < history.y, 'the reason is above the history');
  await shot(page, 'experience-correction-asked-phone');
  await page.setInputFiles('form.action-resubmit #file-1', { name: 'name-registration.pdf', mimeType: 'application/pdf', buffer: PDF });
  await page.click('form.action-resubmit button[type=submit]');
  await page.waitForURL(applicationUrl);
  assert.match(await page.locator('#state').innerText(), /已提交/);

  // The clerk sees the material brought with the correction and who did what.
  await desk.reload();
  assert.ok(await desk.locator('text=补正材料').isVisible());
  assert.ok(await desk.locator('ol.history li', { hasText: `${clerk.display_name} · 退回补正` }).isVisible());
  const [download] = await Promise.all([
    desk.waitForEvent('download'),
    desk.click('a:has-text("个体工商户名称预先登记表")'),
  ]);
  assert.equal(download.suggestedFilename(), '个体工商户名称预先登记表.pdf');
  await shot(desk, 'experience-correction-answered-desk');

  // The citizen sees the clerk's reads as one occasion in words, and checks one in the log.
  await page.goto(`${demo.baseUrl}/home`);
  const occasion = page.locator('ul.accesses li', { hasText: '临江市市场监督管理局' }).first();
  assert.match(await occasion.innerText(), /申请材料/);
  assert.doesNotMatch(await page.locator('ul.accesses').innerText(), /category\./);
  await occasion.locator('a[href^="/me/accesses/"]').first().click();
  await page.waitForURL(/\/me\/accesses\/\d+$/);
  await page.locator('.verdict.ok').waitFor({ timeout: 10000 });
  assert.match(await page.locator('.verdict').innerText(), /已核验/);
  await shot(page, 'experience-access-checked-phone');
  await phone.close();
  await office.close();
});

test('a citizen saves an application as a draft on a phone and finishes it from my applications', async () => {
  const citizen = account('citizen.lina');
  const phone = await browser.newContext(sizes.phone);
  const page = await phone.newPage();
  await page.goto(`${demo.baseUrl}/login?next=/services/339900-SJ-0001/apply`);
  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/services/339900-SJ-0001/apply');
  await page.fill('#field-name', '李娜手作坊');
  await page.setInputFiles('#file-0', { name: 'lease.pdf', mimeType: 'application/pdf', buffer: PDF });
  await page.click('#save-draft');
  await page.waitForURL(/draft=saved/);
  assert.match(await page.locator('#draft-notice').innerText(), /草稿已保存/);
  assert.equal(await page.inputValue('#field-name'), '李娜手作坊');
  assert.match(await page.locator('.kept').first().innerText(), /已收到/, 'the file stays with the draft');
  await shot(page, 'experience-draft-saved-phone');

  await page.goto(`${demo.baseUrl}/applications`);
  await page.click('#drafts a[href="/services/339900-SJ-0001/apply"]');
  await page.waitForURL('**/services/339900-SJ-0001/apply');
  assert.match(await page.locator('#draft-notice').innerText(), /已恢复/);
  await page.fill('#field-place', '临江市江北区解放路 20 号');
  await page.fill('#field-business_scope', '手工艺品');
  await page.check('input[name=use_certificates]');
  await page.click('form.apply button[type=submit].primary');
  await page.waitForURL(/\/applications\/[^/]+$/);
  await page.goto(`${demo.baseUrl}/applications`);
  assert.equal(await page.locator('#drafts').count(), 0, 'the draft is gone once applied for');
  await phone.close();
});

for (const [size, options] of Object.entries(sizes)) {
  test(`a citizen's home, certificates and a service guide look like an app (${size})`, async () => {
    const citizen = account('citizen.chenming');
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(`${demo.baseUrl}/login`);
    await page.fill('#username', citizen.username);
    await page.fill('#password', citizen.password);
    await page.click('button[type=submit].primary');
    await page.waitForURL('**/home');
    assert.ok(await page.locator('nav.tiles a[href="/pass"]').isVisible(), 'the pass one tap away');
    assert.ok(await page.locator('#popular a[href^="/services/"]').first().isVisible());
    assert.ok(await page.locator('#life-events a[href^="/services?life_event="]').first().isVisible());
    const fits = async () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(await fits() <= 1, `the home fits the ${size} screen`);
    await shot(page, `app-home-${size}`);

    await page.goto(`${demo.baseUrl}/wallet`);
    assert.ok((await page.locator('article.document').count()) >= 1, 'certificates as documents');
    assert.ok(await page.locator('article.document .seal').first().isVisible());
    assert.ok(await fits() <= 1, `the wallet fits the ${size} screen`);
    await shot(page, `app-wallet-${size}`);

    await page.goto(`${demo.baseUrl}/services/339900-SJ-0003`);
    assert.equal(await page.locator('ol.process li').count(), 7, 'the process chart');
    assert.ok(await page.locator('#where a[href^="tel:"]').first().isVisible(), 'whom to call');
    assert.ok(await fits() <= 1, `the guide fits the ${size} screen`);
    await shot(page, `app-guide-${size}`);

    await page.goto(`${demo.baseUrl}/home?large=1`);
    assert.ok((await page.locator('nav.tiles a').count()) <= 6, 'large text shows fewer tiles');
    assert.equal(await page.locator('details.fold[open]').count(), 0, 'and folds the details');
    await shot(page, `app-home-large-${size}`);
    await page.goto(`${demo.baseUrl}/home?large=0`);
    await context.close();
  });
}

// The remaining promises of the experience, at both sizes: times in the region's zone, a
// pulled certificate read as its document by the clerk, no pass for an enterprise, a search
// whose count shows without scrolling, an empty showing refused, and the favicon.
const PULLED = { phone: 'citizen.wangfang', desk: 'citizen.zhangwei' };
// A one-time code is taken once, and only a later one after it: each sign-in of the clerk here
// waits for a time step after any the file's tests may have used.
let clerkStep = null;
async function nextClerkCode(secret) {
  // The tests before this one ran already: their sign-ins were at this step or before.
  if (clerkStep === null) clerkStep = Math.floor(Date.now() / 30_000);
  while (Math.floor(Date.now() / 30_000) <= clerkStep) await new Promise((r) => setTimeout(r, 500));
  clerkStep = Math.floor(Date.now() / 30_000);
  return totp(secret);
}
[['phone', sizes.phone], ['desk', sizes.desk]].forEach(([size, options]) => {
  test(`times, a pulled certificate, an enterprise, search and an empty showing (${size})`, async () => {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const holder = account(PULLED[size]);
    await page.goto(`${demo.baseUrl}/login`);
    await page.fill('#username', holder.username);
    await page.fill('#password', holder.password);
    await page.click('button[type=submit].primary');
    await page.waitForURL('**/home');
    // The pass's expiry is in the region's zone, said beside it.
    await page.goto(`${demo.baseUrl}/pass`);
    assert.match(await page.locator('time').first().locator('xpath=..').innerText(), /UTC\+08:00/);
    // A search's count is on the first screen.
    await page.goto(`${demo.baseUrl}/services?q=${encodeURIComponent('生孩子')}`);
    const count = await page.locator('#results-count').boundingBox();
    assert.ok(count && count.y + count.height <= options.viewport.height, `the count shows without scrolling (${size})`);
    // An empty showing of a certificate is refused on the page.
    await page.goto(`${demo.baseUrl}/wallet`);
    await page.click('article.document h2 a');
    await page.click('form[action$="/show"] button[type=submit]');
    assert.ok(await page.locator('#show-problem').isVisible(), 'nothing ticked, nothing shown');
    assert.equal(await page.locator('.show .qr').count(), 0);

    // The holder applies (the library's certificates pulled), and the clerk reads one of them.
    const upload = await fetch(`${demo.baseUrl}/api/v1/uploads`, {
      method: 'POST', headers: { authorization: `Bearer ${holder.api_token}` }, body: PDF,
    }).then((r) => r.json());
    const applied = await fetch(`${demo.baseUrl}/api/v1/services/339900-SJ-0001/applications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${holder.api_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        form: { name: `${size} 小吃`, place: '临江市江南区河东路 8 号', business_scope: '小吃' },
        uploads: { '经营场所使用证明': upload.id },
        use_certificates: true,
      }),
    }).then((r) => r.json());
    const clerk = account('demo.clerk.market');
    const office = await browser.newContext(options);
    const desk = await office.newPage();
    await desk.goto(`${demo.baseUrl}/login`);
    await desk.fill('#username', clerk.username);
    await desk.fill('#password', clerk.password);
    await desk.fill('#totp', await nextClerkCode(clerk.totp_secret));
    await desk.click('button[type=submit].primary');
    await desk.waitForURL('**/home');
    await desk.goto(`${demo.baseUrl}/applications/${applied.id}`);
    await desk.click('a[href$="/certificate"]');
    await desk.waitForURL(/\/certificate$/);
    assert.ok(await desk.locator('article.document').isVisible(), 'the certificate as its document');
    assert.match(await desk.locator('#copy-verdict').innerText(), /已核验/);
    await shot(desk, `experience-pulled-certificate-${size}`);
    await office.close();

    // An enterprise has no pass, and no link to one.
    const firm = account('enterprise.qingyuan');
    const company = await browser.newContext(options);
    const its = await company.newPage();
    await its.goto(`${demo.baseUrl}/login`);
    await its.fill('#username', firm.username);
    await its.fill('#password', firm.password);
    await its.click('button[type=submit].primary');
    await its.waitForURL('**/home');
    assert.equal(await its.locator('a[href="/pass"]').count(), 0);
    await company.close();

    const icon = await page.request.get(`${demo.baseUrl}/favicon.ico`);
    assert.equal(icon.status(), 200);
    await context.close();
  });
});
