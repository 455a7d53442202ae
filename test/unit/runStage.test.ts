// How a step's result is persisted: backoff on retries, dead after the attempts run out — except
// for infrastructure failures (an RPC or an API down), which must never make a message dead. And
// how a stage shares work: it claims messages in leases, and an instance that lost its claim
// (paused past it) neither records an outcome nor keeps the message from the new holder.
import assert from 'node:assert/strict';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { applyResult, StageRunner } from '../../relayer/pipeline/runStage.js';
import { EventBus } from '../../relayer/pipeline/events.js';
import type { StepResult } from '../../relayer/pipeline/stage.js';
import { LeaseBook } from '../../relayer/store/leases.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { MessageRow, NewMessage, Store } from '../../relayer/store/store.js';

const retry = { baseMs: 100, maxMs: 1_000, maxAttempts: 3 };
const newMessage: NewMessage = {
  id: 'layerzero:0x01', route: 'r', transport: 'layerzero', transportId: '0x01', srcChain: 'a', dstChain: 'b', messageId: null,
  kind: 'CREDIT', srcTx: '0xaa', srcBlock: 1n, srcBlockHash: '0xbb', logIndex: 0, payload: '{}', sequence: null,
};

async function fresh(): Promise<Store> {
  const store = SqliteStore.open(':memory:');
  await store.observe([newMessage], 0);
  await store.transition(newMessage.id, 'observed', 'finalized', {}, 0);
  return store;
}

const current = async (store: Store): Promise<MessageRow> => (await store.get(newMessage.id)) as MessageRow;

describe('applyResult', () => {
  it('makes a message dead when counted retries run out, with the last reason', async () => {
    const store = await fresh();
    for (let i = 0; i < 3; i++) await applyResult(store, new EventBus(), await current(store), { kind: 'retry', code: 'revert', reason: 'reverted' }, retry, 1_000 * i, null);
    const row = await store.get(newMessage.id);
    assert.equal(row?.status, 'dead');
    assert.match(row?.lastError ?? '', /gave up after 3 attempts: reverted/);
  });

  it('never makes a message dead for infrastructure failures, however long they last', async () => {
    const store = await fresh();
    for (let i = 0; i < 50; i++)
      await applyResult(store, new EventBus(), await current(store), { kind: 'retry', code: 'unavailable', reason: 'RPC_UNREACHABLE', infrastructure: true }, retry, 1_000 * i, null);
    const row = await store.get(newMessage.id);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.resumeStatus, 'finalized');
    assert.equal(row?.attempts, 50);
    assert.ok((row?.nextAttemptAt ?? 0) > 49_000 + 700, 'backs off up to maxMs');
  });

  it('waits without counting an attempt, and resumes to the status it waited in', async () => {
    const store = await fresh();
    await applyResult(store, new EventBus(), await current(store), { kind: 'wait', code: 'vaa_unsigned', reason: 'VAA not signed yet' }, retry, 5, null);
    const row = await store.get(newMessage.id);
    // Waiting is not failing: its own status, its code, no attempt.
    assert.deepEqual([row?.status, row?.reasonCode, row?.resumeStatus, row?.attempts, row?.nextAttemptAt], ['waiting', 'vaa_unsigned', 'finalized', 0, 105]);
    assert.deepEqual((await store.due('finalized', 104, 10)).length, 0);
    assert.deepEqual((await store.due('finalized', 105, 10)).map((r) => r.id), [newMessage.id]);
    assert.deepEqual((await store.history(newMessage.id)).at(-1)?.code, 'vaa_unsigned');
  });

  it('looks at a message that has waited long less often, never beyond 10 s, and never counts its waits', async () => {
    const store = await fresh();
    const slow = { baseMs: 100, maxMs: 300_000, maxAttempts: 3 };
    // Observed at 0: at 60 s of age it is looked at again 3 s later; at an hour, 10 s later.
    await applyResult(store, new EventBus(), await current(store), { kind: 'wait', code: 'vaa_unsigned', reason: 'x' }, slow, 60_000, null);
    assert.equal((await current(store)).nextAttemptAt, 63_000);
    await applyResult(store, new EventBus(), await current(store), { kind: 'wait', code: 'vaa_unsigned', reason: 'x' }, slow, 3_600_000, null);
    const row = await current(store);
    assert.deepEqual([row.status, row.nextAttemptAt, row.attempts, row.resumeStatus], ['waiting', 3_610_000, 0, 'finalized']);
  });

  it('keeps a wait on work under way short however old the message (a path\'s nonces follow each other closely)', async () => {
    const store = await fresh();
    const slow = { baseMs: 100, maxMs: 300_000, maxAttempts: 3 };
    for (const code of ['nonce_order', 'dvn_verification', 'confirmation'] as const) {
      await applyResult(store, new EventBus(), await current(store), { kind: 'wait', code, reason: 'x' }, slow, 3_600_000, null);
      assert.equal((await current(store)).nextAttemptAt, 3_600_100, code);
    }
  });

  it('gives every outcome its code and clears it when the message moves on', async () => {
    const store = await fresh();
    const bus = new EventBus();
    const seen: unknown[] = [];
    bus.on((e) => { if (e.type === 'message.moved') seen.push(e.code); });
    await applyResult(store, bus, await current(store), { kind: 'retry', code: 'tx_failed', reason: 'reverted on chain' }, retry, 1, null);
    assert.equal((await current(store)).reasonCode, 'tx_failed');
    await applyResult(store, bus, await current(store), { kind: 'advance', to: 'verified' }, retry, 2, null);
    assert.equal((await current(store)).reasonCode, null);
    await applyResult(store, bus, await current(store), { kind: 'drop', to: 'dead', code: 'rejected', reason: 'AlreadyProcessed' }, retry, 3, null);
    assert.deepEqual([(await current(store)).status, (await current(store)).reasonCode], ['dead', 'rejected']);
    assert.deepEqual(seen, ['tx_failed', undefined, 'rejected']);
    assert.deepEqual((await store.history(newMessage.id)).map((e) => e.code), [null, null, 'tx_failed', null, 'rejected']);
  });
});

