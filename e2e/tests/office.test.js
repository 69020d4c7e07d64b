// 协同办公 in Chromium: the leader finds the demo city's 请示 in the one to-do list, opens it
// laid out as an upward document (the organ's red mark, the 签发人 beside the number), signs it
// off with an opinion, and the history shows the act witnessed; then the secretariat's clerk
// finds it (after the urgent notice) and rechecks it, which gives it its number. Each page is
// checked with axe-core for serious or critical violations.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { launchBrowser, shot, signIn, startDemo } from '../lib/harness.js';

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
  await desk.close();
});
