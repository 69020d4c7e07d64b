// The city pass: a citizen sees a green pass with its explanation; a health officer records a
// positive test and the pass turns red naming the rule; a venue check sees red for that code and
// green for another citizen's; the offline CLI verifies a code against the exported trust list.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, shot, startDemo, binaryPath, totp, account as demoAccount, api as demoApi } from '../lib/harness.js';

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

test('a positive test turns the pass red, a venue sees it, and the code verifies offline', async () => {
  const citizen = account('citizen.wangfang');
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login`);
  await page.fill('#username', citizen.username);
  await page.fill('#password', citizen.password);
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  await page.goto(`${demo.baseUrl}/pass`);
  assert.equal(await page.locator('#pass-colour').innerText(), '绿码');
  assert.ok(await page.locator('.qr svg').isVisible(), 'the QR code is shown');
  await shot(page, 'pass-01-green');

  const health = account('demo.health');
  const recorded = await api(health.api_token, '/api/v1/health/facts', {
    method: 'POST',
    body: JSON.stringify({
      resident_id: citizen.resident_id, kind: 'test_result', value: 'positive',
      observed_at: new Date(Date.now() - 3600_000).toISOString(), legal_basis: '传染病防治法 第三十一条',
    }),
  });
  assert.equal(recorded.status, 201);
  // Typed in by one officer, the result waits for a second: the colour is unchanged.
  assert.equal(recorded.body.in_force, false);
  await page.reload();
  assert.equal(await page.locator('#pass-colour').innerText(), '绿码');

  // The second officer signs on their inbox page.
  const second = account('demo.health2');
  const office = await browser.newContext();
  const inbox = await office.newPage();
  await inbox.goto(`${demo.baseUrl}/login`);
  await inbox.fill('#username', second.username);
  await inbox.fill('#password', second.password);
  await inbox.fill('#totp', totp(second.totp_secret));
  await inbox.click('button[type=submit].primary');
  await inbox.waitForURL('**/home');
  await inbox.click('#health-inbox a');
  await inbox.waitForURL('**/health/approvals');
  const item = inbox.locator(`form[action="/health/approvals/health_fact/${recorded.body.id}"]`);
  assert.ok(await item.isVisible(), 'the fact waits in the second officer\'s inbox');
  await shot(inbox, 'health-01-inbox');
  await item.locator('button').click();
  await inbox.waitForURL('**/health/approvals');
  assert.equal(await item.count(), 0, 'signed, it leaves the inbox');
  await office.close();

  await page.reload();
  assert.equal(await page.locator('#pass-colour').innerText(), '红码');
  assert.match(await page.locator('#why').locator('..').innerText(), /14 天内核酸检测结果为阳性/);
  assert.match(await page.content(), /positive-test-14d/);
  await shot(page, 'pass-02-red-with-explanation');

  const venue = account('demo.venue');
  const red = await api(citizen.api_token, '/api/v1/pass/me');
  const other = await api(account('citizen.chenming').api_token, '/api/v1/pass/me');
  const scanner = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const scan = await scanner.newPage();
  await scan.goto(`${demo.baseUrl}/login`);
  await scan.fill('#username', venue.username);
  await scan.fill('#password', venue.password);
  await scan.fill('#totp', totp(venue.totp_secret));
  await scan.click('button[type=submit].primary');
  await scan.waitForURL('**/home');
  await scan.goto(`${demo.baseUrl}/scan`);
  await scan.fill('#code', red.body.code);
  await scan.click('#scan-form button[type=submit]');
  assert.equal(await scan.locator('.answer').innerText(), '红码');
  assert.equal(await scan.locator('.initials').innerText(), '王*');
  await shot(scan, 'scan-01-red');
  // The vendored decoder reads the QR the pass page shows: render the SVG, decode it in the
  // scanner page with jsQR, and check what it read.
  const decoded = await scan.evaluate(async ({ base, token }) => {
    const svg = await (await fetch(`${base}/api/v1/pass/me/qr.svg`, { headers: { authorization: `Bearer ${token}` } })).text();
    const image = new Image();
    image.src = `data:image/svg+xml;base64,${btoa(svg)}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = 400;
    canvas.height = 400;
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, 400, 400);
    context.drawImage(image, 0, 0, 400, 400);
    const pixels = context.getImageData(0, 0, 400, 400);
    const found = window.jsQR(pixels.data, pixels.width, pixels.height);
    return found ? found.data : null;
  }, { base: demo.baseUrl, token: account('citizen.chenming').api_token });
  assert.ok(decoded && decoded.startsWith('TB1:'), 'jsQR read the pass QR');
  await scan.fill('#code', decoded);
  await scan.click('#scan-form button[type=submit]');
  assert.equal(await scan.locator('.answer').innerText(), '绿码');
  await shot(scan, 'scan-02-green');
  assert.ok(other.body.code.startsWith('TB1:'));
  await scanner.close();

  const trustList = await (await fetch(`${demo.baseUrl}/api/v1/trust-list`)).text();
  const file = join(mkdtempSync(join(tmpdir(), 'tongban-trust-')), 'trust.json');
  writeFileSync(file, trustList);
  const out = execFileSync(binaryPath(), ['pass', 'verify', '--trust-list', file, red.body.code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.equal(JSON.parse(out).pass.colour, 'red', 'the code itself carried red when it was made');
  await context.close();
});
