// The ops layer: secret-free logs, metrics fed by events, and the operator's HTTP endpoints.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import pino from 'pino';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { EventBus, type RelayerEvent } from '../../relayer/pipeline/events.js';
import { createLogger, logEvents } from '../../relayer/ops/logger.js';
import { createMetrics, type Metrics } from '../../relayer/ops/metrics.js';
import { startOpsServer, type HealthReport, type OpsServer } from '../../relayer/ops/httpServer.js';
import type { RouteCounts } from '../../relayer/store/store.js';

type LogLine = Record<string, unknown> & { level: number; msg: string };

function capturedLogger(level: pino.LevelWithSilent = 'debug'): { logger: pino.Logger; lines: LogLine[]; raw: string[] } {
  const raw: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void raw.push(s) } });
  return {
    logger,
    raw,
    get lines() {
      return raw.map((s) => JSON.parse(s) as LogLine);
    },
  };
}

const SECRET_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const API_KEY = 'sk_live_abcdef123456';
const CREDENTIALED_URL = `https://relayer:hunter2@eth-mainnet.example.com/v2/${API_KEY}`;

describe('ops/logger', function () {
  it('redacts a privateKey field at the top level and nested', function () {
    const log = capturedLogger();
    log.logger.info({ privateKey: SECRET_KEY, signer: { privateKey: SECRET_KEY, address: '0xabc' } }, 'loaded signer');
    assert.equal(log.raw.length, 1);
    assert.ok(!log.raw[0]?.includes(SECRET_KEY), log.raw[0]);
    const line = log.lines[0] as LogLine & { signer: { privateKey: string; address: string } };
    assert.equal(line.privateKey, '[Redacted]');
    assert.equal(line.signer.privateKey, '[Redacted]');
    assert.equal(line.signer.address, '0xabc');
  });

  it('redacts every secret name, several levels deep', function () {
    const log = capturedLogger();
    const deep = { a: { b: { c: { password: 'p', mnemonic: 'm', secret: 's', authorization: 'Bearer t', key: 'k' } } } };
    log.logger.info(deep, 'deep');
    const c = (log.lines[0] as unknown as typeof deep).a.b.c;
    assert.deepEqual(Object.values(c), Array(5).fill('[Redacted]'));
  });

  it('carries service=isorelay on every line', function () {
    const log = capturedLogger();
    log.logger.child({ chain: 'base' }).info('hello');
    assert.equal(log.lines[0]?.service, 'isorelay');
    assert.equal(log.lines[0]?.chain, 'base');
  });

  it('strips a credentialed RPC URL from an error message, its cause and its stack', function () {
    const log = capturedLogger();
    const cause = new Error(`request to ${CREDENTIALED_URL} failed, reason: ECONNREFUSED`);
    const err = new IsorelayError(ErrorCode.RPC_UNREACHABLE, `no RPC endpoint answered: ${CREDENTIALED_URL}`, { cause });
    log.logger.error({ err }, 'scan failed');
    log.logger.error(cause, `plain error at ${CREDENTIALED_URL}`);
    assert.equal(log.raw.length, 2);
    for (const raw of log.raw) {
      assert.ok(!raw.includes(API_KEY) && !raw.includes('hunter2'), raw);
      assert.ok(raw.includes('https://eth-mainnet.example.com/…'), raw);
    }
    const first = log.lines[0] as LogLine & { err: { code: string; retryable: boolean; message: string } };
    assert.equal(first.err.code, 'RPC_UNREACHABLE');
    assert.equal(first.err.retryable, true);
    assert.match(first.err.message, /^RPC_UNREACHABLE: no RPC endpoint answered/);
  });

  describe('logEvents', function () {
    const bus = new EventBus();
    let log: ReturnType<typeof capturedLogger>;
    let stop: () => void;
    beforeEach(function () {
      log = capturedLogger();
      stop = logEvents(bus, log.logger);
    });
    afterEach(function () {
      stop();
    });

    const level = (name: pino.Level) => pino.levels.values[name];

    it('logs one line per event, and none after unsubscribing', function () {
      bus.emit({ type: 'chain.head', chain: 'base', head: 10n, finalized: 5n });
      bus.emit({ type: 'scan.range', stream: 'base:vault', from: 1n, to: 10n, logs: 2, durationMs: 12 });
      assert.equal(log.raw.length, 2);
      stop();
      bus.emit({ type: 'chain.head', chain: 'base', head: 11n, finalized: 6n });
      assert.equal(log.raw.length, 2);
    });

    it('reports catch-up progress at info (blocks scanned and remaining), and a scan at the head quietly', function () {
      bus.emit({ type: 'scan.progress', stream: 'arbitrum-base', chain: 'arbitrum', scanned: 1_000n, head: 5_000n });
      bus.emit({ type: 'scan.progress', stream: 'arbitrum-base', chain: 'arbitrum', scanned: 5_000n, head: 5_001n });
      assert.deepEqual(log.lines.map((l) => l.level), [level('info'), level('debug')]);
      assert.equal(log.lines[0]?.remaining, '4000');
      assert.match(String(log.lines[0]?.msg), /catching up: scanned to block 1000 of 5000, 4000 to go/);
    });

    it('writes bigints as strings and binds chain and tx', function () {
      bus.emit({ type: 'tx.mined', chain: 'arb', purpose: 'lzReceive', gasUsed: 123_456n, ok: true, hash: '0xfeed' });
      const line = log.lines[0];
      assert.equal(line?.level, level('info'));
      assert.equal(line?.gasUsed, '123456');
      assert.equal(line?.chain, 'arb');
      assert.equal(line?.tx, '0xfeed');
    });

    it('binds route, id and lockId to a message', function () {
      bus.emit({ type: 'message.observed', id: 'm1', route: 'base→arb', messageId: '0xlock' });
      assert.deepEqual(
        [log.lines[0]?.route, log.lines[0]?.id, log.lines[0]?.lockId, log.lines[0]?.level],
        ['base→arb', 'm1', '0xlock', level('info')],
      );
    });

    it('warns when a message goes dead, orphaned or held; logs delivery at info', function () {
      const moved = (to: 'dead' | 'orphaned' | 'held' | 'delivered' | 'verified'): RelayerEvent => ({
        type: 'message.moved', id: 'm1', route: 'base→arb', from: 'finalized', to, ageMs: 1000,
      });
      for (const to of ['dead', 'orphaned', 'held', 'delivered', 'verified'] as const) bus.emit(moved(to));
      assert.deepEqual(
        log.lines.map((l) => l.level),
        [level('warn'), level('warn'), level('warn'), level('info'), level('debug')],
      );
    });

    it('warns on stage errors and reorgs, and raises incidents to error or fatal', function () {
      bus.emit({ type: 'stage.error', stage: 'deliver', chain: 'arb', error: `timeout at ${CREDENTIALED_URL}`, retryable: true });
      bus.emit({ type: 'scan.reorg', stream: 'base:vault', ancestor: 100n, depth: 3n, orphaned: 1 });
      bus.emit({ type: 'incident', chain: 'base', code: 'REORG_BEYOND_FINALITY', message: 'final block changed' });
      bus.emit({ type: 'incident', chain: 'base', code: 'SOMETHING_ELSE', message: 'odd' });
      assert.deepEqual(
        log.lines.map((l) => l.level),
        [level('warn'), level('warn'), level('fatal'), level('error')],
      );
      assert.ok(!log.raw[0]?.includes(API_KEY), log.raw[0]);
      assert.equal(log.lines[1]?.depth, '3');
    });

    it('logs the options keeper: a settlement at info (warn when late or refused, with why), σ posted at info, and what waits without a price', function () {
      const strategy = { type: 'keeper.strategy', market: 'ETH-USD', positionKey: '0x01' } as const;
      bus.emit({ ...strategy, action: 'settle', ok: true, price: 3_310n * 10n ** 18n, payoff: -220n * 10n ** 18n, tx: '0xab' });
      bus.emit({ ...strategy, action: 'settle', ok: true, late: true, price: 3_000n * 10n ** 18n, payoff: 0n });
      bus.emit({ ...strategy, action: 'settle', ok: false, reason: `OracleDeviation(3100, 3000) at ${CREDENTIALED_URL}` });
      bus.emit({ ...strategy, action: 'liquidate', ok: true, price: 3_270n * 10n ** 18n, value: -370n * 10n ** 18n, penalty: 327n * 10n ** 17n });
      bus.emit({ type: 'keeper.volatility', market: 'ETH-USD', sigma: 1_173_250_000_000_000_000n, previous: 8n * 10n ** 17n, variance: 1n, ok: true, tx: '0xcd' });
      bus.emit({ type: 'keeper.tick', market: 'ETH-USD', ok: false, indexed: 0, candidates: 0, reason: 'no-agreeing-quorum: 1 of 3', strategiesDue: 2 });
      assert.deepEqual(log.lines.map((l) => l.level), [level('info'), level('warn'), level('warn'), level('info'), level('info'), level('warn')]);
      const msgs = log.lines.map((l) => String(l.msg));
      assert.deepEqual([msgs[0], msgs[1], msgs[3], msgs[4], msgs[5]], [
        'expired strategy settled',
        'expired strategy settled after its settle window',
        'uncovered strategy liquidated',
        'volatility posted: σ 117.32 % (was 80.00 %)',
        'no reconciled price, nobody liquidated, 2 expired strategies not settled: no-agreeing-quorum: 1 of 3',
      ]);
      assert.match(msgs[2] ?? '', /^expired strategy not settled: OracleDeviation\(3100, 3000\) at /);
      assert.ok(!log.raw[2]?.includes(API_KEY), log.raw[2]);
      assert.deepEqual([log.lines[0]?.market, log.lines[0]?.position, log.lines[0]?.price, log.lines[0]?.payoff, log.lines[0]?.tx], ['ETH-USD', '0x01', '3310000000000000000000', '-220000000000000000000', '0xab']);
      assert.equal(log.lines[3]?.penalty, '32700000000000000000');
      assert.equal(log.lines[5]?.strategiesDue, 2);
    });

    it('logs a queued settlement sent at info, one found sent meanwhile quietly, and one not sent at warn with its id, kind, chain, amount and why', function () {
      const queued = { type: 'keeper.settlementSent', id: 7n, chain: 'arbitrum', kind: 'RELEASE', trader: '0x00000000000000000000000000000000000000a0', token: '0x00000000000000000000000000000000000000b0', amount: 10n ** 18n } as const;
      bus.emit({ ...queued, ok: true, tx: '0xab', messageId: '0xcd' });
      bus.emit({ ...queued, ok: true, tx: '0xab', skipped: true });
      bus.emit({ ...queued, ok: false, reason: `not simulated: ${CREDENTIALED_URL} answered nothing` });
      assert.deepEqual(log.lines.map((l) => l.level), [level('info'), level('debug'), level('warn')]);
      assert.match(String(log.lines[1]?.msg), /^queued settlement 7 \(.*\) was sent meanwhile by someone else$/);
      assert.equal(log.lines[0]?.msg, 'queued settlement 7 (RELEASE of 1000000000000000000 of token 0x00000000000000000000000000000000000000b0 to 0x00000000000000000000000000000000000000a0 on arbitrum) sent');
      assert.deepEqual([log.lines[0]?.settlement, log.lines[0]?.chain, log.lines[0]?.kind, log.lines[0]?.amount, log.lines[0]?.tx, log.lines[0]?.messageId], ['7', 'arbitrum', 'RELEASE', '1000000000000000000', '0xab', '0xcd']);
      assert.match(String(log.lines[2]?.msg), /^queued settlement 7 \(RELEASE .* on arbitrum\) not sent, it stays queued \(tried again later; anyone may send it: isorelay send-queued --id 7\): not simulated: /);
      assert.ok(!log.raw[2]?.includes(API_KEY), log.raw[2]);
    });
  });
});

