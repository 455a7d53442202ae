// The status page in a real headless Chromium (Debian's, driven by playwright-core; installed by
// scripts/setup-chromium.sh), against a daemon relaying on the devnet: a message found by its id
// with its timeline, a SEIZE held by the liquidation guard shown with its hold code, a wrong token
// refused where the operator sees it, the right one releasing the SEIZE out of the held list, an
// attacker's reason shown as text, a read-only daemon's 403, and the page saying so when the daemon
// stops answering. Run by `npm run test:browser` (not part of `npm test`); UPDATE_SCREENSHOT=1 also
// writes the populated page to docs/img/status-page.png.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { packageRoot } from '../../relayer/config/packageRoot.js';
import { OPS_TOKEN, heldSeize, plantHeld, plantStuck, startTestDaemon, until, type TestDaemon } from '../setup/daemon.js';
import { lock, useSharedDevnet } from '../setup/devnet.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const ATTACK = '<img src=x onerror="document.title=\'pwned\'">';

/** Waits until the locator's text matches (the page refreshes itself every few seconds). */
async function textMatches(l: Locator, re: RegExp, timeoutMs = 15_000): Promise<string> {
  let last = '';
  try {
    await until(`text matching ${re}`, async () => re.test((last = (await l.first().textContent({ timeout: 1_000 }).catch(() => '')) ?? '')), timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last text: ${JSON.stringify(last.slice(0, 500))}`);
  }
  return last;
}

describe('status page in headless Chromium', function () {
  this.timeout(180_000);
  const devnet = useSharedDevnet();
  let browser: Browser;
  let d: TestDaemon | undefined;
  let page: Page | undefined;
  const problems: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run bash scripts/setup-chromium.sh (as root)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    problems.length = 0;
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    // A dialog would mean injected script ran (the page itself asks only before a reject).
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (msg) => {
      // Failed fetches show up as console errors when the test stops the daemon on purpose.
      if (msg.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
  });
  afterEach(async () => {
    await page?.close();
    await d?.stop();
    d = undefined;
  });

  it('finds a message by id, shows a held SEIZE with its hold code and a stuck message, refuses a wrong token and releases it with the right one', async () => {
    const m = devnet().manifest;
    d = await startTestDaemon(m);
    const { store } = d.daemon;
    const seize = await heldSeize(m, store);
    const other = await lock(m, 'optimism', { amount: 250_000_000n, positionId: 42n }); // a Wormhole CREDIT among the deliveries
    await until('the optimism lock is delivered', async () => (await store.list({ status: 'delivered' })).some((r) => r.messageId === other.lockId));
    const stuck = await plantStuck(store, 25 * 60_000); // observed 25 minutes ago from a block that is not final
    const p = page as Page;
    await p.goto(`${d.url}/`);
    assert.equal(await p.title(), 'isorelay status');

    // Live data: the held SEIZE, with its kind and hold code, and the panels filled.
    const seizeRow = p.locator(`#held tr[data-id="${seize.id}"]`);
    await seizeRow.waitFor({ timeout: 15_000 });
    assert.match((await seizeRow.textContent()) ?? '', /SEIZE.*base-arbitrum.*seize_price.*arbitrum's ETH-USD oracle says 3000\.0/);
    assert.match((await seizeRow.textContent()) ?? '', /token needed/, 'no buttons before a token is given');
    await textMatches(p.locator('#freshness'), /^updated \d+s ago$/);
    await textMatches(p.locator('#recent'), new RegExp(`CREDIT`));
    await textMatches(p.locator('#routes tr[data-route="arbitrum-base"]'), /relaying/);
    await textMatches(p.locator('#chains tr[data-chain="arbitrum"]'), /arbitrum\s*\d+\s*\d+/);
    await textMatches(p.locator('#keeper'), /deviation/);
    assert.match((await p.locator(`#stuck tr[data-id="${stuck}"]`).textContent()) ?? '', /arbitrum-base.*observed.*source_not_final.*25m \d\ds.*30s/);
    assert.match((await p.locator('#keeper tr[data-chain="base"]').textContent()) ?? '', /2,500\.00.*excluded.*deviation/);

    // Search by the SEIZE's transport id: its explorer report, timeline and next step.
    await p.fill('#q', seize.transportId);
    await p.click('#search button[type="submit"]');
    const report = p.locator(`#result article[data-id="${seize.id}"]`);
    await report.waitFor({ timeout: 15_000 });
    const reportText = (await report.textContent()) ?? '';
    assert.match(reportText, /SEIZE on base-arbitrum/);
    assert.match(reportText, /seize_price/);
    assert.match(reportText, /Timeline[\s\S]*∅ → observed[\s\S]*observed → finalized[\s\S]*→ held/);
    assert.match(reportText, /Next: waits for an operator \(held: seize_price\)/);
    assert.ok(p.url().endsWith(`#${encodeURIComponent(seize.transportId)}`), 'the search is in the URL (the token never is)');

    // The documentation's picture: the page populated, the report open.
    const shots = mkdtempSync(join(tmpdir(), 'isorelay-shot-'));
    try {
      const shot = join(shots, 'status-page.png');
      await p.screenshot({ path: shot, fullPage: true });
      if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(packageRoot(), 'docs', 'img', 'status-page.png'));
    } finally {
      rmSync(shots, { recursive: true, force: true });
    }

    // An attacker's reason is shown as text: no element made of it, no script run.
    const planted = await plantHeld(store, ATTACK, { kind: 'CREDIT' });
    const plantedRow = p.locator(`#held tr[data-id="${planted}"]`);
    await plantedRow.waitFor({ timeout: 15_000 });
    assert.ok(((await plantedRow.locator('td.reason').textContent()) ?? '').includes(ATTACK), 'the reason, verbatim');
    assert.equal(await p.locator('img').count(), 0);
    assert.equal(await p.title(), 'isorelay status');

    // A wrong token: refused (401), said so on the page, nothing moved.
    await p.fill('#token', 'wrong-token-wrong-token-wrong-token');
    await seizeRow.locator('button[data-action="release"]').click();
    await textMatches(p.locator('#action-status'), /401 Unauthorized: the daemon refused this token/);
    assert.equal((await store.get(seize.id))?.status, 'held');
    assert.equal(await seizeRow.count(), 1);

    // The right token (kept in this tab's sessionStorage, never in the URL): released, it leaves the held list.
    await p.fill('#token', OPS_TOKEN);
    await p.fill('#reason', 'arbitrum feed lagging, checked by hand');
    await seizeRow.locator('button[data-action="release"]').click();
    await textMatches(p.locator('#action-status'), new RegExp(`released ${seize.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it will be delivered`));
    await seizeRow.waitFor({ state: 'detached', timeout: 15_000 });
    assert.notEqual((await store.get(seize.id))?.status, 'held');
    assert.match((await store.history(seize.id)).map((e) => e.reason ?? '').join('\n'), /released by the operator: arbitrum feed lagging, checked by hand/);
    assert.equal(await p.evaluate('sessionStorage.getItem("isorelay.opsToken")'), OPS_TOKEN);
    assert.ok(!p.url().includes(OPS_TOKEN));
    await textMatches(p.locator('#held-count'), /^\(1\)$/);

    // The daemon stops: the page says it does not answer.
    await d.stop();
    d = undefined;
    await textMatches(p.locator('#freshness.error'), /the daemon is not answering .*last update \d+s ago/, 20_000);
    assert.deepEqual(problems, []);
  });

  it('says 403 when the daemon is read-only', async () => {
    const m = devnet().manifest;
    d = await startTestDaemon(m, { readOnly: true });
    const planted = await plantHeld(d.daemon.store, 'held for a test');
    const p = page as Page;
    await p.goto(`${d.url}/`);
    await textMatches(p.locator('#notice'), /Read-only: this daemon takes no actions/);
    await p.fill('#token', OPS_TOKEN);
    await p.locator(`#held tr[data-id="${planted}"] button[data-action="release"]`).click();
    await textMatches(p.locator('#action-status'), /403 Forbidden: this server is read-only/);
    assert.equal((await d.daemon.store.get(planted))?.status, 'held');
    assert.deepEqual(problems, []);
  });
});
