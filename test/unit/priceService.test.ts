// The price service's pure parts: the reconciliation policy drawn from a market's config, the
// mark's alpha, refusing an unknown market before any chain is touched, and how `isorelay
// prices` writes a 1e18 price.
import assert from 'node:assert/strict';
import { formatPrice } from '../../relayer/cli/commands/prices.js';
import { parseConfig } from '../../relayer/config/load.js';
import type { Config, RawConfig } from '../../relayer/config/schema.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { markAlphaOf, policyOf, PriceService } from '../../relayer/oracle/priceService.js';
import { reconcilePrices, WAD, type FeedReading } from '../../relayer/oracle/reconcile.js';

const addr = (n: number): string => '0x' + n.toString(16).padStart(40, '0');
const lz = (eid: number) => ({ eid, endpoint: addr(1), receiveUln302: addr(2), sendUln302: addr(3), dvn: addr(4) });
const NOW = 1_700_000_000n;

/** A config whose ETH-USD market has three chains: two with a sequencer feed, base without one. */
function configWith(market: Partial<NonNullable<RawConfig['markets']>[string]> = {}): Config {
  return parseConfig({
    chains: {
      arbitrum: { chainId: 42161, rpcUrls: ['http://127.0.0.1:9'], verifyQuorum: 1, layerzero: lz(30110), vault: addr(10) },
      optimism: { chainId: 10, rpcUrls: ['http://127.0.0.1:9'], verifyQuorum: 1, layerzero: lz(30111), vault: addr(12) },
      base: { chainId: 8453, rpcUrls: ['http://127.0.0.1:9'], verifyQuorum: 1, layerzero: lz(30184), engine: addr(11) },
    },
    routes: [{ name: 'arbitrum-base', source: 'arbitrum', destination: 'base', transport: 'layerzero' }],
    keys: { relayer: { env: 'ISORELAY_RELAYER_KEY' }, dvnSigner: { env: 'ISORELAY_DVN_SIGNER_KEY' } },
    store: { sqlite: ':memory:' },
    markets: {
      'ETH-USD': {
        quorum: 2,
        maxDeviationBps: 150,
        feeds: {
          arbitrum: { aggregator: addr(20), heartbeatSeconds: 3_600, sequencerFeed: addr(21), sequencerGraceSeconds: 600 },
          optimism: { aggregator: addr(22), heartbeatSeconds: 1_200, sequencerFeed: addr(23) },
          base: { aggregator: addr(24), heartbeatSeconds: 86_400 },
        },
        ...market,
      },
    },
  });
}

const ethUsd = (c: Config) => c.markets['ETH-USD'] ?? assert.fail('no ETH-USD market');

function reading(chain: string, o: Partial<FeedReading> = {}): FeedReading {
  return {
    chain, answer: 3_000n * 10n ** 8n, decimals: 8, roundId: 1n, answeredInRound: 1n, startedAt: NOW - 10n, updatedAt: NOW - 10n,
    minAnswer: 1n, maxAnswer: 10n ** 14n, sequencer: null, ...o,
  };
}

