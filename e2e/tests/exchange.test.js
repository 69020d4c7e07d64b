// 数据共享: the market regulator's administrator finds a request waiting on the workbench,
// grants fewer items than asked; the government-services administrator sees the grant and asks
// for another resource from the catalogue, granted at once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, shot, signIn, startDemo, account as demoAccount } from '../lib/harness.js';

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

const login = (context, username, later = false) => signIn(demo, context, username, later);

test('an owner grants the items it must, and a department asks from the catalogue', async () => {
  const owners = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const owner = await login(owners, 'demo.deptadmin.market');
  const todo = owner.locator('#exchange-todo');
  assert.ok((await todo.innerText()).includes('项共享申请待审批'));
  await todo.locator('a').click();
  await owner.waitForURL('**/exchange/requests');
  const form = owner.locator('#exchange-pending form').first();
  assert.ok((await form.innerText()).includes('个体工商户经营者信息'));
  // The identity number is not needed to close a sole proprietorship: granted without it.
  await form.locator('input[name="item.operator_id"]').uncheck();
  await shot(owner, 'exchange-01-decide');
  await form.locator('button[value=yes]').click();
  await owner.waitForURL('**/exchange/requests/*/decide');
  const row = owner.locator('#exchange-all tr', { hasText: '个体工商户经营者信息' });
  const text = await row.innerText();
  assert.ok(text.includes('已授权') && text.includes('经营者姓名') && !text.includes('经营者身份证号'), text);
  await owners.close();

  const consumers = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const consumer = await login(consumers, 'demo.deptadmin');
  await consumer.goto(`${demo.baseUrl}/exchange`);
  const registry = consumer.locator('#resource-SJ-QYDJ-001');
  await registry.locator('input[name="item.name"]').check();
  await registry.locator('input[name="item.registered_on"]').check();
  await registry.locator('input[name=purpose]').fill('企业变更登记：核验企业名称与登记日期');
  await registry.locator('input[name=legal_basis]').fill('《优化营商环境条例》第三十五条');
  const until = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  await registry.locator('input[name=until]').fill(until);
  await shot(consumer, 'exchange-02-ask');
  await registry.locator('button[type=submit].primary').click();
  await consumer.waitForURL('**/exchange/requests');
  assert.ok((await consumer.locator('[role=status]').innerText()).includes('已授权'));
  await shot(consumer, 'exchange-03-granted');
  await consumers.close();
});

test('a department sees what it may call, calls it, and finds the signed exchange in its log', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const admin = await login(context, 'demo.deptadmin', true);
  await admin.goto(`${demo.baseUrl}/exchange/services`);
  const row = admin.locator('#service-GA-RK-001');
  const text = await row.innerText();
  assert.ok(text.includes('人口基础信息') && text.includes('姓名') && !text.includes('联系电话'), text);
  const address = (await row.locator('code').innerText()).trim();
  assert.match(address, /^\/r1\/CN\/GOV\/[0-9A-Z]{18}\/DATA\/GA-RK-001$/);
  await shot(admin, 'exchange-04-services');

  // The department's system calls the population register through the gateway, with the
  // session of the page (as a script on the page would) and the department's client id.
  const citizen = account('citizen.zhangwei');
  const answer = await admin.evaluate(async ({ address, resident }) => {
    const uscc = address.split('/')[4];
    const me = await (await fetch('/api/v1/me')).json();
    const departments = await (await fetch('/api/v1/admin/departments')).json();
    const own = departments.find((d) => d.id === me.department_id);
    const response = await fetch(`${address}/persons/${resident}`, {
      headers: { 'X-Road-Client': `CN/GOV/${own.uscc}/CASES` },
    });
    return { status: response.status, id: response.headers.get('x-road-id'), body: await response.json(), uscc };
  }, { address, resident: citizen.resident_id });
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.deepEqual(Object.keys(answer.body).sort(), ['name', 'resident_id']);

  await admin.goto(`${demo.baseUrl}/exchange/messages?outcome=ok`);
  const logged = admin.locator(`#message-${answer.id}`);
  assert.ok((await logged.innerText()).includes('GA-RK-001'));
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    logged.locator('a[download]').click(),
  ]);
  const receipt = JSON.parse(await (await import('node:fs/promises')).readFile(await download.path(), 'utf8'));
  assert.equal(receipt.format, 'tongban-exchange-receipt/1');
  assert.ok(receipt.entry.includes(answer.id));
  await shot(admin, 'exchange-05-log');
  await context.close();
});