describe('an error that is not one of ours', () => {
  it('is retried a few times, then parks the message as held (internal) with an incident, instead of retrying forever', async () => {
    const store = await fresh();
    const events = new EventBus();
    const seen: string[] = [];
    events.on((e) => {
      if (e.type === 'incident') seen.push(e.code);
    });
    const book = new LeaseBook(store, { owner: 'A', ttlMs: 60_000 });
    let now = 10_000;
    const r = new StageRunner({
      name: 'deliver', statuses: ['finalized'], store, events, retry, concurrency: 1, routes: () => ['r'], book, now: () => now,
      step: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'nonce')")),
    });
    for (let i = 0; i < retry.maxAttempts + 2; i++) {
      await r.pump();
      await r.drain();
      now += 60_000; // past any backoff
    }
    const row = await store.get(newMessage.id);
    assert.equal(row?.status, 'held');
    assert.equal(row?.holdCode, 'internal');
    assert.match(row?.lastError ?? '', /parked after 3 attempts: internal error: Cannot read properties/);
    assert.deepEqual(seen, ['INTERNAL_ERROR']);
  });

  it('an error of ours that is passing (an RPC down) is still retried without end', async () => {
    const store = await fresh();
    const book = new LeaseBook(store, { owner: 'A', ttlMs: 60_000 });
    let now = 10_000;
    const r = new StageRunner({
      name: 'deliver', statuses: ['finalized'], store, events: new EventBus(), retry, concurrency: 1, routes: () => ['r'], book, now: () => now,
      step: () => Promise.reject(new IsorelayError(ErrorCode.RPC_UNREACHABLE, 'node down')),
    });
    for (let i = 0; i < retry.maxAttempts + 2; i++) {
      await r.pump();
      await r.drain();
      now += 60_000;
    }
    const row = await store.get(newMessage.id);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, retry.maxAttempts + 2);
  });
});

describe('StageRunner with leases', () => {
  /** A monotonic clock the test moves: a "pause" is a jump. */
  function clock() {
    let t = 1_000;
    return { now: () => t, jump: (ms: number) => (t += ms) };
  }

  function runner(store: Store, book: LeaseBook, step: (row: MessageRow) => Promise<StepResult>) {
    return new StageRunner({ name: 'deliver', statuses: ['finalized'], store, events: new EventBus(), retry, concurrency: 10, routes: () => ['r'], step, book, now: () => 5_000 });
  }

  it('claims a message once: a second pump while its step runs does not start it again', async () => {
    const store = await fresh();
    const book = new LeaseBook(store, { owner: 'A', ttlMs: 60_000 });
    let runs = 0;
    let finish = () => undefined as void;
    const r = runner(store, book, async () => {
      runs++;
      await new Promise<void>((resolve) => (finish = resolve));
      return { kind: 'advance', to: 'submitted', patch: { dstTx: '0x1' } };
    });
    assert.equal(await r.pump(), 1);
    assert.equal(await r.pump(), 0);
    finish();
    await r.drain();
    assert.equal(runs, 1);
    assert.equal((await store.get(newMessage.id))?.status, 'submitted');
  });

  it('an instance paused past its claim records nothing, and the new holder\'s outcome stands', async () => {
    const store = await fresh();
    const ca = clock();
    const a = new LeaseBook(store, { owner: 'A', ttlMs: 100, clock: ca.now });
    let release = () => undefined as void;
    const stuck = runner(store, a, async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return { kind: 'drop', to: 'dead', code: 'rejected', reason: 'stale verdict' };
    });
    assert.equal(await stuck.pump(), 1);
    // A is paused; its lease runs out in the store, and B takes the message over.
    await new Promise((r) => setTimeout(r, 150));
    ca.jump(10_000);
    const b = new LeaseBook(store, { owner: 'B', ttlMs: 60_000 });
    const taker = runner(store, b, () => Promise.resolve({ kind: 'advance', to: 'submitted', patch: { dstTx: '0xb' } }));
    assert.equal(await taker.pump(), 1);
    await taker.drain();
    // A resumes: its verdict is fenced off.
    release();
    await stuck.drain();
    const row = await store.get(newMessage.id);
    assert.equal(row?.status, 'submitted');
    assert.equal(row?.dstTx, '0xb');
    // And A could not have signed for it either.
    await assert.rejects(a.assertSendable([newMessage.id], []), /lease/);
    assert.equal(a.state().fencedSends, 1);
  });

  it('does not claim while it may not (its gas key is leased elsewhere)', async () => {
    const store = await fresh();
    const book = new LeaseBook(store, { owner: 'A', ttlMs: 60_000 });
    const r = new StageRunner({
      name: 'deliver', statuses: ['finalized'], store, events: new EventBus(), retry, concurrency: 10, routes: () => ['r'],
      step: () => Promise.resolve({ kind: 'wait', code: 'nonce_order', reason: 'x' }), book, canClaim: () => false,
    });
    assert.equal(await r.pump(), 0);
    assert.equal((await store.get(newMessage.id))?.lease, null);
  });
});
