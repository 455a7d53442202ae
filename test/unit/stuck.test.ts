// Stuck detection: a message past its route's expected delivery time and not final is stuck, with
// one reason code — its last wait, hold or failure, or where it is when nothing went wrong.
import assert from 'node:assert/strict';
import { findStuck, stuckOf, stuckReason } from '../../relayer/app/stuck.js';
import type { Config } from '../../relayer/config/schema.js';
import { REASON_CODES, Reason, reasonKind } from '../../relayer/messages/reasons.js';
import { HoldCode } from '../../relayer/messages/status.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { MessageRow, NewMessage } from '../../relayer/store/store.js';

const config = {
  routes: [{ name: 'fast', expectedDeliveryMs: 60_000 }, { name: 'slow' }],
  pipeline: { stallAfterMs: 600_000 },
} as unknown as Config; // only the routes' expectations and the default are read

const msg = (id: string, route: string): NewMessage => ({
  id, route, transport: 'wormhole', transportId: id, srcChain: 'a', dstChain: 'b', messageId: null, kind: 'CREDIT',
  srcTx: '0xaa', srcBlock: 1n, srcBlockHash: '0xbb', logIndex: 0, payload: '0x', sequence: null,
});

describe('reason codes', () => {
  it('are one set, each code of exactly one kind, and holds keep their persisted names', () => {
    assert.equal(new Set(REASON_CODES).size, REASON_CODES.length);
    for (const c of REASON_CODES) assert.ok(reasonKind(c) !== undefined, c);
    for (const h of Object.values(HoldCode)) assert.equal(reasonKind(h), 'hold');
    assert.equal(reasonKind(Reason.vaaUnsigned), 'wait');
    assert.equal(reasonKind(Reason.gaveUp), 'drop');
    assert.equal(reasonKind(Reason.unavailable), 'failure');
    assert.equal(reasonKind('not a code'), undefined);
  });
});

describe('stuck detection', () => {
  it('flags a message only once it is older than its route\'s expected time, and never a final one', () => {
    const row = { id: 'x', route: 'fast', kind: 'CREDIT', status: 'waiting', reasonCode: 'vaa_unsigned', holdCode: null, lastError: 'the guardians have not signed the VAA yet', observedAt: 0 } as unknown as MessageRow;
    assert.equal(stuckOf(config, row, 60_000), null, 'at its expected time exactly: not yet');
    assert.deepEqual(stuckOf(config, row, 60_001), { id: 'x', route: 'fast', kind: 'CREDIT', status: 'waiting', reason: 'vaa_unsigned', detail: 'the guardians have not signed the VAA yet', ageMs: 60_001, expectedMs: 60_000 });
    assert.equal(stuckOf(config, { ...row, route: 'slow' }, 60_001), null, 'a route without its own expectation uses pipeline.stallAfterMs');
    assert.ok(stuckOf(config, { ...row, route: 'slow' }, 600_001) !== null);
    for (const status of ['delivered', 'dead', 'orphaned'] as const) assert.equal(stuckOf(config, { ...row, status }, 10 ** 9), null, status);
  });

  it('says where a message is when it has no code: source not final, queued, transaction unconfirmed, or its hold', () => {
    const r = (status: string, o: object = {}) => ({ status, reasonCode: null, holdCode: null, ...o }) as unknown as MessageRow;
    assert.equal(stuckReason(r('observed')), 'source_not_final');
    assert.equal(stuckReason(r('finalized')), 'queued');
    assert.equal(stuckReason(r('verified')), 'queued');
    assert.equal(stuckReason(r('submitted')), 'tx_unconfirmed');
    assert.equal(stuckReason(r('held', { holdCode: 'seize_price' })), 'seize_price', 'a hold from before codes were kept');
    assert.equal(stuckReason(r('failed', { reasonCode: 'unavailable' })), 'unavailable');
  });

  it('counts every stuck message of every route by reason, and lists the oldest', async () => {
    const store = SqliteStore.open(':memory:');
    try {
      await store.observe([msg('f1', 'fast'), msg('f2', 'fast'), msg('s1', 'slow')], 0);
      await store.observe([msg('f3', 'fast')], 50_000);
      await store.transition('f1', 'observed', 'finalized', {}, 1);
      await store.transition('f1', 'finalized', 'waiting', { resumeStatus: 'finalized', reasonCode: 'vaa_unsigned', lastError: 'not signed' }, 2);
      await store.transition('f2', 'observed', 'finalized', {}, 1);
      await store.transition('f2', 'finalized', 'held', { holdCode: 'credit_cap', reasonCode: 'credit_cap' }, 2);
      const { messages, counts } = await findStuck(store, config, 100_000);
      assert.deepEqual(messages.map((m) => [m.id, m.reason]).sort(), [['f1', 'vaa_unsigned'], ['f2', 'credit_cap']], 'f3 is young, s1 within the slow route\'s time');
      assert.deepEqual(counts.map((c) => `${c.route} ${c.reason} ${c.n}`).sort(), ['fast credit_cap 1', 'fast vaa_unsigned 1']);
      assert.deepEqual((await findStuck(store, config, 700_000)).counts.map((c) => `${c.route} ${c.reason} ${c.n}`).sort(),
        ['fast credit_cap 1', 'fast source_not_final 1', 'fast vaa_unsigned 1', 'slow source_not_final 1']);
      assert.equal((await findStuck(store, config, 700_000, 0)).messages.length, 0, 'counts only');
    } finally {
      await store.close();
    }
  });
});

describe('the explorer on a stuck message', () => {
  it('says STUCK with its code, its age and what its route expects, and gives the code of each history line', async () => {
    const { explainMessage, formatMessageReport } = await import('../../relayer/app/explorer.js');
    const store = SqliteStore.open(':memory:');
    try {
      await store.observe([msg('w1', 'fast')], 0);
      await store.transition('w1', 'observed', 'finalized', {}, 1);
      await store.transition('w1', 'finalized', 'waiting', { resumeStatus: 'finalized', reasonCode: 'vaa_unsigned', lastError: 'the guardians have not signed the VAA yet', nextAttemptAt: 130_000 }, 2);
      const [report] = await explainMessage(store, 'w1', { config, now: 125_000 });
      assert.equal(report?.stuck?.reason, 'vaa_unsigned');
      const text = formatMessageReport(report);
      assert.match(text, /STUCK \(vaa_unsigned\): 2m 05s old, its route expects delivery within 1m 00s/);
      assert.match(text, /status waiting \(vaa_unsigned\)/);
      assert.match(text, /^ {2}lockId -; VAA id w1; source a tx 0xaa block 1$/m, 'each id named for what it is');
      assert.match(text, /finalized → waiting\s+vaa_unsigned\s+the guardians have not signed/);
      assert.match(text, /next: waits \(vaa_unsigned: the guardians have not signed the VAA yet\); looked at again in 5s/);
      const [young] = await explainMessage(store, 'w1', { config, now: 30_000 });
      assert.equal(young?.stuck, null);
      assert.doesNotMatch(formatMessageReport(young), /STUCK/);
    } finally {
      await store.close();
    }
  });
});