describe('policyOf', () => {
  it('takes quorum, deviation and each chain\'s heartbeat and grace from the market config', () => {
    const p = policyOf(ethUsd(configWith()));
    assert.deepEqual(p, {
      quorum: 2,
      maxDeviationBps: 150,
      chains: {
        arbitrum: { heartbeatSeconds: 3_600, sequencerGraceSeconds: 600 },
        optimism: { heartbeatSeconds: 1_200, sequencerGraceSeconds: 3_600 }, // the schema's default grace
        base: { heartbeatSeconds: 86_400, sequencerGraceSeconds: null },
      },
    });
  });

  it('gives a chain without a sequencer feed no grace, although the schema defaults one', () => {
    const market = ethUsd(configWith());
    assert.equal(market.feeds.base?.sequencerGraceSeconds, 3_600, 'the schema fills in a grace for every feed');
    assert.equal(policyOf(market).chains.base?.sequencerGraceSeconds, null);
  });

  it('lets reconciliation use the chain without a sequencer feed, and still demand one where configured', () => {
    const policy = policyOf(ethUsd(configWith()));
    const up = { down: false, startedAt: NOW - 86_400n };
    const ok = reconcilePrices([reading('arbitrum', { sequencer: up }), reading('optimism', { sequencer: up }), reading('base')], policy, NOW);
    assert.ok(ok.ok, JSON.stringify(ok.excluded));
    assert.deepEqual(ok.sources.map((s) => s.chain), ['arbitrum', 'optimism', 'base']);
    // The same readings without optimism's sequencer status: that chain is not trusted blind.
    const blind = reconcilePrices([reading('arbitrum', { sequencer: up }), reading('optimism'), reading('base')], policy, NOW);
    assert.deepEqual(blind.excluded.map((e) => [e.chain, e.reason]), [['optimism', 'sequencer-unknown']]);
  });

  it('applies each chain\'s own heartbeat', () => {
    const policy = policyOf(ethUsd(configWith()));
    const up = { down: false, startedAt: NOW - 86_400n };
    const old = { updatedAt: NOW - 1_201n, startedAt: NOW - 1_201n };
    const res = reconcilePrices([reading('arbitrum', { ...old, sequencer: up }), reading('optimism', { ...old, sequencer: up }), reading('base', old)], policy, NOW);
    assert.deepEqual(res.excluded.map((e) => [e.chain, e.reason]), [['optimism', 'stale']]);
  });
});

describe('markAlphaOf', () => {
  it('is markEmaBps · 1e14: 10000 bps is the median itself', () => {
    assert.equal(markAlphaOf(ethUsd(configWith())), 2_000n * 10n ** 14n, 'the schema default, 2000 bps');
    assert.equal(markAlphaOf(ethUsd(configWith({ markEmaBps: 10_000 }))), WAD);
    assert.equal(markAlphaOf(ethUsd(configWith({ markEmaBps: 1 }))), 10n ** 14n);
  });
});

describe('PriceService without a chain', () => {
  const noClients = (chain: string): never => assert.fail(`no chain should be touched, asked for ${chain}`);

  it('has no mark for a market before its first reconciliation', () => {
    const service = new PriceService(configWith(), noClients);
    assert.deepEqual(service.markets, ['ETH-USD']);
    assert.equal(service.mark('ETH-USD'), null);
  });

  it('refuses an unknown market with MARKET_UNKNOWN, naming the configured ones', async () => {
    const service = new PriceService(configWith(), noClients);
    const isUnknown = (e: unknown) =>
      e instanceof IsorelayError && e.code === ErrorCode.MARKET_UNKNOWN && e.message.includes('"BTC-USD"') && e.guidance.some((g) => g.includes('ETH-USD')) && !e.retryable;
    await assert.rejects(service.reconcile('BTC-USD'), isUnknown);
    assert.throws(() => service.mark('BTC-USD'), isUnknown);
    assert.throws(() => service.policy('BTC-USD'), isUnknown);
  });

  it('does not take an inherited property for a market', () => {
    const service = new PriceService(configWith(), noClients);
    assert.throws(() => service.mark('toString'), (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.MARKET_UNKNOWN);
  });
});

describe('formatPrice', () => {
  it('writes a 1e18 value exactly, with at least two decimals', () => {
    assert.equal(formatPrice(3_000n * WAD), '3000.00');
    assert.equal(formatPrice(3_000n * WAD + WAD / 2n), '3000.50');
    assert.equal(formatPrice(1_234_567_890_000_000_000n), '1.23456789');
    assert.equal(formatPrice(1n), '0.000000000000000001');
    assert.equal(formatPrice(0n), '0.00');
    assert.equal(formatPrice(-3n * WAD / 2n), '-1.50');
  });
});
