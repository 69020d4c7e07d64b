// 协同办公 in Chromium: the leader finds the demo city's 请示 in the one to-do list, opens it
// laid out as an upward document (the organ's red mark, the 签发人 beside the number), signs it
// off with an opinion, and the history shows the act witnessed; then the secretariat's clerk
// finds it (after the urgent notice) and rechecks it, which gives it its number, and seals it;
// the signed PDF the page then offers is rendered with pdftoppm and looked at (an A4 page, the
// red organ mark 80 mm under the text area's top as on an upward document, nothing in the
// margins), its text read with pdftotext and its signature checked with `tongban office
// verify`. Each page is checked with axe-core for serious or critical violations.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifacts, binaryPath, launchBrowser, shot, signIn, startDemo } from '../lib/harness.js';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TITLE = '关于增设政务服务大厅夜间延时服务窗口的请示';
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

async function axe(page) {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

test('a leader signs off a request from the to-do list and the secretariat numbers it', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const leader = await signIn(demo, context, 'demo.deptadmin');
  await leader.goto(`${demo.baseUrl}/todo`);
  assert.deepEqual(await axe(leader), []);
  await leader.click(`text=${TITLE}`);
  await leader.waitForURL('**/office/documents/*');
  const document = leader.url();
  assert.match(await leader.textContent('article.gongwen'), /签发人：冯部门/);
  const mark = await leader.$eval('.gongwen .mark', (e) => getComputedStyle(e).color);
  assert.equal(mark, 'rgb(204, 0, 0)', 'the organ mark is red');
  assert.deepEqual(await axe(leader), []);
  const signForm = leader.locator('form', { has: leader.locator('input[name=act][value=sign]') });
  await signForm.locator('textarea[name=opinion]').fill('同意报市政府');
  await signForm.locator('button').click();
  await leader.waitForURL('**?done=sign');
  const history = await leader.textContent('section:has(h2:text("流转记录")) table');
  assert.match(history, /同意报市政府/);
  assert.match(history, /#\d+/, 'the act is witnessed by an entry of the log');
  await shot(leader, 'office-signed');
  await context.close();

  const desk = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: true });
  const clerk = await signIn(demo, desk, 'demo.clerk.city', true);
  await clerk.goto(`${demo.baseUrl}/todo`);
  const list = await clerk.textContent('main');
  assert.ok(list.indexOf('寒潮天气') >= 0 && list.indexOf('寒潮天气') < list.indexOf(TITLE), 'the urgent notice first');
  await clerk.goto(document);
  await clerk.locator('form', { has: clerk.locator('input[name=act][value=recheck]') }).locator('button').click();
  await clerk.waitForURL('**?done=recheck');
  assert.match(await clerk.textContent('.gongwen'), /临政服发〔\d{4}〕\d+号/);
  assert.deepEqual(await axe(clerk), []);
  await shot(clerk, 'office-numbered-phone');

  // Sealed, the document is a signed file.
  await clerk.locator('form', { has: clerk.locator('input[name=act][value=seal]') }).locator('button').click();
  await clerk.waitForURL('**?done=seal');
  const link = clerk.locator('a[href$="/pdf"]');
  assert.equal(await link.count(), 1, 'the sealed document offers its file');
  const response = await clerk.request.get(new URL(await link.getAttribute('href'), demo.baseUrl).href);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-type'], 'application/pdf');
  const dir = mkdtempSync(join(tmpdir(), 'tongban-office-'));
  const file = join(dir, 'request.pdf');
  writeFileSync(file, await response.body());
  const verified = JSON.parse(execFileSync(binaryPath(), ['office', 'verify', file]).toString());
  assert.equal(verified.valid, true);
  assert.match(verified.signer, /CN=临江市政务服务管理局/);
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
  assert.match(text, /签发人：/);
  assert.match(text, /临政服发〔\d{4}〕\d+号/);
  assert.match(text, /请示/);
  execFileSync('pdftoppm', ['-r', '40', '-f', '1', '-l', '1', file, join(dir, 'page')]);
  mkdirSync(artifacts, { recursive: true });
  execFileSync('pdftoppm', ['-r', '60', '-f', '1', '-l', '1', '-png', file, join(artifacts, 'office-request-page')]);
  const page = readPpm(join(dir, execFileSync('ls', [dir]).toString().split('\n').find((n) => n.endsWith('.ppm'))));
  assert.ok(Math.abs(page.height / page.width - 297 / 210) < 0.01, 'an A4 page');
  const mm = page.width / 210;
  const red = (y0, y1) => page.count(y0 * mm, y1 * mm, 0, page.width, (r, g, b) => r > 180 && g < 90 && b < 90);
  // An upward document keeps 80 mm under the text area's top (37 mm) for the leader's notes;
  // the red mark comes after, and the red line under the number.
  assert.equal(red(40, 110), 0, 'nothing red where the leader writes');
  assert.ok(red(117, 140) > 200, 'the red organ mark');
  const ink = (x0, x1) => page.count(0, page.height, x0 * mm, x1 * mm, (r, g, b) => Math.min(r, g, b) < 160);
  assert.equal(ink(0, 24), 0, 'nothing in the left margin');
  assert.equal(ink(188, 210), 0, 'nothing in the right margin');
  await desk.close();
});

