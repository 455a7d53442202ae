// PriceService on the devnet: one request per chain, reconciled at the chains' own time, and the
// mark price as an EMA of the reconciled medians that a failed reconciliation leaves alone.
import assert from 'node:assert/strict';
import { ChainClient } from '../../relayer/chains/client.js';
import type { Config, RawConfig } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { PriceService } from '../../relayer/oracle/priceService.js';
import { WAD } from '../../relayer/oracle/reconcile.js';
import { provider, testConfig, useSharedDevnet, setFeedAnswer, setSequencerDown } from '../setup/devnet.js';
import { startFaultyRpc } from '../setup/faultyRpc.js';

const MARKET = 'ETH-USD';
const usd = (x: bigint): bigint => x * 10n ** 8n; // the devnet feeds' 8 decimals

/** The devnet config with the given EMA weight, and no sequencer grace: a sequencer back up counts at once. */
function configOf(m: DevnetManifest, markEmaBps: number, edit: (raw: RawConfig) => void = () => undefined): Config {
  return testConfig(m, (raw) => {
    const market = raw.markets?.[MARKET];
    if (market === undefined) throw new Error('the devnet config has no ETH-USD market');
    market.markEmaBps = markEmaBps;
    for (const feed of Object.values(market.feeds)) if (feed.sequencerFeed !== undefined) feed.sequencerGraceSeconds = 0;
    edit(raw);
  });
}

const serviceOf = (config: Config, now?: () => number): PriceService =>
  new PriceService(config, (chain) => new ChainClient(chain, config.chains[chain] ?? assert.fail(`no chain ${chain}`)), now === undefined ? {} : { now });

const setAnswer = (m: DevnetManifest, chain: string, answer8: bigint) => setFeedAnswer(m, [chain], answer8);

describe('PriceService on the devnet', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();

  it('reads each configured chain with one HTTP request and reconciles at the newest block time of them', async () => {
    const m = devnet().manifest;
    // A counting proxy in front of each chain: only the service talks through them.
    const proxies = await Promise.all(Object.values(m.chains).map(async (c) => [c.name, await startFaultyRpc(c.rpcUrl)] as const));
    const config = configOf(m, 2_000, (raw) => {
      for (const [name, proxy] of proxies) {
        const c = raw.chains[name];
        if (c !== undefined) c.rpcUrls = [proxy.url];
      }
    });
    const service = serviceOf(config, () => assert.fail('the clock is not needed when the chains give their time'));
    // Base's clock runs 100 s ahead of the others (reverted with the snapshot after the test).
    await provider(m, 'base').send('evm_increaseTime', [100]);
    await provider(m, 'base').send('evm_mine', []);
    let prices;
    try {
      prices = await service.reconcile(MARKET);
      assert.deepEqual(proxies.map(([name, p]) => [name, p.requests]).sort(), [['arbitrum', 1], ['base', 1], ['optimism', 1]]);
    } finally {
      await Promise.all(proxies.map(([, p]) => p.close()));
    }
    assert.deepEqual(prices.readings.map((r) => r.chain), Object.keys(config.markets[MARKET]?.feeds ?? {}));
    const times = prices.readings.map((r) => r.blockTimestamp ?? assert.fail(`${r.chain}: no block timestamp`));
    const baseTime = prices.readings[2]?.blockTimestamp ?? assert.fail('no base reading');
    assert.ok(times.every((t) => t === baseTime || t + 90n < baseTime), `base is ahead: ${times.join(', ')}`);
    assert.equal(prices.now, baseTime, 'now is the newest block time');
    assert.ok(prices.result.ok, JSON.stringify(prices.result.excluded));
    assert.equal(prices.result.median, 3_000n * WAD);
    assert.equal(prices.result.sources.length, 3);
  });

  it('keeps the mark as an EMA of the medians (alpha = markEmaBps · 1e14), untouched by a failed reconciliation', async () => {
    const m = devnet().manifest;
    const service = serviceOf(configOf(m, 2_000));
    assert.equal(service.mark(MARKET), null);

    const first = await service.reconcile(MARKET);
    assert.ok(first.result.ok);
    assert.equal(service.mark(MARKET), 3_000n * WAD, 'the first median is the mark');

    // Two chains move to 3100: the median follows them (base, 3.2 % off, is dropped); the mark moves 20 % of the way.
    await setAnswer(m, 'arbitrum', usd(3_100n));
    await setAnswer(m, 'optimism', usd(3_100n));
    const moved = await service.reconcile(MARKET);
    assert.ok(moved.result.ok);
    assert.equal(moved.result.median, 3_100n * WAD);
    assert.deepEqual(moved.result.excluded.map((e) => [e.chain, e.reason]), [['base', 'deviation']]);
    assert.equal(service.mark(MARKET), 3_020n * WAD);
    await service.reconcile(MARKET);
    assert.equal(service.mark(MARKET), 3_036n * WAD);

    // Both sequencers down: one source left, no quorum, no price — and the mark stays where it was.
    await setSequencerDown(m, 'arbitrum', true);
    await setSequencerDown(m, 'optimism', true);
    const failed = await service.reconcile(MARKET);
    assert.equal(failed.result.ok, false);
    assert.equal(failed.result.ok ? '' : failed.result.reason, 'no-quorum');
    assert.equal(service.mark(MARKET), 3_036n * WAD);

    // Back up (no grace here): the EMA resumes from the last mark, not from the failure.
    await setSequencerDown(m, 'arbitrum', false);
    await setSequencerDown(m, 'optimism', false);
    assert.ok((await service.reconcile(MARKET)).result.ok);
    assert.equal(service.mark(MARKET), 3_036n * WAD + (64n * WAD * 2_000n) / 10_000n);
  });

  it('with markEmaBps 10000 the mark is the latest median', async () => {
    const m = devnet().manifest;
    const service = serviceOf(configOf(m, 10_000));
    await service.reconcile(MARKET);
    await setAnswer(m, 'arbitrum', usd(3_050n));
    await setAnswer(m, 'optimism', usd(3_050n));
    const res = await service.reconcile(MARKET);
    assert.ok(res.result.ok);
    assert.equal(res.result.median, 3_050n * WAD);
    assert.equal(service.mark(MARKET), 3_050n * WAD);
  });

  it('falls back to the clock when no chain answered, and fails closed', async () => {
    const m = devnet().manifest;
    const config = configOf(m, 2_000, (raw) => {
      for (const c of Object.values(raw.chains)) c.rpcUrls = ['http://127.0.0.1:9'];
    });
    const service = serviceOf(config, () => 1_700_000_000_999);
    const prices = await service.reconcile(MARKET);
    assert.equal(prices.now, 1_700_000_000n);
    assert.equal(prices.result.ok, false);
    assert.deepEqual(prices.result.excluded.map((e) => [e.chain, e.reason]), [['arbitrum', 'read-failed'], ['optimism', 'read-failed'], ['base', 'read-failed']]);
    assert.equal(service.mark(MARKET), null);
  });
});
