// The keeper's follow-up of the engine's queue, with a fake engine: a settlement waits the grace from
// when its log is first read, is sent only while the engine still holds it, forgotten once sent by
// anyone, tried again after a failure (backing off, capped); a tick reads and sends a bounded number;
// the pending gauge counts per chain those past the grace, 0 for a chain that has none left. And the
// send itself: one simulated batch paying every fee, one that reverts alone left out with its reason.
import assert from 'node:assert/strict';
import { ZeroHash } from 'ethers';
import type { ChainClient } from '../../relayer/chains/client.js';
import { RpcResponseError } from '../../relayer/chains/rpc.js';
import type { TxSender } from '../../relayer/chains/tx/sender.js';
import { engineIface } from '../../relayer/liquidation/engineAbi.js';
import { PENDING_READS_PER_TICK, PENDING_RETRY_MAX_MS, PENDING_SENDS_PER_TICK, PendingSettlements } from '../../relayer/liquidation/pendingSettlements.js';
import { QueuedSettlements, settlementArg, type QueuedSettlement, type SendOutcome } from '../../relayer/liquidation/queuedSettlements.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { EventBus, type RelayerEvent } from '../../relayer/pipeline/events.js';

const ENGINE = '0x00000000000000000000000000000000000000e1';
const TRADER = '0x00000000000000000000000000000000000000a0';
const TOKEN = '0x00000000000000000000000000000000000000b0';
const CHAINS: Record<string, string> = { '42161': 'arbitrum', '10': 'optimism' };

const settlement = (id: bigint, chainId = 42161n): QueuedSettlement => ({
  id, chainId, kind: 'RELEASE', trader: TRADER, positionId: 7n, token: TOKEN, amount: 1_000n + id, market: ZeroHash, price: 0n,
});
/** The engine's SettlementQueued log of `s`, as a scan reads it. */
const logOf = (s: QueuedSettlement, removed = false) => ({ ...engineIface.encodeEventLog('SettlementQueued', [s.id, s.chainId, settlementArg(s)]), removed });

/** A fake engine: the ids still queued (queuedSettlements(id) ≠ 0), the reads it answered, and a sender that fails while told to. */
function harness(graceMs = 5_000) {
  let now = 1_000_000;
  const queued = new Set<bigint>();
  const reads: bigint[][] = [];
  const sends: bigint[][] = [];
  let failing: string | null = null;
  const events: RelayerEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const client = {
    calls: (requests: { to: string; data: string }[]) => {
      const ids = requests.map((r) => engineIface.decodeFunctionData('queuedSettlements', r.data)[0] as bigint);
      reads.push(ids);
      return Promise.resolve(ids.map((id) => (queued.has(id) ? `0x${'ab'.repeat(32)}` : ZeroHash)));
    },
  };
  const sender = {
    send: (batch: readonly QueuedSettlement[]): Promise<SendOutcome> => {
      sends.push(batch.map((s) => s.id));
      if (failing !== null) return Promise.resolve({ sent: [], skipped: [], failed: batch.map((s) => ({ id: s.id, reason: failing as string })) });
      for (const s of batch) queued.delete(s.id);
      return Promise.resolve({ sent: batch.map((s) => ({ id: s.id, messageId: ZeroHash, tx: '0xt' })), skipped: [], failed: [] });
    },
  };
  const pending = new PendingSettlements({
    client, engine: ENGINE, chain: 'base', queued: sender, events: bus, graceMs, now: () => now,
    chainName: (id) => CHAINS[id.toString()] ?? `chain ${id}`,
  });
  const gauge = () => {
    const last = events.filter((e): e is Extract<RelayerEvent, { type: 'keeper.settlementsPending' }> => e.type === 'keeper.settlementsPending').at(-1);
    return Object.fromEntries((last?.pending ?? []).map((p) => [p.chain, p.count]));
  };
  return {
    pending, queued, reads, sends, gauge, client, events,
    queue: (...ss: QueuedSettlement[]) => {
      for (const s of ss) queued.add(s.id);
      pending.observe(ss.map((s) => logOf(s)));
    },
    advance: (ms: number) => (now += ms),
    fail: (reason: string | null) => (failing = reason),
  };
}

