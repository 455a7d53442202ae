// The operator's actions (issue 12): release/reject a held message, retry a waiting one now, deny
// one for good with a reason — in the store, and over the ops server with a bearer token (read-only
// without one; a wrong token is refused and logged; every action is logged).
import assert from 'node:assert/strict';
import pino from 'pino';
import { Writable } from 'node:stream';
import { actOn } from '../../relayer/app/operatorActions.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { EventBus } from '../../relayer/pipeline/events.js';
import { createMetrics } from '../../relayer/ops/metrics.js';
import { startOpsServer, type OpsServer } from '../../relayer/ops/httpServer.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { NewMessage, Store } from '../../relayer/store/store.js';

const msg = (id: string): NewMessage => ({
  id, route: 'r', transport: 'layerzero', transportId: id, srcChain: 'a', dstChain: 'b', messageId: null, kind: 'CREDIT',
  srcTx: '0xaa', srcBlock: 1n, srcBlockHash: '0xbb', logIndex: 0, payload: '0x', sequence: null,
});
const usage = (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.USAGE;

async function storeWith(): Promise<Store> {
  const store = SqliteStore.open(':memory:');
  await store.observe([msg('held'), msg('waiting'), msg('failing'), msg('fresh'), msg('done')], 0);
  for (const id of ['held', 'waiting', 'failing', 'fresh', 'done']) await store.transition(id, 'observed', 'finalized', {}, 1);
  await store.transition('held', 'finalized', 'held', { holdCode: 'credit_cap', lastError: 'above the cap' }, 2);
  await store.transition('waiting', 'finalized', 'waiting', { resumeStatus: 'finalized', nextAttemptAt: 10 ** 12, reasonCode: 'vaa_unsigned' }, 2);
  await store.transition('failing', 'finalized', 'failed', { resumeStatus: 'finalized', nextAttemptAt: 10 ** 12, attempts: 2, reasonCode: 'tx_failed' }, 2);
  await store.transition('done', 'finalized', 'delivered', {}, 2);
  return store;
}

describe('operator actions', () => {
  it('retries a waiting message now, and nothing else', async () => {
    const store = await storeWith();
    assert.match(await actOn(store, 'waiting', 'retry'), /retrying waiting now \(it resumes at finalized\)/);
    assert.equal((await store.get('waiting'))?.nextAttemptAt, 0);
    assert.equal((await store.due('finalized', 1, 10)).some((r) => r.id === 'waiting'), true, 'due at once');
    assert.deepEqual([(await store.get('waiting'))?.status, (await store.get('waiting'))?.reasonCode], ['waiting', 'vaa_unsigned'], 'still waiting, for the same reason');
    assert.match(await actOn(store, 'failing', 'retry'), /retrying failing now/);
    assert.equal((await store.get('failing'))?.nextAttemptAt, 0);
    await assert.rejects(actOn(store, 'held', 'retry'), (e: unknown) => usage(e) && /a held one is released/.test((e as Error).message));
    await assert.rejects(actOn(store, 'nope', 'retry'), usage);
  });

  it('finds the message by any of its ids, as isorelay message does: a lockId, a guid, a source transaction', async () => {
    const store = SqliteStore.open(':memory:');
    await store.observe([{ ...msg('layerzero:0xguid'), transportId: '0xguid', messageId: '0xlock', srcTx: '0xsrc' }, { ...msg('layerzero:0xother'), transportId: '0xother', srcTx: '0xsrc' }], 0);
    assert.match(await actOn(store, '0xlock', 'deny', 'forged'), /^denied layerzero:0xguid: it is dead/);
    assert.equal((await store.get('layerzero:0xguid'))?.reasonCode, 'denied');
    await assert.rejects(actOn(store, '0xsrc', 'deny', 'x'), (e: unknown) => usage(e) && /0xsrc names 2 messages \(layerzero:0xguid, layerzero:0xother\): give one of their ids/.test((e as Error).message));
    assert.match(await actOn(store, '0xother', 'deny', 'x'), /^denied layerzero:0xother/);
    await assert.rejects(actOn(store, '0xnothing', 'retry'), (e: unknown) => usage(e) && /no message 0xnothing/.test((e as Error).message));
  });

  it('denies for good, with the reason kept, and only with a reason; never a finished message', async () => {
    const store = await storeWith();
    await assert.rejects(actOn(store, 'fresh', 'deny'), (e: unknown) => usage(e) && /needs a reason/.test((e as Error).message));
    assert.match(await actOn(store, 'fresh', 'deny', 'a forged lock'), /denied fresh: it is dead and will never be retried/);
    const row = await store.get('fresh');
    assert.equal(row?.status, 'dead');
    assert.equal(row?.lastError, 'denied by the operator: a forged lock');
    assert.equal(row?.reasonCode, 'denied');
    await assert.rejects(actOn(store, 'done', 'deny', 'x'), (e: unknown) => usage(e) && /already delivered/.test((e as Error).message));
  });

  it('releases a held message with its guard answered and its attempts reset; rejects one as dead', async () => {
    const store = await storeWith();
    await actOn(store, 'held', 'release', 'checked by hand');
    const row = await store.get('held');
    assert.deepEqual([row?.status, row?.guardReleased, row?.attempts], ['finalized', true, 0]);
    await assert.rejects(actOn(store, 'held', 'reject'), (e: unknown) => usage(e) && /is finalized, not held/.test((e as Error).message));
  });

  describe('over the ops server', () => {
    let ops: OpsServer;
    let store: Store;
    let logged: string[];
    let metrics: ReturnType<typeof createMetrics>;
    const TOKEN = 'a-token-of-enough-length-1234';
    beforeEach(async () => {
      store = await storeWith();
      logged = [];
      const sink = new Writable({ write: (c: Buffer, _e, cb) => { logged.push(c.toString()); cb(); } });
      metrics = createMetrics(new EventBus());
      ops = await startOpsServer({
        port: 0, registry: metrics.registry, health: () => ({ ready: true, checks: {} }), status: () => ({}), logger: pino({ level: 'info' }, sink),
        actions: { token: TOKEN, run: (id, action, reason) => actOn(store, id, action as 'retry', reason) },
      });
    });
    afterEach(async () => {
      await ops.close();
      metrics.dispose();
    });
    const post = (path: string, token?: string, body?: unknown) =>
      fetch(`${ops.url}${path}`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

    it('takes an action with the token, and logs it', async () => {
      const res = await post('/messages/fresh/deny', TOKEN, { reason: 'forged' });
      assert.equal(res.status, 200);
      assert.match(((await res.json()) as { message: string }).message, /denied fresh/);
      assert.equal((await store.get('fresh'))?.status, 'dead');
      assert.ok(logged.some((l) => l.includes('operator action over HTTP') && l.includes('"action":"deny"') && l.includes('forged')));
    });

    it('refuses without the token or with a wrong one (and logs it), and says why an action does not apply', async () => {
      assert.equal((await post('/messages/fresh/deny', undefined, { reason: 'x' })).status, 401);
      assert.equal((await post('/messages/fresh/deny', 'a-token-of-enough-length-9999', { reason: 'x' })).status, 401);
      assert.equal((await store.get('fresh'))?.status, 'finalized', 'nothing happened');
      assert.ok(logged.some((l) => l.includes('refused: missing or wrong bearer token')));
      const wrong = await post('/messages/done/retry', TOKEN);
      assert.equal(wrong.status, 409);
      const garbled = await fetch(`${ops.url}/messages/fresh/deny`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{not json' });
      assert.equal(garbled.status, 400);
      assert.equal((await fetch(`${ops.url}/messages/fresh/deny`)).status, 405, 'GET is not an action');
    });

    it('is read-only without a token configured', async () => {
      const ro = await startOpsServer({ port: 0, registry: metrics.registry, health: () => ({ ready: true, checks: {} }), status: () => ({}), logger: pino({ level: 'silent' }) });
      try {
        const res = await fetch(`${ro.url}/messages/fresh/deny`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(res.status, 403);
      } finally {
        await ro.close();
      }
    });
  });
});