/** The value of one series in Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ops/metrics', function () {
  let bus: EventBus;
  let metrics: Metrics;
  beforeEach(function () {
    bus = new EventBus();
    metrics = createMetrics(bus);
  });
  afterEach(function () {
    metrics.dispose();
  });

  it('names every metric of its own isorelay_*, beside the standard process and Node.js metrics', async function () {
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    assert.ok(names.filter((n) => n.startsWith('isorelay_')).length >= 10, names.join(','));
    assert.deepEqual(names.filter((n) => !n.startsWith('isorelay_') && !n.startsWith('process_') && !n.startsWith('nodejs_')), []);
    for (const standard of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds'])
      assert.ok(names.includes(standard), `${standard} is exported (memory growth shows as RSS or heap)`);
  });

  it('counts a transition to delivered and observes its age in seconds', async function () {
    const series = 'isorelay_message_transitions_total{route="base→arb",from="submitted",to="delivered"}';
    assert.equal(sample(await metrics.registry.metrics(), series), undefined);
    bus.emit({ type: 'message.moved', id: 'm1', route: 'base→arb', from: 'submitted', to: 'delivered', ageMs: 42_000 });
    bus.emit({ type: 'message.moved', id: 'm2', route: 'base→arb', from: 'submitted', to: 'delivered', ageMs: 8_000 });
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, series), 2);
    assert.equal(sample(text, 'isorelay_message_delivery_age_seconds_sum{route="base→arb"}'), 50);
    assert.equal(sample(text, 'isorelay_message_delivery_age_seconds_count{route="base→arb"}'), 2);
  });

  it('sets the chain head and finalized head gauges', async function () {
    bus.emit({ type: 'chain.head', chain: 'base', head: 1_000n, finalized: 990n });
    bus.emit({ type: 'chain.head', chain: 'base', head: 1_001n, finalized: 991n });
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_chain_head_block{chain="base"}'), 1001);
    assert.equal(sample(text, 'isorelay_chain_finalized_block{chain="base"}'), 991);
  });

  it('counts reorgs, mined transactions, gas, stage errors and incidents', async function () {
    bus.emit({ type: 'scan.reorg', stream: 'base:vault', ancestor: 100n, depth: 4n, orphaned: 2 });
    bus.emit({ type: 'tx.mined', chain: 'arb', purpose: 'lzReceive', gasUsed: 100_000n, ok: true, hash: '0x1' });
    bus.emit({ type: 'tx.mined', chain: 'arb', purpose: 'lzReceive', gasUsed: 50_000n, ok: false, hash: '0x2' });
    bus.emit({ type: 'stage.error', stage: 'deliver', error: 'boom', retryable: false });
    bus.emit({ type: 'incident', chain: 'base', code: 'REORG_BEYOND_FINALITY', message: 'final block changed' });
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_reorgs_total{stream="base:vault"}'), 1);
    assert.equal(sample(text, 'isorelay_reorg_last_depth_blocks{stream="base:vault"}'), 4);
    assert.equal(sample(text, 'isorelay_txs_mined_total{chain="arb",purpose="lzReceive",ok="true"}'), 1);
    assert.equal(sample(text, 'isorelay_txs_mined_total{chain="arb",purpose="lzReceive",ok="false"}'), 1);
    assert.equal(sample(text, 'isorelay_tx_gas_used_total{chain="arb",purpose="lzReceive"}'), 150_000);
    assert.equal(sample(text, 'isorelay_stage_errors_total{stage="deliver",retryable="false"}'), 1);
    assert.equal(sample(text, 'isorelay_incidents_total{chain="base",code="REORG_BEYOND_FINALITY"}'), 1);
  });

  it('shows the engine\'s bad debt per market as the keeper reads it, in USD', async function () {
    bus.emit({ type: 'keeper.tick', market: 'ETH-USD', ok: true, indexed: 3, candidates: 0, badDebt: 209_123_456_000_000_000_000n });
    assert.equal(sample(await metrics.registry.metrics(), 'isorelay_bad_debt_usd{market="ETH-USD"}'), 209.123456);
    bus.emit({ type: 'keeper.tick', market: 'ETH-USD', ok: true, indexed: 3, candidates: 0, badDebt: 0n });
    assert.equal(sample(await metrics.registry.metrics(), 'isorelay_bad_debt_usd{market="ETH-USD"}'), 0);
  });

  it('counts the options strategies the keeper settled and liquidated, and shows those due and the market\'s σ', async function () {
    const strategy = { type: 'keeper.strategy', market: 'ETH-USD', positionKey: '0x01' } as const;
    bus.emit({ ...strategy, action: 'settle', ok: true, price: 3_310n * 10n ** 18n, payoff: -220n * 10n ** 18n, tx: '0xab' });
    bus.emit({ ...strategy, action: 'settle', ok: false, reason: 'OracleDeviation(3100, 3000)' });
    bus.emit({ ...strategy, action: 'liquidate', ok: true, price: 3_270n * 10n ** 18n, penalty: 327n * 10n ** 17n });
    bus.emit({ type: 'keeper.tick', market: 'ETH-USD', ok: false, indexed: 0, candidates: 0, reason: 'no-agreeing-quorum', strategiesDue: 2, sigma: 8n * 10n ** 17n });
    let text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_strategy_settlements_total{market="ETH-USD",ok="true"}'), 1);
    assert.equal(sample(text, 'isorelay_strategy_settlements_total{market="ETH-USD",ok="false"}'), 1);
    assert.equal(sample(text, 'isorelay_strategy_liquidations_total{market="ETH-USD",ok="true"}'), 1);
    assert.equal(sample(text, 'isorelay_strategies_due{market="ETH-USD"}'), 2);
    assert.equal(sample(text, 'isorelay_volatility{market="ETH-USD"}'), 0.8);
    bus.emit({ type: 'keeper.volatility', market: 'ETH-USD', sigma: 1_173_250_000_000_000_000n, previous: 8n * 10n ** 17n, variance: 1_376_515_562_500_000_000n, ok: true, tx: '0xcd' });
    text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_volatility{market="ETH-USD"}'), 1.17325);
  });

  it('counts the queued settlements the keeper sent or not (one sent by someone else is not its doing) and shows those pending per chain', async function () {
    const queued = { type: 'keeper.settlementSent', id: 7n, chain: 'arbitrum', kind: 'RELEASE', trader: '0xa', token: '0xb', amount: 1n } as const;
    bus.emit({ ...queued, ok: false, reason: 'FeeNotPaid(1)' });
    bus.emit({ ...queued, ok: true, tx: '0xab' });
    bus.emit({ ...queued, kind: 'SEIZE', ok: true, tx: '0xab', skipped: true });
    bus.emit({ type: 'keeper.settlementsPending', pending: [{ chain: 'arbitrum', count: 2 }, { chain: 'optimism', count: 0 }] });
    let text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_queued_settlements_sent_total{chain="arbitrum",kind="RELEASE",ok="false"}'), 1);
    assert.equal(sample(text, 'isorelay_queued_settlements_sent_total{chain="arbitrum",kind="RELEASE",ok="true"}'), 1);
    assert.equal(sample(text, 'isorelay_queued_settlements_sent_total{chain="arbitrum",kind="SEIZE",ok="true"}'), undefined);
    assert.deepEqual([sample(text, 'isorelay_queued_settlements{chain="arbitrum"}'), sample(text, 'isorelay_queued_settlements{chain="optimism"}')], [2, 0]);
    bus.emit({ type: 'keeper.settlementsPending', pending: [{ chain: 'arbitrum', count: 0 }, { chain: 'optimism', count: 0 }] });
    text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_queued_settlements{chain="arbitrum"}'), 0);
  });

  it('reads the instance\'s leases, claims, fenced sends and store health from its lease book at each scrape', async function () {
    let state = { owner: 'i1#ab', held: ['gas:0xkey', 'scan:arbitrum-base'], waiting: ['keeper'], claims: 4, storeError: null as string | null, fencedSends: 0 };
    metrics.observeInstance(() => state);
    let text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_lease_held{lease="scan:arbitrum-base"}'), 1);
    assert.equal(sample(text, 'isorelay_lease_held{lease="keeper"}'), 0);
    assert.equal(sample(text, 'isorelay_claims_in_flight'), 4);
    assert.equal(sample(text, 'isorelay_fenced_sends_total'), 0);
    assert.equal(sample(text, 'isorelay_store_up'), 1);
    state = { ...state, held: ['gas:0xkey'], waiting: ['keeper', 'scan:arbitrum-base'], fencedSends: 3, storeError: 'STORE_UNAVAILABLE: down' };
    text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_lease_held{lease="scan:arbitrum-base"}'), 0);
    assert.equal(sample(text, 'isorelay_fenced_sends_total'), 3);
    assert.equal(sample(text, 'isorelay_store_up'), 0);
  });

  it('shows scan lag, the gas key\'s balance, sub-second deliveries and the oldest pending age', async function () {
    bus.emit({ type: 'scan.progress', stream: 'arbitrum-base', chain: 'arbitrum', scanned: 1_000n, head: 1_250n });
    bus.emit({ type: 'wallet.balance', chain: 'base', address: '0xkey', wei: 1_500_000_000_000_000_000n, lowWei: 50_000_000_000_000_000n });
    bus.emit({ type: 'wallet.balance', chain: 'arbitrum', address: '0xkey', wei: 49_999_999_999_999_999n, lowWei: 50_000_000_000_000_000n });
    metrics.observeStuck(() => Promise.resolve([{ route: 'arbitrum-base', reason: 'vaa_unsigned', n: 3 }, { route: 'arbitrum-base', reason: 'seize_price', n: 1 }]));
    bus.emit({ type: 'message.moved', id: 'x', route: 'arbitrum-base', from: 'submitted', to: 'delivered', ageMs: 300 });
    metrics.observeStore({ countsByRoute: () => Promise.resolve([{ route: 'arbitrum-base', counts: { observed: 1 }, oldestPendingAt: Date.now() - 42_000 }]) });
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_scan_lag_blocks{stream="arbitrum-base",chain="arbitrum"}'), 250);
    assert.equal(sample(text, 'isorelay_wallet_balance_eth{chain="base",address="0xkey"}'), 1.5);
    assert.equal(sample(text, 'isorelay_wallet_low_balance{chain="base",address="0xkey"}'), 0);
    assert.equal(sample(text, 'isorelay_wallet_low_balance{chain="arbitrum",address="0xkey"}'), 1, 'one wei under the threshold is low');
    assert.equal(sample(text, 'isorelay_stuck_messages{route="arbitrum-base",reason="vaa_unsigned"}'), 3);
    assert.equal(sample(text, 'isorelay_stuck_messages{route="arbitrum-base",reason="seize_price"}'), 1);
    assert.equal(sample(text, 'isorelay_message_delivery_age_seconds_bucket{le="0.5",route="arbitrum-base"}'), 1);
    assert.equal(sample(text, 'isorelay_message_delivery_age_seconds_bucket{le="0.25",route="arbitrum-base"}'), 0);
    const age = sample(text, 'isorelay_oldest_pending_age_seconds{route="arbitrum-base"}') ?? -1;
    assert.ok(age >= 42 && age < 50, String(age));
  });

  it('reads message counts from the store at each scrape, zero for absent statuses', async function () {
    let counts: RouteCounts[] = [{ route: 'base→arb', counts: { observed: 3, delivered: 7 }, oldestPendingAt: null }];
    metrics.observeStore({ countsByRoute: () => Promise.resolve(counts) });
    let text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_messages{route="base→arb",status="observed"}'), 3);
    assert.equal(sample(text, 'isorelay_messages{route="base→arb",status="delivered"}'), 7);
    assert.equal(sample(text, 'isorelay_messages{route="base→arb",status="dead"}'), 0);
    counts = [{ route: 'base→arb', counts: { delivered: 10 }, oldestPendingAt: null }];
    text = await metrics.registry.metrics();
    assert.equal(sample(text, 'isorelay_messages{route="base→arb",status="observed"}'), 0);
    assert.equal(sample(text, 'isorelay_messages{route="base→arb",status="delivered"}'), 10);
  });

  it('reads the store once per scrape, however many gauges use its counts', async function () {
    let reads = 0;
    metrics.observeStore({ countsByRoute: () => { reads++; return Promise.resolve([{ route: 'r', counts: { observed: 1 }, oldestPendingAt: Date.now() }]); } });
    await metrics.registry.metrics();
    assert.equal(reads, 1);
    await metrics.registry.metrics();
    assert.equal(reads, 2, 'and again at the next scrape');
  });

  it('stops counting and frees the registry on dispose', async function () {
    const registry = metrics.registry;
    metrics.dispose();
    assert.equal((await registry.getMetricsAsJSON()).length, 0);
    metrics = createMetrics(bus, registry); // the same registry takes a new set without name clashes
    bus.emit({ type: 'chain.head', chain: 'base', head: 5n, finalized: 4n });
    assert.equal(sample(await registry.metrics(), 'isorelay_chain_head_block{chain="base"}'), 5);
  });
});

describe('ops/httpServer', function () {
  let server: OpsServer;
  let report: HealthReport;
  let metrics: Metrics;
  const bus = new EventBus();
  const log = capturedLogger('warn');

  before(async function () {
    report = { ready: false, checks: { store: { ok: true }, 'rpc:base': { ok: false, detail: 'no endpoint answered' } } };
    metrics = createMetrics(bus);
    server = await startOpsServer({
      port: 0,
      registry: metrics.registry,
      health: () => report,
      status: () => ({ routes: [{ route: 'base→arb', head: 12_345_678_901_234_567_890n, pending: 2 }] }),
      logger: log.logger,
    });
  });
  after(async function () {
    await server.close();
    metrics.dispose();
  });

  it('listens on 127.0.0.1 by default, on the free port it picked', function () {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  it('refuses connections on a non-loopback address', async function () {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    if (external === undefined) return this.skip();
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: external.address, port: server.port, timeout: 2_000 });
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('timeout', () => (socket.destroy(), resolve('timeout')));
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.notEqual(outcome, 'connected');
  });

  it('answers /healthz with 200 {ok:true}', async function () {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
  });

  it('answers /readyz 503 with the report until health turns ready, then 200', async function () {
    let res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), report);
    report = { ready: true, checks: { store: { ok: true }, 'rpc:base': { ok: true } } };
    res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as HealthReport).ready, true);
  });

  it('serves Prometheus text on /metrics', async function () {
    bus.emit({ type: 'chain.head', chain: 'base', head: 77n, finalized: 70n });
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.ok(text.includes('isorelay_'), text);
    assert.equal(sample(text, 'isorelay_chain_head_block{chain="base"}'), 77);
  });

  it('serves /status as JSON with bigints as decimal strings', async function () {
    const res = await fetch(`${server.url}/status`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { routes: [{ route: 'base→arb', head: '12345678901234567890', pending: 2 }] });
  });

  it('answers 404 to an unknown path, and 405 to a POST', async function () {
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/status/extra`)).status, 404);
    assert.equal((await fetch(`${server.url}/healthz`, { method: 'POST' })).status, 405);
  });

  it('answers 500 and logs when a handler throws', async function () {
    const failing = await startOpsServer({
      port: 0,
      registry: metrics.registry,
      health: () => report,
      status: () => {
        throw new Error(`store closed (${CREDENTIALED_URL})`);
      },
      logger: log.logger,
    });
    try {
      const res = await fetch(`${failing.url}/status`);
      assert.equal(res.status, 500);
      assert.ok(log.lines.some((l) => l.level === pino.levels.values.error && l.path === '/status'));
      assert.ok(log.raw.every((l) => !l.includes(API_KEY)));
      assert.ok(!(await res.text()).includes(API_KEY));
    } finally {
      await failing.close();
    }
  });
});