describe('keeper: the engine\'s queued settlements', () => {
  it('waits the grace from the first read of the log, then sends what is still queued in one batch and forgets it', async () => {
    const h = harness();
    h.queue(settlement(1n), settlement(2n, 10n));
    let r = await h.pending.sweep();
    assert.deepEqual([h.reads, h.sends, r.pending], [[], [], 0], 'within the grace: nothing read or sent');
    h.advance(5_000);
    r = await h.pending.sweep();
    assert.deepEqual(h.reads, [[1n, 2n]]);
    assert.deepEqual(h.sends, [[1n, 2n]], 'one batch, every chain');
    assert.deepEqual([r.sent, r.pending, h.pending.size], [[1n, 2n], 0, 0]);
    assert.deepEqual(h.gauge(), { arbitrum: 0, optimism: 0 });
    h.advance(60_000);
    await h.pending.sweep();
    assert.deepEqual([h.reads.length, h.sends.length], [1, 1], 'forgotten: not read or sent again');
  });

  it('forgets without sending a settlement someone else sent, and one whose log a reorg removed; a log read twice is one settlement', async () => {
    const h = harness();
    const [a, b, c] = [settlement(1n), settlement(2n), settlement(3n)];
    h.queue(a, b, c);
    h.pending.observe([logOf(a)]);
    h.pending.observe([logOf(c, true)]);
    assert.equal(h.pending.size, 2);
    h.queued.delete(1n); // a trader sent it (isorelay send-queued)
    h.advance(5_000);
    const r = await h.pending.sweep();
    assert.deepEqual([r.gone, r.sent, h.sends], [[1n], [2n], [[2n]]]);
  });

  it('tries a failed send again after a growing wait (the grace, doubled each time, at most 5 minutes), counting it pending meanwhile', async () => {
    const h = harness(5_000);
    h.queue(settlement(1n));
    h.advance(5_000);
    h.fail('FeeNotPaid(1)');
    let r = await h.pending.sweep();
    assert.deepEqual([r.failed, r.pending, h.gauge()], [[{ id: 1n, reason: 'FeeNotPaid(1)' }], 1, { arbitrum: 1 }]);
    const tries = [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, PENDING_RETRY_MAX_MS, PENDING_RETRY_MAX_MS];
    for (const wait of tries) {
      h.advance(wait - 1);
      await h.pending.sweep();
      const before = h.sends.length;
      h.advance(1);
      await h.pending.sweep();
      assert.equal(h.sends.length, before + 1, `tried again ${wait} ms after the last try, not before`);
    }
    h.fail(null);
    h.advance(PENDING_RETRY_MAX_MS);
    r = await h.pending.sweep();
    assert.deepEqual([r.sent, r.pending, h.gauge()], [[1n], 0, { arbitrum: 0 }]);
  });

  it('reports a pass the node could not serve as a retryable stage error and keeps every settlement for the next tick', async () => {
    const h = harness(0);
    h.queue(settlement(1n));
    const calls = h.client.calls;
    h.client.calls = () => Promise.reject(new IsorelayError(ErrorCode.RPC_UNREACHABLE, 'base: no RPC endpoint answered'));
    assert.equal(await h.pending.tick(), null);
    const error = h.events.find((e) => e.type === 'stage.error');
    assert.deepEqual(error, { type: 'stage.error', stage: 'keeper.sendQueued', chain: 'base', error: 'RPC_UNREACHABLE: base: no RPC endpoint answered', retryable: true });
    h.client.calls = calls;
    assert.deepEqual((await h.pending.tick())?.sent, [1n]);
  });

  it('reads and sends a bounded number per tick, oldest id first; a backlog is worked off over the next ticks', async () => {
    const h = harness(0);
    const backlog = Array.from({ length: 620 }, (_, i) => settlement(BigInt(620 - i)));
    h.queue(...backlog);
    for (const s of backlog.filter((x) => x.id % 2n === 0n)) h.queued.delete(s.id); // half sent long ago
    const r = await h.pending.sweep();
    assert.equal(h.reads.flat().length, PENDING_READS_PER_TICK);
    assert.ok(h.reads.every((batch) => batch.length <= 250), 'in requests of 250 reads at most');
    assert.deepEqual(h.reads.flat().slice(0, 3), [1n, 2n, 3n]);
    assert.deepEqual(h.sends, [Array.from({ length: PENDING_SENDS_PER_TICK }, (_, i) => BigInt(2 * i + 1))]);
    assert.equal(r.gone.length, PENDING_READS_PER_TICK / 2);
    assert.equal(r.pending, 620 - PENDING_READS_PER_TICK / 2 - PENDING_SENDS_PER_TICK, 'those not read yet count as owed');
    for (let tick = 0; tick < 10 && h.pending.size > 0; tick++) await h.pending.sweep();
    assert.equal(h.pending.size, 0);
    assert.deepEqual(h.sends.flat().sort((x, y) => (x < y ? -1 : 1)), backlog.map((s) => s.id).filter((id) => id % 2n === 1n).sort((x, y) => (x < y ? -1 : 1)), 'each still-queued one sent once');
  });
});

