// The dashboard end to end in real Chromium against a daemon in this process (threads: 0) with the
// example components: token from the URL, header, address cards, installed versions, the request
// form, the live event stream, deploy and roll back, audit denials, a wrong token — and no console
// error, uncaught exception or CSP violation on the way. Screenshots of the key steps go to
// test/.screenshots/ (gitignored). Note: the cases share one daemon and one page and run in order,
// each starting where the one before left off (counter is deployed, then rolled back).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { adminApi } from '../support/admin-api.mjs';
import { isPng, launchChromium, type PageProblems, screenshot, watchProblems } from '../support/browser.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const SHOTS = join(ROOT, 'test', '.screenshots');
/** What Chromium logs for a 401 the wrong-token case provokes on purpose. */
const EXPECTED_401 = [/status of 401/, /EventSource's response has a status 401/];
/** What Chromium logs for the page's one question to a host without a cluster (`GET /v1/cluster`: 404). */
const CLUSTER_PROBE = /status of 404 \(Not Found\) \(http:\/\/[^ ]+\/v1\/cluster:0\)$/;
const withoutClusterProbe = (p: PageProblems) => ({
  ...p,
  console: p.console.filter((line) => !CLUSTER_PROBE.test(line)),
});

let daemon: Daemon;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;
const shots: string[] = [];
/** Statuses of the page's `GET /v1/cluster` calls. */
const clusterAnswers: number[] = [];

const call = (method: string, path: string, body?: unknown) =>
  adminApi(daemon.url, daemon.token)(method, path, body);

async function shoot(target: Page, name: string) {
  shots.push(await screenshot(target, SHOTS, name));
}

/** The address cards as `{ address: [semver, …] }`. */
const cards = (target: Page) =>
  target.$$eval('#addresses article.card', (articles) =>
    Object.fromEntries(
      articles.map((a) => [
        a.querySelector('h3')?.textContent ?? '',
        Array.from(
          a.querySelectorAll<HTMLTableRowElement>('tbody tr'),
          (tr) => tr.cells[0]?.textContent ?? '',
        ),
      ]),
    ),
  );

/** Waits until the card of `address` lists exactly `semvers`. */
const cardShows = (address: string, semvers: string[]) =>
  page.waitForFunction(
    ([address, wanted]) => {
      const card = document.querySelector(`#addresses article[aria-label="address ${address}"]`);
      const shown = Array.from(
        card?.querySelectorAll<HTMLTableRowElement>('tbody tr') ?? [],
        (tr) => tr.cells[0]?.textContent,
      );
      return shown.join(',') === wanted.join(',');
    },
    [address, semvers] as const,
  );

/** Sends `payload` to `address` through the request form and returns the reply shown. */
async function request(address: string, payload: string): Promise<string> {
  await page.selectOption('#req-address', address);
  await page.fill('#req-payload', payload);
  await page.click('#req-send');
  await page.locator('#req-result p.ok, #req-result p.err').waitFor();
  const result = page.locator('#req-result');
  expect(await result.locator('p').getAttribute('class'), (await result.textContent()) ?? '').toBe('ok');
  return (await result.locator('pre').textContent()) ?? '';
}

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true });
  browser = await launchChromium();
  daemon = await startDaemon({
    dataDir: tempDir('dashboard'),
    port: 0,
    threads: 0,
    examples: join(ROOT, 'fixtures', 'build'),
  });
  // One audit denial to show: a gateway granted nothing, asked to read a file.
  const gw = variant('ext-gateway', { name: 'gw', permissions: [] });
  expect(await call('POST', '/v1/components', { path: gw })).toMatchObject({ ok: true });
  expect(await call('POST', '/v1/deployments', { name: 'gw' })).toMatchObject({ status: 'done' });
  expect(await call('POST', '/v1/addresses/gw/request', { payload: 'read /etc/hostname' })).toMatchObject({
    ok: false,
    error: { code: 'capability-denied' },
  });
  context = await browser.newContext();
  problems = await watchProblems(context);
  page = await context.newPage();
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/v1/cluster') clusterAnswers.push(r.status());
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.close();
});

