// The message explorer (issue 12): a lock relayed end to end, then looked up by each of its ids —
// its whole history, the transaction that delivered it, the chains re-read (the source transaction,
// the engine's replay guard), and what comes next — through the library, the ops server's
// GET /messages/:id, and a message nobody knows (404).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { cli } from '../setup/cli.js';
import { explainMessage, formatMessageReport, nextStep } from '../../relayer/app/explorer.js';
import { createMetrics } from '../../relayer/ops/metrics.js';
import { startOpsServer } from '../../relayer/ops/httpServer.js';
import { lock, makeRelayer, testConfig, tickUntil, useSharedDevnet } from '../setup/devnet.js';

describe('message explorer', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();

  it('explains a delivered lock found by its lockId, guid or source tx: history, transaction, chains, next', async () => {
    const m = devnet().manifest;
    const config = testConfig(m, undefined, { batching: true });
    const dir = mkdtempSync(join(tmpdir(), 'isorelay-explorer-'));
    const sqlite = join(dir, 'relayer.sqlite');
    const { relayer, store } = makeRelayer(m, { config, store: SqliteStore.open(sqlite) });
    const l = await lock(m, 'arbitrum', { amount: 3_000_000n, positionId: 31n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).some((r) => r.messageId === l.lockId));
    const client = (c: string) => relayer.client(c);
    const [report] = await explainMessage(store, l.lockId, { config, client });
    assert.ok(report !== undefined);
    assert.equal(report.row.messageId, l.lockId);
    assert.deepEqual(report.history.map((e) => e.to).filter((s) => s !== 'failed' && s !== 'waiting'), ['observed', 'finalized', 'submitted', 'delivered']);
    assert.equal(report.history[0]?.from, null);
    assert.ok(report.history.some((e) => e.to === 'submitted' && e.tx !== null), 'the move to submitted names its transaction');
    assert.ok(report.transactions.length >= 1 && report.transactions.every((t) => t.status === 'mined'));
    assert.deepEqual(report.onChain?.source, { found: true, block: (await relayer.client('arbitrum').receipts([l.txHash]))[0]?.blockNumber.toString(), ok: true });
    assert.deepEqual(report.onChain?.destination, { executed: true, contract: m.chains.base?.contracts.engine });
    assert.equal(report.next, 'nothing: delivered');
    // The same message by its other ids.
    for (const key of [report.row.id, report.row.transportId, l.txHash]) assert.deepEqual((await explainMessage(store, key)).map((r) => r.row.id), [report.row.id], key);
    assert.match(formatMessageReport(report), /history[\s\S]*observed → finalized[\s\S]*on chain now[\s\S]*destination: executed/);

    // Over HTTP, as the daemon serves it.
    const metrics = createMetrics(relayer.events);
    const ops = await startOpsServer({
      port: 0, registry: metrics.registry, health: () => ({ ready: true, checks: {} }), status: () => ({}), logger: pino({ level: 'silent' }),
      messages: (key) => explainMessage(store, key, { config, client }),
    });
    try {
      const found = await fetch(`${ops.url}/messages/${l.lockId}`);
      assert.equal(found.status, 200);
      const body = (await found.json()) as { row: { id: string }; onChain: { destination: { executed: boolean } } }[];
      assert.equal(body[0]?.row.id, report.row.id);
      assert.equal(body[0]?.onChain.destination.executed, true);
      const missing = await fetch(`${ops.url}/messages/0xdeadbeef`);
      assert.equal(missing.status, 404);
      assert.match(((await missing.json()) as { error: string }).error, /no message known by 0xdeadbeef/);
    } finally {
      await ops.close();
      metrics.dispose();
    }

    // From the command line, beside the running relayer (the store read-only).
    const configFile = join(dir, 'relayer.yaml');
    writeFileSync(configFile, stringify(devnetRelayerConfig(m, { sqlite, logLevel: 'silent' })));
    try {
      const json = await cli(['message', l.txHash, '-c', configFile, '--json'], {});
      assert.equal(json.code, 0, json.stderr);
      const parsed = JSON.parse(json.stdout) as { row: { messageId: string }; history: unknown[]; next: string }[];
      assert.equal(parsed[0]?.row.messageId, l.lockId);
      assert.equal(parsed[0]?.next, 'nothing: delivered');
      const text = await cli(['message', l.lockId, '-c', configFile], {});
      assert.match(text.stdout, /status delivered[\s\S]*history[\s\S]*destination: executed/);
      const unknown = await cli(['message', '0xdeadbeef', '-c', configFile], {});
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /no message known by 0xdeadbeef/);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what happens next for a message waiting, held or failed', () => {
    const base = { id: 'x', srcChain: 'arbitrum', dstChain: 'base', srcBlock: 10n, dstTx: null, attempts: 2, lastError: 'waiting for an earlier nonce', resumeStatus: 'finalized', holdCode: null, nextAttemptAt: 61_000 } as const;
    const row = (status: string, o: object = {}) => ({ ...base, status, ...o }) as unknown as Parameters<typeof nextStep>[0];
    assert.match(nextStep(row('failed', { reasonCode: 'tx_failed', lastError: 'reverted on chain' }), 1_000), /tried again in 1m 00s \(attempt 3\), from finalized; last: tx_failed: reverted on chain/);
    assert.match(nextStep(row('waiting', { reasonCode: 'nonce_order' }), 1_000), /waits \(nonce_order: waiting for an earlier nonce\); looked at again in 1m 00s, from finalized/);
    assert.match(nextStep(row('held', { holdCode: 'credit_cap' }), 0), /waits for an operator \(held: credit_cap\): isorelay held release x/);
    assert.match(nextStep(row('observed'), 0), /waits for block 10 of arbitrum to be final/);
  });
});
