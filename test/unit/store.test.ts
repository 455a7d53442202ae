// The SQLite store (relayer/store/sqlite/sqliteStore.ts): durable (WAL + synchronous=FULL), one
// process per file (RELIABILITY.md rule 14), idempotent observation and a guarded state machine.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { NewMessage, TxRecord } from '../../relayer/store/store.js';

const STORE_MODULE = fileURLToPath(new URL('../../relayer/store/sqlite/sqliteStore.ts', import.meta.url));

function message(id: string, o: Partial<NewMessage> = {}): NewMessage {
  return {
    id, route: 'arbitrum-base', transport: 'layerzero', transportId: id.split(':')[1] ?? id, srcChain: 'arbitrum', dstChain: 'base',
    messageId: null, kind: 'CREDIT', srcTx: '0xaa', srcBlock: 100n, srcBlockHash: '0xb100', logIndex: 0, payload: '0x', sequence: null, ...o,
  };
}

const isCode = (code: ErrorCode) => (e: unknown) => e instanceof IsorelayError && e.code === code;

/** Runs `code` (an ES module body with `SqliteStore` in scope) in a child node process. */
function childScript(code: string): string[] {
  return ['--import', 'tsx', '--input-type=module', '-e', `import { SqliteStore } from ${JSON.stringify(STORE_MODULE)};\n${code}`];
}