describe('dashboard in Chromium', () => {
  it('dashboard — connects with the token from the URL and shows the API, addresses and installed versions', async () => {
    await page.goto(`${daemon.url}/#token=${daemon.token}`);
    await page.locator('#h-api', { hasText: 'API: ok' }).waitFor();
    await page.locator('#h-sse', { hasText: 'events: connected' }).waitFor();
    expect(page.url(), 'the token is dropped from the address bar').not.toContain(daemon.token);
    expect(await page.textContent('#h-version')).toBe('0.1.0');
    expect(await page.textContent('#h-threads')).toBe('0');

    const expected: Record<string, string[]> = {};
    for (const address of daemon.host.addresses())
      expected[address] = (await daemon.host.versions(address)).map((v) => v.semver);
    expect(expected).toMatchObject({ counter: ['0.1.0'], echo: ['0.1.0'], stage: ['0.1.0'] });
    await page.waitForFunction(
      (n) => document.querySelectorAll('#addresses article.card').length === n,
      Object.keys(expected).length,
    );
    expect(await cards(page)).toEqual(expected);

    const installed = daemon.deployer.registry.list().map((v) => `${v.name} ${v.version}`);
    expect(installed).toEqual(
      expect.arrayContaining(['counter 0.1.0', 'counter 0.2.0', 'echo 0.1.0', 'gw 0.1.0']),
    );
    await page.waitForFunction(
      (n) => document.querySelectorAll('#components tbody tr').length === n,
      installed.length,
    );
    const rows = await page.$$eval('#components tbody tr', (trs) =>
      (trs as HTMLTableRowElement[]).map((tr) => `${tr.cells[0]?.textContent} ${tr.cells[1]?.textContent}`),
    );
    expect(rows.sort()).toEqual(installed.sort());
    // A table to assistive technology despite its CSS, and no Deploy button pushed out of sight.
    expect(await page.getByRole('table', { name: 'Installed components' }).getByRole('row').count()).toBe(
      installed.length + 1,
    );
    expect(await page.$eval('#components', (box) => box.scrollWidth <= box.clientWidth)).toBe(true);
    await shoot(page, '1-connected');
  });

  it('dashboard — keeps the Cluster panel hidden on a host without a cluster, and asks only once', async () => {
    await expect.poll(() => clusterAnswers).toEqual([404]);
    await page.waitForTimeout(2500); // a status poll or more later
    expect(clusterAnswers).toEqual([404]);
    expect(await page.isHidden('#cluster')).toBe(true);
  });

  it('dashboard — sends a request from the form and shows the reply', async () => {
    expect(await request('counter', 'inc')).toBe('1');
    expect(await page.textContent('#req-result p.ok')).toBe('Reply from counter (raw)');
    await shoot(page, '2-request-reply');
  });

  it('dashboard — deploys counter 0.2.0 blue-green from the dialog, streams its events and updates the card', async () => {
    await page.click('button[aria-label="Deploy counter 0.2.0"]');
    const dialog = page.locator('#deploy-dialog');
    await dialog.waitFor();
    expect(await page.textContent('#deploy-what')).toMatch(/^counter@0\.2\.0 \([0-9a-f]{12}\)$/);
    expect(await page.inputValue('#deploy-strategy')).toBe('blue-green');
    await shoot(page, '3-deploy-dialog');
    await dialog.locator('button[type=submit]').click();

    await page.locator('#actions li', { hasText: 'deploy counter@0.2.0 (blue-green) — done' }).waitFor();
    await cardShows('counter', ['0.2.0']);
    // Only the event stream fills this list, and only a deployment of 0.2.0 makes it run.
    await page
      .locator('#events li', { has: page.locator('.subject', { hasText: 'counter@0.2.0' }) })
      .filter({ hasText: '→ running' })
      .first()
      .waitFor();
    expect(await request('counter', 'get')).toBe('v2:1');
    await shoot(page, '4-deployed');
  });

  it('dashboard — rolls counter back to 0.1.0 after asking', async () => {
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await page
      .locator('article[aria-label="address counter"]')
      .getByRole('button', { name: 'Roll back' })
      .click();
    await page.locator('#actions li', { hasText: 'roll back counter — done' }).waitFor();
    expect(asked).toEqual(['Roll back "counter" to its previous version?']);
    await cardShows('counter', ['0.1.0']);
    expect(await request('counter', 'get')).toBe('1');
    await shoot(page, '5-rolled-back');
  });

  it('dashboard — lists the recent audit denials', async () => {
    const row = page.locator('#denials tbody tr', { hasText: '/etc/hostname' });
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(1, 4)).toEqual(['gw', 'fs.read-file', '/etc/hostname']);
    await page.locator('#denials').scrollIntoViewIfNeeded();
    await shoot(page, '6-denials');
  });

  it('dashboard — asks for the token again when the one in the URL is wrong, and connects with the right one', async () => {
    const other = await browser!.newContext();
    const otherProblems = await watchProblems(other, EXPECTED_401);
    const wrong = await other.newPage();
    try {
      await wrong.goto(`${daemon.url}/#token=not-the-token`);
      await wrong.locator('#auth').waitFor();
      expect(await wrong.isHidden('#main')).toBe(true);
      expect(await wrong.textContent('#auth-msg')).toContain('refused the token (HTTP 401)');
      expect(await wrong.textContent('#h-api')).toBe('API: no token');
      await shoot(wrong, '7-token-form');
      await wrong.fill('#auth-token', daemon.token);
      await wrong.click('#auth-form button[type=submit]');
      await wrong.locator('#h-api', { hasText: 'API: ok' }).waitFor();
      expect(await wrong.isHidden('#auth')).toBe(true);
      expect(withoutClusterProbe(otherProblems)).toEqual({ console: [], exceptions: [], csp: [] });
    } finally {
      await other.close();
    }
  });

  it('dashboard — logs no console error, uncaught exception or CSP violation', () => {
    expect(withoutClusterProbe(problems)).toEqual({ console: [], exceptions: [], csp: [] });
  });

  it('dashboard — saved a PNG screenshot of each key step', () => {
    expect(shots).toHaveLength(7);
    for (const file of shots) expect(isPng(file), file).toBe(true);
  });
});
