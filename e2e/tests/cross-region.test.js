// 跨省通办 at the window: two demo regions recognise each other and agree to handle
// applications across (their administrators, over the API). At a window of region A the clerk
// receives an application for region B's item, checks the materials and forwards it; it reaches
// B, whose tax clerk finds it in the 跨省 inbox and accepts it; the citizen-facing state comes
// back to A.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, launchBrowser, shot, startDemo, totp } from '../lib/harness.js';

const ITEM = '339900-SW-0003';
let a;
let b;
let browser;

const who = (demo, username) => demo.accounts.find((x) => x.username === username);
const token = (demo, username) => who(demo, username).api_token;
const intakeUscc = async (demo) => {
  const { body } = await api(demo, token(demo, 'demo.deptadmin'), '/api/v1/exchange/resources');
  const resource = body.find((r) => r.code === 'KS-TB-001');
  assert.ok(resource, 'the intake resource');
  const { body: list } = await api(demo, token(demo, 'demo.sysadmin'), '/api/v1/admin/departments');
  return list.find((d) => d.id === resource.department_id).uscc;
};

async function recognise(to, from) {
  const list = await (await fetch(`${from.baseUrl}/api/v1/trust-list`)).json();
  const proposed = await api(to, token(to, 'demo.secadmin'), '/api/v1/admin/trusted-regions', {
    method: 'POST', body: JSON.stringify({ trust_list: list, root_key: await from.rootKey() }),
  });
  assert.equal(proposed.status, 202, JSON.stringify(proposed.body));
  const approved = await fetch(`${to.baseUrl}/api/v1/admin/trust-proposals/${proposed.body.proposal}/approve`, {
    method: 'POST', headers: { authorization: `Bearer ${token(to, 'demo.secadmin2')}`, 'content-type': 'application/json' }, body: '{}',
  });
  assert.equal(approved.status, 204);
}

before(async () => {
  a = await startDemo({ region: '339900' });
  b = await startDemo({ region: '440300' });
  browser = await launchBrowser();
  await recognise(b, a);
  await recognise(a, b);
  const until = new Date(Date.now() + 365 * 86400000).toISOString().slice(0, 10);
  const items = ['case', 'state', 'due_day', 'duplicate', 'code', 'name', 'department_uscc',
    'department_name', 'modes', 'promised_days', 'materials'];
  const usccs = new Map([[a, await intakeUscc(a)], [b, await intakeUscc(b)]]);
  for (const [owner, other] of [[b, a], [a, b]]) {
    const granted = await api(owner, token(owner, 'demo.deptadmin'), '/api/v1/exchange/foreign-grants', {
      method: 'POST',
      body: JSON.stringify({ resource: 'KS-TB-001', uscc: usccs.get(other), name: '合作地区政务服务管理局', items,
        purpose: '跨省通办：收件、回执与事项清单', legal_basis: '跨省通办合作协议', until }),
    });
    assert.equal(granted.status, 201, JSON.stringify(granted.body));
  }
  for (const [here, other] of [[a, b], [b, a]]) {
    const added = await api(here, token(here, 'demo.deptadmin'), '/api/v1/cross-region/partners', {
      method: 'POST', body: JSON.stringify({ region: other.region, intake_uscc: usccs.get(other), name: '合作地区' }),
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  }
});

after(async () => {
  await browser?.close();
  await a?.stop();
  await b?.stop();
});

async function login(context, demo, username) {
  const account = who(demo, username);
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login`);
  await page.fill('#username', account.username);
  await page.fill('#password', account.password);
  await page.fill('#totp', totp(account.totp_secret));
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  return page;
}

test('a window receives for another region, checks and forwards; the competent clerk accepts', async () => {
  const windowContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const clerk = await login(windowContext, a, 'demo.clerk');
  await clerk.goto(`${a.baseUrl}/cross-region`);
  // B's items are listed with who handles them.
  const items = await clerk.locator('#items').innerText();
  assert.ok(items.includes('完税证明开具') && items.includes('440300 地区'), items);
  const form = clerk.locator('#receive');
  await form.locator('select[name=item]').selectOption(`440300|${ITEM}`);
  await form.locator('input[name=name]').fill('王芳');
  await form.locator('input[name=resident_id]').fill('11010519491231002X');
  await form.locator('textarea[name=statement]').fill('申请人持本人身份证到窗口，携带2025年度完税凭证复印件一份。');
  await form.locator('input[name=consent]').check();
  await shot(clerk, 'cross-region-01-receive');
  await form.locator('button').click();
  await clerk.waitForURL('**/cross-region/apply');
  assert.ok((await clerk.locator('[role=status]').innerText()).includes('窗口核验中'));
  const row = clerk.locator('#window tr', { hasText: '完税证明开具' });
  assert.ok((await row.innerText()).includes('王*'), 'the name is masked in the queue');
  await shot(clerk, 'cross-region-02-checking');
  await row.locator('button').click();
  await clerk.waitForURL('**/forward');
  assert.ok((await clerk.locator('[role=status]').innerText()).includes('已转交'));
  await windowContext.close();

  // Region A's outbox delivers within a second or two; B's tax clerk finds it in the inbox.
  const taxContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const tax = await login(taxContext, b, 'demo.clerk.tax');
  let inbox = '';
  for (let i = 0; i < 50 && !inbox.includes('完税证明开具'); i += 1) {
    await tax.goto(`${b.baseUrl}/cross-region`);
    inbox = (await tax.locator('#inbox').count()) ? await tax.locator('#inbox').innerText() : '';
    if (!inbox.includes('完税证明开具')) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(inbox.includes('异地代收代办') && inbox.includes('339900'), inbox);
  assert.ok(inbox.includes('申请说明'), 'the materials travelled');
  await shot(tax, 'cross-region-03-inbox');
  await tax.locator('#inbox article').first().locator('button[value=accept]').click();
  await tax.waitForURL('**/act');
  assert.ok((await tax.locator('[role=status]').innerText()).includes('已受理'));
  await taxContext.close();

  // The step comes back to A (B's outbox), where the window's clerk can follow the case.
  const { body: cases } = await api(a, token(a, 'demo.clerk'), '/api/v1/cross-region/work');
  assert.equal(cases.window.length, 0, 'nothing left to check at the window');
  const sent = await (async () => {
    for (let i = 0; i < 50; i += 1) {
      const { body: work } = await api(b, token(b, 'demo.clerk.tax'), '/api/v1/cross-region/work');
      const id = work.inbox[0]?.id;
      if (id) {
        const { status, body } = await api(a, token(a, 'demo.clerk'), `/api/v1/cross-region/cases/${id}`);
        if (status === 200 && body.state === 'accepted') return body;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return null;
  })();
  assert.ok(sent, 'the acceptance reached region A');
  assert.equal(sent.mode, 'proxy');
});
