// 数据开放: a visitor on a phone finds data by theme and by a Chinese search, opens a dataset with
// its chart and preview, and downloads it; a clerk uploads a file with phone numbers in it, the
// gate holds it back until the column is removed, and the department's administrator publishes
// it — and the visitor sees it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, shot, signIn, startDemo } from '../lib/harness.js';

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
const desk = { viewport: { width: 1280, height: 900 } };

const login = (context, username, later = false) => signIn(demo, context, username, later);

test('a visitor finds, reads and downloads open data on a phone', async () => {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/opendata`);
  const themes = page.locator('ul.themes');
  assert.ok((await themes.innerText()).includes('卫生健康'));
  await themes.locator('a', { hasText: '卫生健康' }).click();
  await page.waitForURL((url) => url.searchParams.get('groups') === 'health');
  const results = page.locator('section.results');
  assert.ok((await results.innerText()).includes('医疗机构名录'));
  assert.ok(!(await results.innerText()).includes('市场主体登记统计'));

  // A shortened Chinese name finds the dataset by the characters it shares.
  await page.fill('input[name=q]', '户籍人口');
  await page.click('form.search button[type=submit]');
  await page.waitForURL((url) => url.searchParams.get('q') === '户籍人口');
  await page.locator('section.results a', { hasText: '户籍人口' }).first().click();
  await page.waitForURL('**/opendata/dataset/registered-population');
  assert.equal(await page.locator('figure.chart-box svg').count(), 1, 'a chart of the numbers');
  assert.ok((await page.locator('table.preview').first().innerText()).includes('江北区'));
  await shot(page, 'opendata-01-dataset');

  const href = await page.locator('a.button[download]').first().getAttribute('href');
  const download = await page.request.get(`${demo.baseUrl}${href}`);
  assert.equal(download.status(), 200);
  assert.ok((await download.text()).startsWith('年份,区县,户籍人口,户数'));
  const exportHref = await page.locator('a.export').first().getAttribute('href');
  const exported = await page.request.get(`${demo.baseUrl}${exportHref}`);
  assert.equal(exported.status(), 200);
  assert.ok((await exported.text()).startsWith('\ufeff_id,年份,区县'), 'an export Excel opens');
  await context.close();
});

test('the gate holds a file with phones back until treated, and a second person publishes it', async () => {
  const clerks = await browser.newContext(desk);
  const clerk = await login(clerks, 'demo.clerk.market');
  await clerk.goto(`${demo.baseUrl}/opendata/console`);
  const dataset = clerk.locator('section.card', { hasText: '市场主体登记统计' });
  const upload = dataset.locator('form[enctype="multipart/form-data"]');
  await upload.locator('input[name=name]').fill('2026年新设企业抽检联系表');
  await upload.locator('input[name=file]').setInputFiles({
    name: 'inspections.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('区县,企业数,联系电话\n江北区,12,13800138000\n江南区,7,13900139001\n', 'utf8'),
  });
  await upload.locator('button[type=submit]').click();
  await clerk.waitForURL('**/upload');
  const review = clerk.locator('article.review', { hasText: '2026年新设企业抽检联系表' });
  const findings = await review.locator('table').first().innerText();
  assert.ok(findings.includes('联系电话') && findings.includes('手机号码'), findings);
  assert.ok(!findings.includes('13800138000'), 'findings never show the values');
  await shot(clerk, 'opendata-02-findings');
  await review.locator('select[name="action.联系电话"]').selectOption('drop');
  await review.locator('form[action$="/treat"] button[type=submit]').click();
  await clerk.waitForURL('**/treat');
  const treated = clerk.locator('article.review', { hasText: '2026年新设企业抽检联系表' });
  assert.ok((await treated.innerText()).includes('未发现个人信息'));
  assert.equal(await treated.locator('form[action$="/publish"]').count(), 0, 'the clerk cannot publish');
  await clerks.close();

  const admins = await browser.newContext(desk);
  const admin = await login(admins, 'demo.deptadmin.market', true);
  await admin.goto(`${demo.baseUrl}/opendata/console`);
  const waiting = admin.locator('article.review', { hasText: '2026年新设企业抽检联系表' });
  await waiting.locator('form[action$="/publish"] button').click();
  await admin.waitForURL('**/publish');
  assert.ok((await admin.locator('p.notice[role=status]').innerText()).includes('文件已发布'));
  await admins.close();

  const visitors = await browser.newContext(phone);
  const visitor = await visitors.newPage();
  await visitor.goto(`${demo.baseUrl}/opendata/dataset/market-entities-monthly`);
  const published = visitor.locator('section.resource', { hasText: '2026年新设企业抽检联系表' });
  const text = await published.innerText();
  assert.ok(text.includes('江南区') && !text.includes('13900139001') && !text.includes('联系电话'), text);
  await visitors.close();
});
