// 场所码: a citizen's phone opens a venue's QR link, logs in, comes back to the venue, checks in
// with a family member, and shows the colour at the door; the venue prints its poster.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, shot, startDemo, totp, account as demoAccount, api as demoApi } from '../lib/harness.js';

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

test('a citizen checks in at a venue by its code, with a companion', async () => {
  const operator = account('demo.venue.metro');
  const venues = await api(operator.api_token, '/api/v1/venues/mine');
  assert.equal(venues.status, 200);
  const venue = venues.body.find((v) => v.code);
  assert.ok(venue, 'the demo metro station has an active code');

  const citizen = account('citizen.chenming');
  const family = account('citizen.lina');
  const added = await api(citizen.api_token, '/api/v1/me/companions', {
    method: 'POST',
    body: JSON.stringify({ resident_id: family.resident_id, name: family.name, relation: '配偶' }),
  });
  assert.equal(added.status, 201);
  assert.equal(added.body.consented, false, 'checked in along only once she consents');

  // She consents on her own page.
  const hers = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const home = await hers.newPage();
  await home.goto(`${demo.baseUrl}/login`);
  await home.fill('#username', family.username);
  await home.fill('#password', family.password);
  await home.click('button[type=submit].primary');
  await home.waitForURL('**/home');
  await home.locator('#companion-requests button[value=accept]').first().click();
  await home.waitForURL('**/home');
  await shot(home, 'venue-00-companion-consents');
  await hers.close();

  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/v/${venue.code}`);
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === `/v/${venue.code}`);
  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL(`**/v/${venue.code}`);
  assert.ok((await page.locator('h1').innerText()).includes('临江地铁1号线江南站'));
  await page.check('input[type=checkbox]');
  await shot(page, 'venue-01-check-in');
  await page.click('button[type=submit].primary');
  await page.waitForSelector('.pass .answer');
  assert.equal(await page.locator('.pass .answer').innerText(), '绿码');
  assert.ok((await page.locator('.pass').innerText()).includes('已登记进场'));
  await shot(page, 'venue-02-checked-in');
  await context.close();

  const counts = await api(operator.api_token, `/api/v1/venues/${venue.id}/counts`);
  assert.equal(counts.body.last_24_hours, 2, 'the citizen and the companion');

  const staff = await browser.newContext();
  const staffPage = await staff.newPage();
  await staffPage.goto(`${demo.baseUrl}/login?next=/venues/${venue.id}/poster`);
  await staffPage.fill('#username', operator.username);
  await staffPage.fill('#password', operator.password);
  await staffPage.fill('#totp', totp(operator.totp_secret));
  await staffPage.click('button[type=submit].primary');
  await staffPage.waitForURL(`**/venues/${venue.id}/poster`);
  assert.ok(await staffPage.locator('.poster-qr svg').isVisible(), 'the poster shows the QR');
  await shot(staffPage, 'venue-03-poster');
  await staff.close();
});
