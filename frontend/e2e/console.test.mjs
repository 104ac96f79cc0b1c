// Browser end-to-end test of the admin console and the self-service page:
// builds the Go binary, starts it in dev mode on a free loopback port with
// demo data, and drives Debian's Chromium through playwright-core.
//
//   node --test e2e/          (from frontend/; run by .ci/run)
//
// Screenshots land in e2e/artifacts/ (gitignored). CHROMIUM overrides the
// browser path (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const artifacts = join(here, 'artifacts');
const work = mkdtempSync(join(tmpdir(), 'keyward-e2e-'));
const bin = join(work, 'keyward');
const dataDir = join(work, 'data');

let server;
let serverLog = '';
let base;
let browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const env = (port) => ({ ...process.env, KEYWARD_DEV: '1', KEYWARD_ADDR: `127.0.0.1:${port}`, KEYWARD_DATA_DIR: dataDir, KEYWARD_BASE_URL: `http://127.0.0.1:${port}`, KEYWARD_LOG_FORMAT: 'text' });

async function waitReady(url, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`server not ready after ${ms} ms:\n${serverLog}`);
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function api(method, path, as, body) {
  const t = await (await fetch(`${base}/dev/token?as=${as}`)).json();
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `JWT ${t.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !/status of 404/.test(m.text()) && errors.push(m.text()));
  page.errors = errors;
  return page;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  execFileSync('go', ['build', '-o', bin, './app'], { cwd: repo, stdio: 'inherit' });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  try {
    execFileSync(bin, ['seed', '--demo', '--users', '60', '--keys', '400', '--access-log', '2000'], { env: env(port), stdio: 'pipe' });
  } catch (e) {
    // The dev site still gets the keys this test creates below.
    console.warn(`seed --demo failed, continuing without demo data: ${e.stderr?.toString() || e.message}`);
  }
  server = spawn(bin, ['serve'], { env: env(port), stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  await waitReady(`${base}/readyz`);

  // Known data: three keys of the dev user that the admin will bulk-revoke.
  for (const n of [1, 2, 3]) {
    await api('POST', '/api/me/v1/keys', 'user', { name: `e2e-batch-${n}`, expiresInDays: 30, access: 'custom', scopes: ['worklogs:view'] });
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  rmSync(work, { recursive: true, force: true });
});

test('admin console: filter, open a detail, bulk-revoke with preview and confirmation', async () => {
  const page = await newPage();
  await page.goto(`${base}/dev/admin`);
  await page.getByRole('heading', { name: 'Tempo API access' }).waitFor();
  await page.locator('table[aria-label="Credentials"] tbody tr').first().waitFor();
  assert.ok(!page.url().includes('token='), `token left in the address bar: ${page.url()}`);
  await shot(page, '01-inventory');

  // Filter: search (debounced) and status.
  await page.getByLabel('Search').fill('e2e-batch');
  const rows = page.locator('table[aria-label="Credentials"] tbody tr');
  await page.waitForFunction(() => {
    const names = [...document.querySelectorAll('table[aria-label="Credentials"] tbody tr .cell-name')].map((e) => e.textContent);
    return names.length === 3 && names.every((n) => n.startsWith('e2e-batch-'));
  });
  await page.getByLabel('Status').selectOption('active');
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Credentials"] tbody tr').length === 3);
  assert.equal(await rows.locator('.lozenge', { hasText: 'active' }).count(), 3);
  await shot(page, '02-inventory-filtered');

  // Detail drawer.
  await rows.first().locator('.cell-name').click();
  const drawer = page.locator('dialog.dialog-drawer');
  await drawer.getByRole('heading', { name: 'Recent access' }).waitFor();
  assert.match(await drawer.locator('dl.props').innerText(), /Dev|dev-user|Uma/);
  assert.doesNotMatch(await drawer.innerText(), /kwk_[0-9A-Za-z]{20,}/, 'a secret is displayed');
  await shot(page, '03-detail');
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'detached' });

  // Bulk revoke: select all three, preview, reason, confirm.
  await page.getByLabel('Select all on this page').check();
  await page.getByRole('button', { name: 'Revoke selected' }).click();
  const dialog = page.locator('dialog[open]');
  await dialog.getByTestId('preview-count').waitFor();
  assert.equal((await dialog.getByTestId('preview-count').innerText()).trim(), '3');
  assert.equal(await dialog.locator('ul.sample li').count(), 3);
  const confirm = dialog.getByRole('button', { name: 'Revoke 3 credentials' });
  assert.ok(await confirm.isDisabled(), 'revoke is enabled before a reason is given');
  await dialog.getByLabel('Reason').fill('e2e: offboarding test batch');
  await shot(page, '04-bulk-preview');
  assert.ok(await confirm.isEnabled());
  await dialog.getByLabel('Reason').press('Enter'); // Enter submits the dialog
  await dialog.getByText('3 credentials revoked').waitFor();
  await shot(page, '05-bulk-done');
  await dialog.getByRole('button', { name: 'Done' }).click();

  // The list (still filtered to active) empties; showing revoked finds all three.
  await page.getByLabel('Status').selectOption('revoked');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('table[aria-label="Credentials"] tbody tr')];
    return rows.length === 3 && rows.every((r) => r.querySelector('.lozenge-removed')?.textContent === 'revoked');
  });
  await shot(page, '06-revoked');

  // The detail shows who revoked and why.
  await rows.first().locator('.cell-name').click();
  await drawer.getByText('e2e: offboarding test batch').first().waitFor();
  await page.keyboard.press('Escape');

  // Export the filtered inventory as CSV.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export inventory CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0], /id/i);
  assert.equal(csv.trim().split('\n').length, 4, `csv:\n${csv}`);
  assert.deepEqual(page.errors, []);
});

test('admin console: people, access log and settings tabs render', async () => {
  const page = await newPage();
  await page.goto(`${base}/dev/admin`);
  await page.getByRole('tab', { name: 'People' }).click();
  await page.locator('table[aria-label="Credential owners"] tbody tr').first().waitFor();
  await shot(page, '07-people');
  await page.getByRole('tab', { name: 'Access log' }).click();
  await page.locator('#panel-access').waitFor();
  await page.waitForSelector('#panel-access table, #panel-access .empty');
  await shot(page, '08-access-log');
  // Offboarding settings: change the grace period and save.
  await page.getByRole('tab', { name: 'Offboarding settings' }).click();
  await page.getByLabel('Grace period (minutes)').fill('45');
  await page.getByLabel('Stale after (days unused)').fill('90');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved').waitFor();
  assert.equal(await page.getByLabel('Grace period (minutes)').inputValue(), '45');
  await shot(page, '09-offboarding');
  const saved = await api('GET', '/api/admin/v1/settings/offboarding', 'admin');
  assert.equal(saved.gracePeriodSeconds, 45 * 60);

  // Jobs: the deployment-wide one runs only on its schedule; run the
  // weekly report for this site.
  await page.getByRole('tab', { name: 'Jobs & reports' }).click();
  const jobRows = page.locator('table[aria-label="Jobs"] tbody tr');
  await jobRows.first().waitFor();
  const purge = jobRows.filter({ hasText: 'oauth-purge' });
  assert.equal(await purge.getByRole('button', { name: 'Run now' }).count(), 0);
  await purge.getByText('Scheduled only').waitFor();
  await jobRows.filter({ hasText: 'weekly-report' }).getByRole('button', { name: 'Run now' }).click();
  await page.getByText(/^Started /).waitFor();
  await shot(page, '10-jobs');

  await page.getByRole('tab', { name: 'OAuth apps' }).click();
  await page.waitForFunction(() => !document.querySelector('.loading'));
  await shot(page, '11-oauth');
  assert.equal(await page.locator('.banner-error').count(), 0, await page.locator('main').innerText());
  assert.deepEqual(page.errors, []);
});

test('self-service: create a key and see its secret once', async () => {
  const page = await newPage();
  await page.goto(`${base}/dev/me`);
  await page.getByRole('heading', { name: 'My Tempo API keys' }).waitFor();
  await page.waitForFunction(() => !document.querySelector('.loading'));
  await shot(page, '12-my-keys');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.locator('dialog[open]');
  await dialog.getByLabel('Name').fill('e2e payroll export');
  await dialog.getByLabel('Expires in (days)').fill('14');
  await dialog.getByLabel('Teams: manage').check();
  await shot(page, '13-create-key');
  await dialog.getByRole('button', { name: 'Create' }).click();

  const secretBox = page.getByTestId('secret');
  await secretBox.waitFor();
  const secret = await secretBox.inputValue();
  assert.match(secret, /^kwk_[0-9A-Za-z]{40,}$/);
  await page.getByText('This secret is shown only once').waitFor();
  await shot(page, '14-secret-once');
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await secretBox.waitFor({ state: 'detached' });

  const row = page.locator('table[aria-label="My API keys"] tbody tr', { hasText: 'e2e payroll export' });
  await row.waitFor();
  assert.match(await row.innerText(), /Worklogs \(view\), Teams \(manage\)/);
  assert.ok(!(await page.content()).includes(secret), 'the secret is still in the page after closing');
  await shot(page, '15-key-listed');
  assert.deepEqual(page.errors, []);
});

test('hosts: Connect (AP.context.getToken), Forge (invokeRemote bridge) and none', async () => {
  // Connect: Jira frames /ui/admin?xdm_e=…; all.js is served by a stub whose
  // getToken hands out a dev-site context token.
  const connect = await newPage();
  let tokenCalls = 0;
  await connect.exposeFunction('e2eToken', async () => {
    tokenCalls++;
    return (await (await fetch(`${base}/dev/token?as=admin`)).json()).token;
  });
  await connect.route('https://connect-cdn.atl-paas.net/all.js', (r) =>
    r.fulfill({ contentType: 'text/javascript', body: 'window.AP = { context: { getToken(cb) { window.e2eToken().then(cb); } } };' }),
  );
  await connect.goto(`${base}/ui/admin?xdm_e=https%3A%2F%2Fexample.atlassian.net&cp=%2Fjira`);
  await connect.locator('table[aria-label="Credentials"] tbody tr').first().waitFor();
  assert.equal(await connect.evaluate(() => document.documentElement.dataset.host), 'connect');
  assert.ok(tokenCalls >= 1);

  // Forge: the host injects window.__bridge; invokeRemote arrives as
  // callBridge('invoke', {path, method, body, invokeType: 'ui-remote-fetch'}).
  const forge = await newPage();
  const calls = [];
  await forge.exposeFunction('e2eInvoke', async (payload) => {
    calls.push(`${payload.method} ${payload.path}`);
    const t = (await (await fetch(`${base}/dev/token?as=user`)).json()).token;
    const r = await fetch(base + payload.path, {
      method: payload.method,
      headers: { Authorization: `JWT ${t}`, 'Content-Type': 'application/json' },
      body: payload.body === undefined ? undefined : JSON.stringify(payload.body),
    });
    const text = await r.text();
    return { success: true, payload: { status: r.status, headers: { 'content-type': [r.headers.get('content-type') ?? ''] }, body: text ? JSON.parse(text) : undefined } };
  });
  await forge.addInitScript(() => {
    window.__bridge = {
      callBridge: async (name, payload) => {
        if (name === 'getContext') return { moduleKey: 'keyward-my-keys-page', locale: 'en-US' };
        if (name === 'invoke') return window.e2eInvoke(payload);
        return undefined;
      },
    };
  });
  await forge.goto(`${base}/ui/index.html`);
  await forge.getByRole('heading', { name: 'My Tempo API keys' }).waitFor();
  await forge.locator('table[aria-label="My API keys"] tbody tr').first().waitFor();
  assert.equal(await forge.evaluate(() => document.documentElement.dataset.host), 'forge');
  assert.ok(calls.includes('GET /api/me/v1/keys'), calls.join('\n'));

  // No host: not framed, no Connect parameters, no dev mode.
  const none = await newPage();
  await none.route('**/dev/token*', (r) => r.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no such route"}}' }));
  await none.goto(`${base}/ui/admin`);
  await none.getByText('Open this page from Jira').waitFor();
  assert.match(await none.locator('main').innerText(), /dev mode/);
  await shot(none, '16-no-host');
  assert.deepEqual([...connect.errors, ...forge.errors], []);
});

test('consent page: an OAuth app asks, the user allows, the browser returns to the app', async () => {
  const redirect = 'https://app.example.com/callback';
  const created = await api('POST', '/api/admin/v1/oauth/clients', 'admin', { name: 'E2E Timesheet sync', redirectUris: [redirect], allowedScopes: ['worklogs:manage', 'teams:view'] });
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ response_type: 'code', client_id: created.client.id, redirect_uri: redirect, scope: 'worklogs:view teams:view', state: 'e2e-state', code_challenge: challenge, code_challenge_method: 'S256' });

  const page = await newPage();
  // Dev mode identifies the dev user on the consent page through /dev/token.
  let landed = null;
  await page.route('https://app.example.com/**', (r) => {
    landed = r.request().url();
    return r.fulfill({ contentType: 'text/html', body: '<h1>back in the app</h1>' });
  });
  await page.goto(`${base}/oauth/authorize?${q}`);
  await page.getByRole('heading', { name: /Allow E2E Timesheet sync to use Tempo as you/ }).waitFor();
  const text = await page.locator('main').innerText();
  assert.match(text, /View worklogs/);
  assert.match(text, /View teams/);
  assert.match(text, /app\.example\.com/);
  await shot(page, '17-consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.getByRole('heading', { name: 'back in the app' }).waitFor();
  const back = new URL(landed);
  assert.equal(back.origin + back.pathname, redirect);
  assert.equal(back.searchParams.get('state'), 'e2e-state');
  assert.ok(back.searchParams.get('code'), landed);
  assert.deepEqual(page.errors, []);
});
