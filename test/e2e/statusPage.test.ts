// The status page as a running daemon serves it: GET /overview's data (routes with their scan
// checkpoints, chain heads, held, stuck and pending messages, recent deliveries with latency, the
// keeper's prices per chain and why a chain was left out), and GET / — one self-contained page
// under a strict Content-Security-Policy that never carries data in its HTML. (The page's behaviour
// in a browser is test/browser/statusPage.test.ts, run by npm run test:browser.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Overview } from '../../relayer/app/overview.js';
import { STATUS_PAGE_SCRIPT } from '../../relayer/ops/statusPageScript.js';
import { OPS_TOKEN, plantHeld, plantStuck, startTestDaemon, until, type TestDaemon } from '../setup/daemon.js';
import { lock, setEthUsd, useSharedDevnet } from '../setup/devnet.js';

const ATTACK = '<img src=x onerror="document.title=\'pwned\'"><script>alert(1)</script>';

/** The overview as JSON carries it: bigints are decimal strings. */
type Json<T> = T extends bigint ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

describe('status page: GET / and GET /overview from a running daemon', function () {
  this.timeout(90_000);
  const devnet = useSharedDevnet();
  let d: TestDaemon | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  const overview = async (): Promise<Json<Overview>> => {
    const r = await fetch(`${d?.url ?? ''}/overview`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    return (await r.json()) as Json<Overview>;
  };

  it('shows routes, chain heads, held, stuck and pending messages, recent deliveries with latency and the keeper\'s prices', async () => {
    const m = devnet().manifest;
    await setEthUsd(m, ['base'], 2_500n); // base's feed disagrees: the keeper leaves it out
    d = await startTestDaemon(m);
    const { store } = d.daemon;
    const l = await lock(m, 'arbitrum', { amount: 2_000_000n, positionId: 51n });
    await until('the lock is delivered', async () => (await store.list({ status: 'delivered' })).some((r) => r.messageId === l.lockId));
    const heldId = await plantHeld(store, ATTACK);
    const stuckId = await plantStuck(store, 3_600_000);
    await until('the keeper has ticked', async () => ((await overview()).keeper?.markets.length ?? 0) > 0);
    const o = await overview();

    assert.equal(o.actions, true);
    assert.equal(typeof o.generatedAt, 'number');
    // Routes: every configured route and the planted one, each with its counts and scan checkpoint.
    assert.deepEqual(o.routes.map((r) => r.route).sort(), ['arbitrum-base', 'base-arbitrum', 'base-optimism', 'optimism-base', 'planted']);
    const credit = o.routes.find((r) => r.route === 'arbitrum-base');
    assert.equal(credit?.counts.delivered, 1);
    assert.equal(credit?.counts.observed, 1, 'the planted stuck CREDIT');
    assert.equal(credit?.halted, null);
    assert.equal(credit?.expectedMs, 30_000);
    assert.match(credit?.scanned ?? '', /^\d+$/);
    assert.equal(o.routes.find((r) => r.route === 'planted')?.source, null, 'a route the config does not name');
    // Chains: latest, finalized and scanned blocks, as decimal strings.
    assert.deepEqual(o.chains.map((c) => c.chain).sort(), ['arbitrum', 'base', 'optimism']);
    const arbitrum = o.chains.find((c) => c.chain === 'arbitrum');
    assert.ok(arbitrum !== undefined);
    assert.ok(BigInt(arbitrum.latest ?? -1) >= BigInt(arbitrum.finalized ?? -1) && BigInt(arbitrum.finalized ?? -1) > 0n, JSON.stringify(arbitrum));
    assert.ok(BigInt(arbitrum.scanned ?? -1) >= BigInt(l.blockNumber), 'scanned past the lock');
    assert.equal(typeof arbitrum.lastPollAgeMs, 'number');
    // The delivery, with its latency.
    const delivery = o.recent.find((r) => r.messageId === l.lockId);
    assert.ok(delivery !== undefined, JSON.stringify(o.recent));
    assert.equal(delivery.kind, 'CREDIT');
    assert.ok(delivery.latencyMs > 0 && delivery.latencyMs < 60_000, String(delivery.latencyMs));
    assert.match(delivery.dstTx ?? '', /^0x[0-9a-f]{64}$/);
    // Held: the attacker's reason is data, as it was written.
    assert.equal(o.held.total, 1);
    assert.deepEqual(o.held.messages.map((h) => [h.id, h.kind, h.holdCode, h.reason]), [[heldId, 'SEIZE', 'seize_price', ATTACK]]);
    // Stuck: observed an hour ago on a route expected to deliver within 30 s, its block not final.
    assert.deepEqual(o.stuck.messages.map((s) => [s.id, s.route, s.status, s.reason, s.expectedMs]), [[stuckId, 'arbitrum-base', 'observed', 'source_not_final', 30_000]]);
    assert.ok((o.stuck.messages[0]?.ageMs ?? 0) >= 3_600_000);
    assert.deepEqual(o.stuck.counts.filter((c) => c.n > 0), [{ route: 'arbitrum-base', reason: 'source_not_final', n: 1 }]);
    assert.equal(o.stuck.total, 1);
    assert.ok(o.pending.messages.some((p) => p.id === stuckId && p.status === 'observed'), 'a stuck message is on its way too');
    // The keeper: each chain's price, base left out for its deviation from the others.
    assert.equal(o.keeper?.running, true);
    const market = o.keeper?.markets.find((k) => k.market === m.market.name);
    assert.ok(market !== undefined);
    assert.equal(market.ok, true);
    assert.equal(market.median, (3_000n * 10n ** 18n).toString());
    const prices = Object.fromEntries(market.chains.map((c) => [c.chain, [c.price, c.used, c.excluded?.reason ?? null]]));
    assert.deepEqual(prices, {
      arbitrum: [(3_000n * 10n ** 18n).toString(), true, null],
      optimism: [(3_000n * 10n ** 18n).toString(), true, null],
      base: [(2_500n * 10n ** 18n).toString(), false, 'deviation'],
    });
    // Its options: σ as the engine holds it (80 %), no strategy open.
    assert.deepEqual([market.sigma, market.strategies, market.strategiesDue, market.strategiesSettled], [(8n * 10n ** 17n).toString(), 0, 0, 0]);

    // A release over HTTP moves the planted message out of held (a wrong token does not).
    const post = (token: string) => fetch(`${d?.url ?? ''}/messages/${encodeURIComponent(heldId)}/release`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await post('not-the-token-at-all-0000000000000')).status, 401);
    assert.equal((await overview()).held.total, 1);
    const released = await post(OPS_TOKEN);
    assert.equal(released.status, 200, await released.clone().text());
    const after = await overview();
    assert.equal(after.held.total, 0);
    assert.ok(after.pending.messages.some((p) => p.id === heldId && p.status === 'finalized'));
  });

  it('serves one self-contained page under a strict CSP whose hashes pin its only script and style; no data is in its HTML', async () => {
    const m = devnet().manifest;
    d = await startTestDaemon(m, { readOnly: true });
    await plantHeld(d.daemon.store, ATTACK);
    const page = await fetch(`${d.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const csp = page.headers.get('content-security-policy') ?? '';
    const html = await page.text();
    // No data in the HTML: the page reads it at run time, as text.
    assert.ok(!html.includes('onerror="document.title') && !html.includes(m.chains.arbitrum?.contracts.vault ?? '0x?'), 'the page carries no data');
    // Nothing outside: no URL of another origin to load.
    assert.doesNotMatch(html, /\b(src|href)=["']?(https?:)?\/\//i);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handler');
    // The CSP: nothing by default, no inline code but the page's own script and style by hash.
    const directives = Object.fromEntries(csp.split(';').map((s) => s.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    assert.deepEqual(directives['default-src'], ["'none'"]);
    assert.deepEqual(directives['connect-src'], ["'self'"]);
    assert.deepEqual(directives['frame-ancestors'], ["'none'"]);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), csp);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((x) => x[1] ?? '');
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((x) => x[1] ?? '');
    assert.equal(scripts.length, 1);
    assert.equal(styles.length, 1);
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
    assert.deepEqual(directives['script-src'], [hash(scripts[0] ?? '')]);
    assert.deepEqual(directives['style-src'], [hash(styles[0] ?? '')]);
    // The script writes text, never HTML.
    assert.equal(scripts[0], STATUS_PAGE_SCRIPT);
    assert.doesNotMatch(STATUS_PAGE_SCRIPT, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    assert.doesNotMatch(STATUS_PAGE_SCRIPT, /localStorage/, 'the token is kept for the tab only (sessionStorage)');

    // Read-only: the overview says so, and an action is refused with 403.
    const o = (await (await fetch(`${d.url}/overview`)).json()) as Json<Overview>;
    assert.equal(o.actions, false);
    const refused = await fetch(`${d.url}/messages/x/release`, { method: 'POST', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    assert.equal(refused.status, 403);
  });
});