describe('SqliteStore', function () {
  let dir: string;
  let file: string;
  let store: SqliteStore;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'isorelay-store-'));
    file = path.join(dir, 'sub', 'relayer.sqlite');
    store = SqliteStore.open(file);
  });
  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('durability and locking', function () {
    it('puts the file in WAL mode', function () {
      const reader = new Database(file, { readonly: true });
      try {
        assert.equal(reader.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        reader.close();
      }
    });

    it('runs its connection with synchronous = FULL', function () {
      // synchronous is per connection and cannot be seen from another one: this reads the
      // store's own connection (a private field, looked at only here).
      const db = (store as unknown as { db: Database.Database }).db;
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
    });

    it('writes its pid into a lock file and removes it on close', function () {
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
      store.close();
      assert.equal(existsSync(`${file}.lock`), false);
      store = SqliteStore.open(file); // and it can be opened again
    });

    it('refuses a second process on the same file with STORE_LOCKED', function () {
      this.timeout(15_000);
      const child = spawnSync(process.execPath, childScript(`
        try { SqliteStore.open(${JSON.stringify(file)}); console.log('OPENED'); }
        catch (e) { console.log('ERR ' + e.code); }`), { encoding: 'utf8', timeout: 12_000 });
      assert.equal(child.stdout.trim(), 'ERR STORE_LOCKED', child.stderr);
      // The refused process did not take the lock away from us.
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
    });

    it('is refused while another live process holds the file', async function () {
      this.timeout(15_000);
      store.close();
      const other = path.join(dir, 'other.sqlite');
      const child = spawn(process.execPath, childScript(`
        SqliteStore.open(${JSON.stringify(other)}); console.log('READY'); setInterval(() => {}, 1000);`), { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => (d.toString().includes('READY') ? resolve() : undefined));
          child.once('exit', () => reject(new Error('child exited early')));
        });
        assert.throws(() => SqliteStore.open(other), (e: unknown) => isCode(ErrorCode.STORE_LOCKED)(e) && (e as Error).message.includes(String(child.pid)));
      } finally {
        child.kill('SIGKILL');
      }
      store = SqliteStore.open(file);
    });

    it('takes over a lock file left by a dead process', function () {
      this.timeout(10_000);
      store.close();
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      const deadPid = Number(dead.stdout.trim());
      assert.ok(deadPid > 0);
      writeFileSync(`${file}.lock`, String(deadPid));
      store = SqliteStore.open(file);
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
    });

    it('keeps the data across close and reopen', function () {
      store.observe([message('lz:1')], 1000);
      store.setCheckpoint('arbitrum:layerzero', 42n);
      store.close();
      store = SqliteStore.open(file);
      assert.equal(store.get('lz:1')?.status, 'observed');
      assert.equal(store.getCheckpoint('arbitrum:layerzero'), 42n);
    });
  });

  describe('messages', function () {
    it('observe() is idempotent: the same id twice gives one row, reported once', function () {
      assert.deepEqual(store.observe([message('lz:1')], 1000), ['lz:1']);
      assert.deepEqual(store.observe([message('lz:1')], 2000), []);
      assert.equal(store.list({}).length, 1);
      const row = store.get('lz:1');
      assert.equal(row?.observedAt, 1000);
      assert.equal(row?.srcBlock, 100n);
      assert.equal(row?.attempts, 0);
    });

    it('observe() does not pull a message back from a later status', function () {
      store.observe([message('lz:1')], 1000);
      assert.ok(store.transition('lz:1', 'observed', 'finalized'));
      assert.deepEqual(store.observe([message('lz:1', { srcBlock: 105n, srcBlockHash: '0xb105' })], 2000), []);
      assert.equal(store.get('lz:1')?.status, 'finalized');
      assert.equal(store.get('lz:1')?.srcBlock, 100n);
    });

    it('brings an orphaned message back as observed, in its new block', function () {
      store.observe([message('lz:1')], 1000);
      assert.ok(store.transition('lz:1', 'observed', 'orphaned', { lastError: 'reorg' }));
      assert.deepEqual(store.observe([message('lz:1', { srcBlock: 103n, srcBlockHash: '0xb103', srcTx: '0xbb', logIndex: 2 })], 2000), ['lz:1']);
      const row = store.get('lz:1');
      assert.equal(row?.status, 'observed');
      assert.equal(row?.srcBlock, 103n);
      assert.equal(row?.srcBlockHash, '0xb103');
      assert.equal(row?.srcTx, '0xbb');
      assert.equal(row?.logIndex, 2);
      assert.equal(row?.lastError, null);
      assert.deepEqual(store.observedFrom('arbitrum', 101n).map((r) => r.id), ['lz:1']);
    });

    it('transition() throws STORE_BAD_TRANSITION on a forbidden move and changes nothing', function () {
      store.observe([message('lz:1')], 1000);
      assert.throws(() => store.transition('lz:1', 'observed', 'delivered'), isCode(ErrorCode.STORE_BAD_TRANSITION));
      assert.throws(() => store.transition('lz:1', 'delivered', 'observed'), isCode(ErrorCode.STORE_BAD_TRANSITION));
      assert.equal(store.get('lz:1')?.status, 'observed');
    });

    it('transition() returns false when the row moved meanwhile (optimistic check)', function () {
      store.observe([message('lz:1')], 1000);
      assert.equal(store.transition('lz:1', 'observed', 'finalized', {}, 1500), true);
      // A second worker still believes it is observed.
      assert.equal(store.transition('lz:1', 'observed', 'orphaned', {}, 1600), false);
      assert.equal(store.get('lz:1')?.status, 'finalized');
      assert.equal(store.get('lz:1')?.updatedAt, 1500);
      assert.equal(store.transition('nope', 'observed', 'finalized'), false);
    });

    it('transition() applies its patch', function () {
      store.observe([message('lz:1')], 1000);
      store.transition('lz:1', 'observed', 'finalized');
      store.transition('lz:1', 'finalized', 'submitted', { dstTx: '0xd57', attempts: 1 }, 3000);
      const row = store.get('lz:1');
      assert.equal(row?.dstTx, '0xd57');
      assert.equal(row?.attempts, 1);
      assert.equal(row?.updatedAt, 3000);
    });

    it('due() returns a failed row only from its next_attempt_at on, and only for its resume status', function () {
      store.observe([message('lz:1', { srcBlock: 100n }), message('lz:2', { srcBlock: 101n })], 1000);
      store.transition('lz:1', 'observed', 'failed', { resumeStatus: 'observed', nextAttemptAt: 5000, attempts: 1 });
      assert.deepEqual(store.due('observed', 4999, 10).map((r) => r.id), ['lz:2']);
      assert.deepEqual(store.due('observed', 5000, 10).map((r) => r.id), ['lz:1', 'lz:2']);
      assert.deepEqual(store.due('finalized', 10_000, 10).map((r) => r.id), []);
      assert.deepEqual(store.due('observed', 10_000, 1).map((r) => r.id), ['lz:1'], 'limit, oldest block first');
      assert.deepEqual(store.due('observed', 10_000, 10, 'other-route').map((r) => r.id), []);
    });

    it('countsByRoute() counts per status and gives the oldest unfinished observation', function () {
      store.observe([message('lz:1'), message('lz:2'), message('lz:3', { route: 'optimism-base' })], 1000);
      store.observe([message('lz:4')], 500);
      store.transition('lz:4', 'observed', 'orphaned');
      store.transition('lz:2', 'observed', 'finalized');
      const counts = store.countsByRoute();
      assert.deepEqual(counts, [
        { route: 'arbitrum-base', counts: { observed: 1, finalized: 1, orphaned: 1 }, oldestPendingAt: 1000 },
        { route: 'optimism-base', counts: { observed: 1 }, oldestPendingAt: 1000 },
      ]);
    });
  });

  describe('checkpoints, block hashes, transactions', function () {
    it('round-trips checkpoints, including blocks beyond 2^53', function () {
      assert.equal(store.getCheckpoint('s'), undefined);
      store.setCheckpoint('s', 10n);
      store.setCheckpoint('s', 12n);
      store.setCheckpoint('big', 2n ** 63n - 1n);
      assert.equal(store.getCheckpoint('s'), 12n);
      assert.equal(store.getCheckpoint('big'), 2n ** 63n - 1n);
    });

    it('round-trips block hashes per stream, newest first, with forget and prune', function () {
      store.saveBlockHashes('a', [10n, 11n, 12n, 13n].map((n) => ({ number: n, hash: `0x${n}` })));
      store.saveBlockHashes('b', [{ number: 11n, hash: '0xother' }]);
      assert.equal(store.blockHash('a', 11n), '0x11');
      assert.equal(store.blockHash('b', 11n), '0xother');
      assert.equal(store.blockHash('a', 14n), undefined);
      assert.deepEqual(store.recentBlocks('a', 10n), [{ number: 13n, hash: '0x13' }, { number: 12n, hash: '0x12' }, { number: 11n, hash: '0x11' }]);
      store.saveBlockHashes('a', [{ number: 12n, hash: '0x12new' }]);
      assert.equal(store.blockHash('a', 12n), '0x12new');
      store.forgetBlocks('a', 12n);
      assert.deepEqual(store.recentBlocks('a', -1n).map((b) => b.number), [11n, 10n]);
      store.pruneBlocks('a', 11n);
      assert.deepEqual(store.recentBlocks('a', -1n).map((b) => b.number), [11n]);
      assert.deepEqual(store.recentBlocks('b', -1n).map((b) => b.number), [11n]);
    });

    it('pendingTxs() lists only pending ones of that chain and sender, by nonce', function () {
      const tx = (hash: string, o: Partial<TxRecord> = {}): TxRecord => ({
        chain: 'base', sender: '0xS', nonce: 5, hash, raw: `0xraw${hash}`, purpose: 'lzReceive', messages: 'lz:1', status: 'pending', createdAt: 1, ...o,
      });
      store.recordTx(tx('0x2', { nonce: 6 }));
      store.recordTx(tx('0x1'));
      store.recordTx(tx('0x1b', { createdAt: 2 }));
      store.recordTx(tx('0x3', { nonce: 4 }));
      store.recordTx(tx('0x4', { chain: 'arbitrum' }));
      store.recordTx(tx('0x5', { sender: '0xT' }));
      store.setTxStatus('0x3', 'mined');
      store.setTxStatus('0x1', 'replaced');
      const pending = store.pendingTxs('base', '0xS');
      assert.deepEqual(pending.map((p) => p.hash), ['0x1b', '0x2']);
      assert.deepEqual(pending[0], tx('0x1b', { createdAt: 2 }));
    });

    it('atomically() rolls everything back when the function throws', function () {
      assert.throws(() =>
        store.atomically(() => {
          store.setCheckpoint('s', 1n);
          store.observe([message('lz:9')], 1);
          throw new Error('boom');
        }),
      );
      assert.equal(store.getCheckpoint('s'), undefined);
      assert.equal(store.get('lz:9'), undefined);
    });
  });
});
