// How a step's result is persisted: backoff on retries, dead after the attempts run out — except
// for infrastructure failures (an RPC or an API down), which must never make a message dead.
import assert from 'node:assert/strict';
import { applyResult } from '../../relayer/pipeline/runStage.js';
import { EventBus } from '../../relayer/pipeline/events.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { NewMessage } from '../../relayer/store/store.js';

const retry = { baseMs: 100, maxMs: 1_000, maxAttempts: 3 };
const newMessage: NewMessage = {
  id: 'layerzero:0x01', route: 'r', transport: 'layerzero', transportId: '0x01', srcChain: 'a', dstChain: 'b', messageId: null,
  kind: 'CREDIT', srcTx: '0xaa', srcBlock: 1n, srcBlockHash: '0xbb', logIndex: 0, payload: '{}', sequence: null,
};

describe('applyResult', () => {
  function fresh() {
    const store = SqliteStore.open(':memory:');
    store.observe([newMessage], 0);
    store.transition(newMessage.id, 'observed', 'finalized', {}, 0);
    return store;
  }

  it('makes a message dead when counted retries run out, with the last reason', () => {
    const store = fresh();
    for (let i = 0; i < 3; i++) applyResult(store, new EventBus(), store.get(newMessage.id)!, { kind: 'retry', reason: 'reverted' }, retry, 1_000 * i);
    const row = store.get(newMessage.id);
    assert.equal(row?.status, 'dead');
    assert.match(row?.lastError ?? '', /gave up after 3 attempts: reverted/);
  });

  it('never makes a message dead for infrastructure failures, however long they last', () => {
    const store = fresh();
    for (let i = 0; i < 50; i++)
      applyResult(store, new EventBus(), store.get(newMessage.id)!, { kind: 'retry', reason: 'RPC_UNREACHABLE', infrastructure: true }, retry, 1_000 * i);
    const row = store.get(newMessage.id);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.resumeStatus, 'finalized');
    assert.equal(row?.attempts, 50);
    assert.ok((row?.nextAttemptAt ?? 0) > 49_000 + 700, 'backs off up to maxMs');
  });

  it('waits without counting an attempt, and resumes to the status it waited in', () => {
    const store = fresh();
    applyResult(store, new EventBus(), store.get(newMessage.id)!, { kind: 'wait', reason: 'VAA not signed yet' }, retry, 5);
    const row = store.get(newMessage.id);
    assert.deepEqual([row?.status, row?.resumeStatus, row?.attempts, row?.nextAttemptAt], ['failed', 'finalized', 0, 105]);
    assert.deepEqual(store.due('finalized', 104, 10).length, 0);
    assert.deepEqual(store.due('finalized', 105, 10).map((r) => r.id), [newMessage.id]);
  });
});
