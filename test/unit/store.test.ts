// The SQLite store (relayer/store/sqlite/sqliteStore.ts): durable (WAL + synchronous=FULL), one
// process per file (RELIABILITY.md rule 14). What every store does (messages, claims, leases) is
// tested against SQLite and PostgreSQL alike in test/integration/store-contract.test.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { NewMessage } from '../../relayer/store/store.js';

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
  afterEach(async function () {
    await store.close();
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
      const db = (store as unknown as { core: { db: Database.Database } }).core.db;
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
    });

    it('writes its pid into a lock file and removes it on close', async function () {
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
      await store.close();
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
      await store.close();
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

    it('takes over a lock file left by a dead process', async function () {
      this.timeout(10_000);
      await store.close();
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      const deadPid = Number(dead.stdout.trim());
      assert.ok(deadPid > 0);
      writeFileSync(`${file}.lock`, String(deadPid));
      store = SqliteStore.open(file);
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
    });

    it('keeps the data across close and reopen', async function () {
      await store.observe([message('lz:1')], 1000);
      await store.setCheckpoint('arbitrum:layerzero', 42n);
      await store.close();
      store = SqliteStore.open(file);
      assert.equal((await store.get('lz:1'))?.status, 'observed');
      assert.equal(await store.getCheckpoint('arbitrum:layerzero'), 42n);
    });

    it('frees the leases a dead process left: a restart takes its gas key and claims at once', async function () {
      assert.ok(await store.acquireLease('gas:0xabc', 'old#1', 60_000));
      await store.observe([message('lz:1')], 1000);
      await store.transition('lz:1', 'observed', 'finalized');
      assert.equal((await store.claim({ statuses: ['finalized'], now: 2000, limit: 1, routes: ['arbitrum-base'], owner: 'old#1', ttlMs: 60_000 })).length, 1);
      await store.close();
      store = SqliteStore.open(file);
      assert.ok(await store.acquireLease('gas:0xabc', 'new#2', 60_000));
      assert.equal((await store.claim({ statuses: ['finalized'], now: 2000, limit: 1, routes: ['arbitrum-base'], owner: 'new#2', ttlMs: 60_000 })).length, 1);
    });

    it('lets nothing else run inside an open transaction, and nothing of it survives a rollback', async function () {
      let inside = false;
      const outside: Promise<void>[] = [];
      await assert.rejects(store.atomically(async (tx) => {
        inside = true;
        // Another caller's write while the transaction waits: it must not join (and be undone with) it.
        outside.push(store.setCheckpoint('other', 7n).then(() => assert.equal(inside, false, 'ran inside the transaction')));
        await tx.setCheckpoint('s', 1n);
        await new Promise((r) => setTimeout(r, 20));
        inside = false;
        throw new Error('boom');
      }));
      await Promise.all(outside);
      assert.equal(await store.getCheckpoint('s'), undefined);
      assert.equal(await store.getCheckpoint('other'), 7n);
    });
  });
});