describe('keeper: sending queued settlements (QueuedSettlements)', () => {
  /** A fake engine chain: quotes a fee of 10 per settlement; a batch reverts while it holds an id in `refuses`; mined batches emit SettlementSent but for `alreadySent`. */
  function chain(o: { refuses?: Map<bigint, string>; alreadySent?: Set<bigint> } = {}) {
    const simulated: bigint[][] = [];
    const submitted: { ids: bigint[]; value: bigint }[] = [];
    const events: RelayerEvent[] = [];
    const bus = new EventBus();
    bus.on((e) => events.push(e));
    const idsOf = (data: string) => [...(engineIface.decodeFunctionData('sendQueuedMany', data)[0] as bigint[])];
    const client = {
      calls: (requests: { data: string }[]) => Promise.resolve(requests.map(() => `0x${(10n).toString(16).padStart(64, '0')}`)),
      rpc: {
        call: (_method: string, params: unknown[]) => {
          const ids = idsOf((params[0] as { data: string }).data);
          simulated.push(ids);
          const refused = ids.find((id) => o.refuses?.has(id));
          if (refused === undefined) return Promise.resolve('0x');
          return Promise.reject(new RpcResponseError('eth_call', 3, 'execution reverted', engineIface.encodeErrorResult(o.refuses?.get(refused) as string, [refused])));
        },
      },
    };
    const sender = {
      address: '0x00000000000000000000000000000000000000c0',
      submit: (req: { data: string; value?: bigint }) => {
        const ids = idsOf(req.data);
        submitted.push({ ids, value: req.value ?? 0n });
        const settlements = engineIface.decodeFunctionData('sendQueuedMany', req.data)[1] as unknown[][];
        const logs = ids.flatMap((id, i) => {
          if (o.alreadySent?.has(id)) return [];
          const s = settlements[i] as [bigint, bigint, string, bigint, string, bigint];
          const messageId = `0x${id.toString(16).padStart(64, '0')}`;
          return [{ address: ENGINE, ...engineIface.encodeEventLog('SettlementSent', [messageId, s[0], s[1], s[2], s[3], s[4], s[5], ZeroHash]) }];
        });
        return Promise.resolve({ status: 1, transactionHash: '0xt', logs });
      },
    };
    const queued = new QueuedSettlements({
      client: client as unknown as ChainClient, sender: sender as unknown as TxSender, // the fakes answer the calls QueuedSettlements makes, no more
      engine: ENGINE, events: bus, chainName: (id) => CHAINS[id.toString()] ?? `chain ${id}`, leases: () => ({}),
    });
    return { queued, simulated, submitted, events };
  }

  it('simulates the batch, pays every fee, and names each settlement\'s vault message; one sent meanwhile is skipped', async () => {
    const c = chain({ alreadySent: new Set([2n]) });
    const out = await c.queued.send([settlement(1n), settlement(2n), settlement(3n, 10n)]);
    assert.deepEqual(c.simulated, [[1n, 2n, 3n]]);
    assert.deepEqual(c.submitted, [{ ids: [1n, 2n, 3n], value: 30n }]);
    assert.deepEqual(out.sent.map((x) => [x.id, x.messageId]), [[1n, `0x${'1'.padStart(64, '0')}`], [3n, `0x${'3'.padStart(64, '0')}`]]);
    assert.deepEqual(out.skipped, [2n]);
    const announced = c.events.filter((e): e is Extract<RelayerEvent, { type: 'keeper.settlementSent' }> => e.type === 'keeper.settlementSent');
    assert.deepEqual(announced.map((e) => [e.id, e.ok, e.skipped, e.chain, e.kind]), [[1n, true, undefined, 'arbitrum', 'RELEASE'], [2n, true, true, 'arbitrum', 'RELEASE'], [3n, true, undefined, 'optimism', 'RELEASE']]);
  });

  it('leaves out one that reverts alone, with the engine\'s reason, and sends the others', async () => {
    const c = chain({ refuses: new Map([[2n, 'NoReturnRoute']]) });
    const out = await c.queued.send([settlement(1n), settlement(2n), settlement(3n)]);
    assert.deepEqual(c.simulated, [[1n, 2n, 3n], [1n], [2n], [3n]]);
    assert.deepEqual(c.submitted, [{ ids: [1n, 3n], value: 20n }]);
    assert.deepEqual(out.failed, [{ id: 2n, reason: 'NoReturnRoute(2)' }]);
    assert.deepEqual(out.sent.map((x) => x.id), [1n, 3n]);
  });
});