test('a district clerk finds a colleague in the directory on a phone by pinyin initials and opens the phone', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: true });
  const clerk = await signIn(demo, context, 'demo.clerk');
  await clerk.goto(`${demo.baseUrl}/office`);
  await clerk.click('a[href="/office/directory"]');
  await clerk.waitForURL('**/office/directory');
  assert.match(await clerk.textContent('main'), /临江市政务服务管理局/);
  assert.deepEqual(await axe(clerk), []);
  await clerk.fill('input[name=q]', 'ydt');
  await clerk.click('form[role=search] button');
  await clerk.waitForURL('**/office/directory?q=ydt');
  const found = await clerk.textContent('main');
  assert.match(found, /杨大厅/);
  assert.match(found, /政务服务处 \/ 综合窗口科 · 科员/);
  assert.doesNotMatch(found, /13905710012/, 'no phone in a listing');
  const width = await clerk.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page fits the phone (${width} px)`);
  assert.deepEqual(await axe(clerk), []);
  await clerk.click('text=查看电话');
  await clerk.waitForSelector('a[href="tel:13905710012"]');
  await shot(clerk, 'office-directory-phone');
  await context.close();
});

test('a district clerk signs for the city\'s notice on a phone, registers it and takes it on', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: true });
  const clerk = await signIn(demo, context, 'demo.clerk.jiangnan');
  await clerk.goto(`${demo.baseUrl}/todo`);
  const notice = '关于推行“一件事一次办”集成服务的通知';
  assert.match(await clerk.textContent('main'), /收文签收/);
  await clerk.click(`text=${notice}`);
  await clerk.waitForURL('**/office/incoming/*');
  const page = clerk.url();
  assert.match(await clerk.textContent('article.gongwen'), /临政服发〔\d{4}〕\d+号/);
  assert.deepEqual(await axe(clerk), []);
  for (const [act, done] of [['receive', '收文登记'], ['register', '收文初审']]) {
    await clerk.locator('form', { has: clerk.locator(`input[name=act][value=${act}]`) }).locator('button').click();
    await clerk.waitForURL(`**?done=${act}`);
    assert.match(await clerk.textContent('main'), new RegExp(done));
  }
  assert.match(await clerk.textContent('main'), /收文编号 收〔\d{4}〕\d+号/);
  const assign = clerk.locator('form', { has: clerk.locator('input[name=act][value=assign]') });
  await assign.locator('input[name=days]').fill('3');
  await assign.locator('textarea[name=opinion]').fill('请综合窗口科落实培训');
  await assign.locator('button').click();
  await clerk.waitForURL('**?done=assign');
  const main = await clerk.textContent('main');
  assert.match(main, /收文承办/);
  assert.match(main, /办理时限/);
  const width = await clerk.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page fits the phone (${width} px)`);
  assert.deepEqual(await axe(clerk), []);
  await shot(clerk, 'office-incoming-phone');
  await clerk.goto(`${demo.baseUrl}/office/incoming`);
  assert.match(await clerk.textContent('main'), /收〔\d{4}〕\d+号/);
  assert.ok(page.includes('/office/incoming/'));
  await context.close();
});

/** A binary PPM (P6) as pdftoppm writes it, with a counter of pixels in a box. */
function readPpm(path) {
  const data = readFileSync(path);
  const fields = [];
  let at = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(data[at]))) at += 1;
    const start = at;
    while (!/\s/.test(String.fromCharCode(data[at]))) at += 1;
    fields.push(data.subarray(start, at).toString());
  }
  at += 1;
  const [, width, height] = fields.map(Number);
  const pixels = data.subarray(at);
  return {
    width,
    height,
    count(y0, y1, x0, x1, test) {
      let n = 0;
      for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y += 1) {
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x += 1) {
          const i = (y * width + x) * 3;
          if (test(pixels[i], pixels[i + 1], pixels[i + 2])) n += 1;
        }
      }
      return n;
    },
  };
}
