// The embedded store: better-sqlite3 in WAL mode with synchronous=FULL, one process per file
// (a pid lock file beside the database), schema migrations on open. better-sqlite3 is
// synchronous; the Store seam is not: `atomically` holds a gate that every other call waits at, so
// nothing else runs inside an open transaction (and nothing is rolled back with it by accident).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { canTransition, type HoldCode, type MessageStatus } from '../../messages/status.js';
import { byClaimOrder, foldCounts, LeaseLostError, type ClaimQuery, type CreditPass, type Fence, type MessageEvent, type Lease, type MessagePatch, type MessageRow, type NewMessage, type RouteCounts, type Store, type TxRecord, type UnfinishedCount } from '../store.js';
import type { ReasonCode } from '../../messages/reasons.js';
import { SQLITE_MIGRATIONS } from './schema.js';

interface SqlMessage {
  id: string; route: string; transport: string; transport_id: string; src_chain: string; dst_chain: string;
  message_id: string | null; kind: string | null; src_tx: string; src_block: string; src_block_hash: string;
  log_index: number; payload: string; status: string; resume_status: string | null; attempts: number;
  next_attempt_at: number; last_error: string | null; dst_tx: string | null; observed_at: number;
  updated_at: number; delivered_at: number | null; seq_path: string | null; seq_nonce: number | null;
  guard_released: number; hold_code: string | null; reason_code: string | null; lease_owner: string | null; lease_epoch: number;
}

function toRow(r: SqlMessage): MessageRow {
  return {
    id: r.id, route: r.route, transport: r.transport, transportId: r.transport_id, srcChain: r.src_chain,
    dstChain: r.dst_chain, messageId: r.message_id, kind: r.kind, srcTx: r.src_tx, srcBlock: BigInt(r.src_block),
    srcBlockHash: r.src_block_hash, logIndex: r.log_index, payload: r.payload, status: r.status as MessageStatus,
    resumeStatus: r.resume_status as MessageStatus | null, attempts: r.attempts, nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error, dstTx: r.dst_tx, observedAt: r.observed_at, updatedAt: r.updated_at, deliveredAt: r.delivered_at,
    sequence: r.seq_path === null || r.seq_nonce === null ? null : { path: r.seq_path, nonce: BigInt(r.seq_nonce) },
    guardReleased: r.guard_released === 1,
    holdCode: r.hold_code as HoldCode | null,
    reasonCode: r.reason_code as ReasonCode | null,
    lease: r.lease_owner === null ? null : { owner: r.lease_owner, epoch: r.lease_epoch },
  };
}

const PATCH_COLUMNS: Record<Exclude<keyof MessagePatch, 'sequence'>, string> = {
  resumeStatus: 'resume_status', attempts: 'attempts', nextAttemptAt: 'next_attempt_at', lastError: 'last_error',
  dstTx: 'dst_tx', deliveredAt: 'delivered_at', srcBlock: 'src_block', srcBlockHash: 'src_block_hash', guardReleased: 'guard_released',
  payload: 'payload', messageId: 'message_id', kind: 'kind', holdCode: 'hold_code', reasonCode: 'reason_code', srcTx: 'src_tx', logIndex: 'log_index',
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `${file}.lock` for this process; a lock left by a dead process is taken over. */
function takeProcessLock(lockPath: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
        throw new IsorelayError(ErrorCode.STORE_LOCKED, `the store ${lockPath.replace(/\.lock$/, '')} is in use by process ${pid}`, {
          guidance: ['Only one isorelay process may use a SQLite file; stop the other one, or use PostgreSQL to share work.'],
        });
      rmSync(lockPath, { force: true });
    }
  }
  throw new IsorelayError(ErrorCode.STORE_LOCKED, `cannot take the lock ${lockPath}`);
}

export interface SqliteStoreOptions {
  /** Read-only access (the `status` command) takes no lock and never migrates. */
  readonly?: boolean;
  /**
   * An operator's one-off change beside a running daemon (`held release|reject`): no process lock,
   * no migration; SQLite serialises the write, and the transition only applies to a row still in
   * the expected status, which the daemon itself never moves out of (`held`).
   */
  operator?: boolean;
  /** The store's clock for leases and credit windows (ms); tests move it. Default Date.now. */
  clock?: () => number;
}

/** The synchronous work, one statement cache; the async views below are what callers get. */
class SqliteCore {
  readonly db: Database.Database;
  readonly releaseLock: () => void;
  readonly clock: () => number;

  constructor(file: string, options: SqliteStoreOptions) {
    this.clock = options.clock ?? Date.now;
    if (options.readonly === true || options.operator === true) {
      this.releaseLock = () => undefined;
      this.db = new Database(file, { readonly: options.readonly === true, fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
      return;
    }
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.releaseLock = file === ':memory:' ? () => undefined : takeProcessLock(`${file}.lock`);
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      this.migrate();
      // This process holds the file's lock: every lease in it was left by a process that is gone.
      this.db.exec('UPDATE leases SET expires_at = 0; UPDATE messages SET lease_until = 0 WHERE lease_until > 0;');
    } catch (e) {
      this.releaseLock();
      throw e;
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(SQLITE_MIGRATIONS[v] ?? '');
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Statements by SQL text, prepared once (preparing costs more than running most of them). */
  private readonly statements = new Map<string, Database.Statement>();

  sql(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /**
   * A row seen again after a reorg takes the new observation whole: a transport id (a LayerZero
   * guid: path and nonce) can come back carrying another payload, and the old one must not be delivered.
   */
  observe(rows: NewMessage[], now: number): string[] {
    const insert = this.sql(
      `INSERT INTO messages (id, route, transport, transport_id, src_chain, dst_chain, message_id, kind, src_tx, src_block,
         src_block_num, src_block_hash, log_index, payload, status, observed_at, updated_at, seq_path, seq_nonce)
       VALUES (@id, @route, @transport, @transportId, @srcChain, @dstChain, @messageId, @kind, @srcTx, @srcBlock,
         @srcBlockNum, @srcBlockHash, @logIndex, @payload, 'observed', @now, @now, @seqPath, @seqNonce)
       ON CONFLICT(id) DO UPDATE SET status = 'observed', src_tx = excluded.src_tx, src_block = excluded.src_block,
         src_block_num = excluded.src_block_num, src_block_hash = excluded.src_block_hash, log_index = excluded.log_index,
         payload = excluded.payload, message_id = excluded.message_id, kind = excluded.kind,
         seq_path = excluded.seq_path, seq_nonce = excluded.seq_nonce,
         resume_status = NULL, attempts = 0, next_attempt_at = 0, dst_tx = NULL, guard_released = 0, hold_code = NULL,
         last_error = NULL, reason_code = NULL, updated_at = excluded.updated_at, lease_epoch = messages.lease_epoch + 1, lease_until = 0
       WHERE messages.status = 'orphaned' OR (messages.status = 'observed' AND messages.src_block_hash <> excluded.src_block_hash)`,
    );
    const changed: string[] = [];
    for (const r of rows) {
      const { sequence, ...row } = r;
      const res = insert.run({
        ...row, srcBlock: r.srcBlock.toString(), srcBlockNum: Number(r.srcBlock), now,
        seqPath: sequence?.path ?? null, seqNonce: sequence === null ? null : Number(sequence.nonce),
      });
      if (res.changes > 0) {
        changed.push(r.id);
        this.recordEvent(r.id, now, null, 'observed', null, null, null, null);
      }
    }
    return changed;
  }

  get(id: string): MessageRow | undefined {
    const r = this.sql('SELECT * FROM messages WHERE id = ?').get(id) as SqlMessage | undefined;
    return r === undefined ? undefined : toRow(r);
  }

  due(status: MessageStatus, now: number, limit: number, route?: string): MessageRow[] {
    const rows = this.sql(
        `SELECT * FROM messages WHERE (status = @status OR (status IN ('failed', 'waiting') AND resume_status = @status AND next_attempt_at <= @now))
           AND (@route IS NULL OR route = @route)
         ORDER BY src_block_num, log_index LIMIT @limit`,
      )
      .all({ status, now, limit, route: route ?? null }) as SqlMessage[];
    return rows.map(toRow);
  }

  claim(q: ClaimQuery): MessageRow[] {
    if (q.routes.length === 0 || q.statuses.length === 0 || q.limit <= 0) return [];
    const clock = this.clock();
    const rows = this.sql(
      `UPDATE messages SET lease_owner = @owner, lease_epoch = lease_epoch + 1, lease_until = @until
       WHERE id IN (SELECT id FROM messages
         WHERE (status IN (SELECT value FROM json_each(@statuses))
                OR (status IN ('failed', 'waiting') AND resume_status IN (SELECT value FROM json_each(@statuses)) AND next_attempt_at <= @now))
           AND route IN (SELECT value FROM json_each(@routes)) AND lease_until <= @clock
           AND (seq_path IS NULL OR NOT EXISTS (
             SELECT 1 FROM messages o WHERE o.seq_path = messages.seq_path AND o.lease_owner <> @owner AND o.lease_until > @clock))
         ORDER BY observed_at, src_block_num, log_index LIMIT @limit)
       RETURNING *`,
    ).all({ owner: q.owner, until: clock + q.ttlMs, statuses: JSON.stringify(q.statuses), now: q.now, routes: JSON.stringify(q.routes), clock, limit: q.limit }) as SqlMessage[];
    return rows.map(toRow).sort(byClaimOrder);
  }

  renewClaims(claims: readonly { id: string; fence: Fence }[], ttlMs: number): Set<string> {
    const stmt = this.sql('UPDATE messages SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_epoch = ?');
    const until = this.clock() + ttlMs;
    const held = new Set<string>();
    for (const c of claims) if (stmt.run(until, c.id, c.fence.owner, c.fence.epoch).changes === 1) held.add(c.id);
    return held;
  }

  releaseClaim(id: string, fence: Fence): void {
    this.sql('UPDATE messages SET lease_until = 0 WHERE id = ? AND lease_owner = ? AND lease_epoch = ?').run(id, fence.owner, fence.epoch);
  }

  claimsHeld(claims: readonly { id: string; fence: Fence }[], marginMs: number): boolean {
    const stmt = this.sql('SELECT 1 FROM messages WHERE id = ? AND lease_owner = ? AND lease_epoch = ? AND lease_until > ?');
    const after = this.clock() + marginMs;
    return claims.every((c) => stmt.get(c.id, c.fence.owner, c.fence.epoch, after) !== undefined);
  }

  transition(id: string, from: MessageStatus, to: MessageStatus, patch: MessagePatch, now: number, fence: Fence | null): boolean {
    if (!canTransition(from, to))
      throw new IsorelayError(ErrorCode.STORE_BAD_TRANSITION, `message ${id}: ${from} → ${to} is not an allowed transition`);
    const sets = ['status = @to', 'updated_at = @now'];
    const params: Record<string, unknown> = { id, from, to, now };
    for (const [key, value] of Object.entries(patch) as [keyof MessagePatch, unknown][]) {
      if (value === undefined) continue;
      if (key === 'sequence') {
        const seq = value as MessagePatch['sequence'];
        sets.push('seq_path = @seqPath', 'seq_nonce = @seqNonce');
        params.seqPath = seq?.path ?? null;
        params.seqNonce = seq === null || seq === undefined ? null : Number(seq.nonce);
        continue;
      }
      sets.push(`${PATCH_COLUMNS[key]} = @${key}`);
      params[key] = typeof value === 'bigint' ? value.toString() : typeof value === 'boolean' ? (value ? 1 : 0) : value;
      if (key === 'srcBlock') {
        sets.push('src_block_num = @srcBlockNum');
        params.srcBlockNum = Number(value);
      }
    }
    let where = 'id = @id AND status = @from';
    if (fence !== null) {
      where += ' AND lease_owner = @leaseOwner AND lease_epoch = @leaseEpoch';
      params.leaseOwner = fence.owner;
      params.leaseEpoch = fence.epoch;
    }
    const update = this.sql(`UPDATE messages SET ${sets.join(', ')} WHERE ${where}`);
    return this.db.transaction(() => {
      if (update.run(params).changes !== 1) return false;
      this.recordEvent(id, now, from, to, typeof patch.lastError === 'string' ? patch.lastError : null, patch.reasonCode ?? null, patch.dstTx ?? null, fence?.owner ?? null);
      return true;
    })();
  }

  private recordEvent(id: string, at: number, from: MessageStatus | null, to: MessageStatus, reason: string | null, code: string | null, tx: string | null, by: string | null): void {
    this.sql('INSERT INTO message_events (id, at, from_status, to_status, reason, code, tx, by_owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(id, at, from, to, reason, code, tx, by);
  }

  history(id: string): MessageEvent[] {
    const rows = this.sql('SELECT at, from_status, to_status, reason, code, tx, by_owner FROM message_events WHERE id = ? ORDER BY at, rowid').all(id) as
      { at: number; from_status: string | null; to_status: string; reason: string | null; code: string | null; tx: string | null; by_owner: string | null }[];
    return rows.map((r) => ({ at: r.at, from: r.from_status as MessageStatus | null, to: r.to_status as MessageStatus, reason: r.reason, code: r.code as ReasonCode | null, tx: r.tx, by: r.by_owner }));
  }

  findMessages(key: string): MessageRow[] {
    const rows = this.sql(`SELECT * FROM messages WHERE id = @k OR transport_id = @k OR message_id = @k OR lower(src_tx) = lower(@k) ORDER BY observed_at LIMIT 50`)
      .all({ k: key }) as SqlMessage[];
    return rows.map(toRow);
  }

  txsFor(id: string): TxRecord[] {
    const rows = this.sql(`SELECT * FROM transactions WHERE ',' || messages || ',' LIKE '%,' || ? || ',%' ORDER BY created_at, nonce`)
      .all(id) as (Omit<TxRecord, 'createdAt'> & { created_at: number })[];
    return rows.map(({ created_at, ...rest }) => ({ ...rest, createdAt: created_at }));
  }

  sentSince(route: string, since: number): MessageRow[] {
    const rows = this.sql(
      `SELECT * FROM messages WHERE route = ? AND updated_at >= ?
         AND (status IN ('verified', 'submitted', 'delivered') OR (status IN ('failed', 'waiting') AND resume_status IN ('verified', 'submitted')))`,
    ).all(route, since) as SqlMessage[];
    return rows.map(toRow);
  }

  observedFrom(srcChain: string, block: bigint): MessageRow[] {
    const rows = this.sql(`SELECT * FROM messages WHERE src_chain = ? AND src_block_num >= ? ORDER BY src_block_num, log_index`)
      .all(srcChain, Number(block)) as SqlMessage[];
    return rows.map(toRow);
  }

  lastInSequence(path: string): MessageRow | undefined {
    const r = this.sql(`SELECT * FROM messages WHERE seq_path = ? AND status <> 'orphaned' ORDER BY seq_nonce DESC LIMIT 1`)
      .get(path) as SqlMessage | undefined;
    return r === undefined ? undefined : toRow(r);
  }

  list(filter: { route?: string; status?: MessageStatus; limit?: number }): MessageRow[] {
    const rows = this.sql(
        `SELECT * FROM messages WHERE (@route IS NULL OR route = @route) AND (@status IS NULL OR status = @status)
         ORDER BY observed_at DESC, id LIMIT @limit`,
      )
      .all({ route: filter.route ?? null, status: filter.status ?? null, limit: filter.limit ?? 1000 }) as SqlMessage[];
    return rows.map(toRow);
  }

  countsByRoute(): RouteCounts[] {
    const rows = this.sql(`SELECT route, status, COUNT(*) AS n, MIN(CASE WHEN status NOT IN ('delivered','dead','orphaned') THEN observed_at END) AS oldest
                FROM messages GROUP BY route, status ORDER BY route`)
      .all() as { route: string; status: MessageStatus; n: number; oldest: number | null }[];
    return foldCounts(rows);
  }

  oldestMoving(route: string): number | null {
    const r = this.sql(`SELECT MIN(observed_at) AS oldest FROM messages WHERE route = ? AND status NOT IN ('delivered','dead','orphaned','held')`).get(route) as { oldest: number | null };
    return r.oldest;
  }

  unfinished(route: string, before: number, limit: number): { rows: MessageRow[]; counts: UnfinishedCount[] } {
    const where = `route = @route AND observed_at < @before AND status NOT IN ('delivered', 'dead', 'orphaned')`;
    const rows = this.sql(`SELECT * FROM messages WHERE ${where} ORDER BY observed_at LIMIT @limit`).all({ route, before, limit }) as SqlMessage[];
    const counts = this.sql(`SELECT status, reason_code, hold_code, COUNT(*) AS n FROM messages WHERE ${where} GROUP BY status, reason_code, hold_code`)
      .all({ route, before }) as { status: string; reason_code: string | null; hold_code: string | null; n: number }[];
    return {
      rows: rows.map(toRow),
      counts: counts.map((c) => ({ status: c.status as MessageStatus, reasonCode: c.reason_code as ReasonCode | null, holdCode: c.hold_code as HoldCode | null, n: c.n })),
    };
  }

  getCheckpoint(stream: string): bigint | undefined {
    const r = this.sql('SELECT block FROM checkpoints WHERE stream = ?').get(stream) as { block: string } | undefined;
    return r === undefined ? undefined : BigInt(r.block);
  }

  setCheckpoint(stream: string, block: bigint): void {
    this.sql('INSERT INTO checkpoints (stream, block) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET block = excluded.block')
      .run(stream, block.toString());
  }

  saveBlockHashes(chain: string, blocks: { number: bigint; hash: string }[]): void {
    const stmt = this.sql('INSERT OR REPLACE INTO block_hashes (chain, number, hash) VALUES (?, ?, ?)');
    for (const b of blocks) stmt.run(chain, Number(b.number), b.hash);
  }

  blockHash(chain: string, number: bigint): string | undefined {
    const r = this.sql('SELECT hash FROM block_hashes WHERE chain = ? AND number = ?').get(chain, Number(number)) as
      | { hash: string }
      | undefined;
    return r?.hash;
  }

  recentBlocks(chain: string, above: bigint): { number: bigint; hash: string }[] {
    const rows = this.sql('SELECT number, hash FROM block_hashes WHERE chain = ? AND number > ? ORDER BY number DESC')
      .all(chain, Number(above)) as { number: number; hash: string }[];
    return rows.map((r) => ({ number: BigInt(r.number), hash: r.hash }));
  }

  forgetBlocks(chain: string, fromBlock: bigint): void {
    this.sql('DELETE FROM block_hashes WHERE chain = ? AND number >= ?').run(chain, Number(fromBlock));
  }

  pruneBlocks(chain: string, below: bigint): void {
    this.sql('DELETE FROM block_hashes WHERE chain = ? AND number < ?').run(chain, Number(below));
  }

  passCredit(p: CreditPass): { passed: boolean; used: bigint } {
    const now = this.clock();
    const seen = this.sql('SELECT token, amount FROM credit_window WHERE route = ? AND id = ?').get(p.route, p.id) as { token: string; amount: string } | undefined;
    if (seen !== undefined && seen.token === p.token && BigInt(seen.amount) >= p.amount) return { passed: true, used: 0n };
    this.sql('DELETE FROM credit_window WHERE route = ? AND token = ? AND passed_at < ?').run(p.route, p.token, now - p.windowMs);
    const rows = this.sql('SELECT amount FROM credit_window WHERE route = ? AND token = ? AND id <> ?').all(p.route, p.token, p.id) as { amount: string }[];
    const used = rows.reduce((sum, r) => sum + BigInt(r.amount), 0n);
    if (p.max !== null && used + p.amount > p.max) return { passed: false, used };
    this.sql(`INSERT INTO credit_window (route, id, token, amount, passed_at) VALUES (?, ?, ?, ?, ?)
              ON CONFLICT(route, id) DO UPDATE SET token = excluded.token, amount = excluded.amount, passed_at = excluded.passed_at`)
      .run(p.route, p.id, p.token, p.amount.toString(), now);
    return { passed: true, used: used + p.amount };
  }

  recordTx(tx: TxRecord): void {
    this.sql(
        `INSERT OR REPLACE INTO transactions (hash, chain, sender, nonce, raw, purpose, messages, status, created_at)
         VALUES (@hash, @chain, @sender, @nonce, @raw, @purpose, @messages, @status, @createdAt)`,
      )
      .run(tx);
  }

  setTxStatus(hash: string, status: TxRecord['status']): void {
    this.sql('UPDATE transactions SET status = ? WHERE hash = ?').run(status, hash);
  }

  pendingTxs(chain: string, sender: string): TxRecord[] {
    const rows = this.sql(`SELECT * FROM transactions WHERE chain = ? AND sender = ? AND status = 'pending' ORDER BY nonce, created_at`)
      .all(chain, sender) as (Omit<TxRecord, 'createdAt'> & { created_at: number })[];
    return rows.map(({ created_at, ...rest }) => ({ ...rest, createdAt: created_at }));
  }

  acquireLease(name: string, owner: string, ttlMs: number): Lease | null {
    const clock = this.clock();
    const r = this.sql(
      `INSERT INTO leases (name, owner, epoch, expires_at) VALUES (@name, @owner, 1, @until)
       ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
         epoch = leases.epoch + (CASE WHEN leases.owner = excluded.owner THEN 0 ELSE 1 END)
       WHERE leases.owner = excluded.owner OR leases.expires_at <= @clock
       RETURNING epoch`,
    ).get({ name, owner, until: clock + ttlMs, clock }) as { epoch: number } | undefined;
    return r === undefined ? null : { name, owner, epoch: r.epoch, ttlMs };
  }

  assertLease(name: string, fence: Fence): void {
    if (this.sql('SELECT 1 FROM leases WHERE name = ? AND owner = ? AND epoch = ?').get(name, fence.owner, fence.epoch) === undefined)
      throw new LeaseLostError(name);
  }

  releaseLease(name: string, owner: string): void {
    this.sql('UPDATE leases SET expires_at = 0 WHERE name = ? AND owner = ?').run(name, owner);
  }

  leases(): (Lease & { expiresAt: number })[] {
    const clock = this.clock();
    return (this.sql('SELECT * FROM leases ORDER BY name').all() as { name: string; owner: string; epoch: number; expires_at: number }[])
      .map((r) => ({ name: r.name, owner: r.owner, epoch: r.epoch, expiresAt: r.expires_at, ttlMs: Math.max(0, r.expires_at - clock) }));
  }

  haltRoute(route: string, reason: string): void {
    this.sql('INSERT INTO halts (route, reason, at) VALUES (?, ?, ?) ON CONFLICT(route) DO NOTHING').run(route, reason, this.clock());
  }

  haltedRoutes(): { route: string; reason: string; at: number }[] {
    return this.sql('SELECT route, reason, at FROM halts ORDER BY route').all() as { route: string; reason: string; at: number }[];
  }

  resumeRoute(route: string): boolean {
    return this.sql('DELETE FROM halts WHERE route = ?').run(route).changes === 1;
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
    this.releaseLock();
  }
}

/**
 * The async view of the core. The store itself waits at the gate while a transaction is open;
 * the view handed to `atomically`'s function runs straight through (it is the transaction).
 */
class SqliteView implements Store {
  readonly kind = 'sqlite' as const;

  constructor(
    protected readonly core: SqliteCore,
    /** The store's gate (null inside a transaction): `open` is set while a transaction runs. */
    protected readonly gate: { open: Promise<void> | null } | null,
  ) {}

  /** Runs `fn` once no transaction is open; the check and the call are one synchronous step. */
  private async run<T>(fn: () => T): Promise<T> {
    while (this.gate?.open != null) await this.gate.open;
    return fn();
  }

  observe(rows: NewMessage[], now: number): Promise<string[]> {
    return this.atomically(() => Promise.resolve(this.core.observe(rows, now)));
  }
  get(id: string): Promise<MessageRow | undefined> {
    return this.run(() => this.core.get(id));
  }
  due(status: MessageStatus, now: number, limit: number, route?: string): Promise<MessageRow[]> {
    return this.run(() => this.core.due(status, now, limit, route));
  }
  claim(q: ClaimQuery): Promise<MessageRow[]> {
    return this.run(() => this.core.claim(q));
  }
  renewClaims(claims: readonly { id: string; fence: Fence }[], ttlMs: number): Promise<Set<string>> {
    return this.run(() => this.core.renewClaims(claims, ttlMs));
  }
  releaseClaim(id: string, fence: Fence): Promise<void> {
    return this.run(() => this.core.releaseClaim(id, fence));
  }
  claimsHeld(claims: readonly { id: string; fence: Fence }[], marginMs: number): Promise<boolean> {
    return this.run(() => this.core.claimsHeld(claims, marginMs));
  }
  transition(id: string, from: MessageStatus, to: MessageStatus, patch: MessagePatch = {}, now = Date.now(), fence: Fence | null = null): Promise<boolean> {
    return this.run(() => this.core.transition(id, from, to, patch, now, fence));
  }
  observedFrom(srcChain: string, block: bigint): Promise<MessageRow[]> {
    return this.run(() => this.core.observedFrom(srcChain, block));
  }
  lastInSequence(path: string): Promise<MessageRow | undefined> {
    return this.run(() => this.core.lastInSequence(path));
  }
  list(filter: { route?: string; status?: MessageStatus; limit?: number }): Promise<MessageRow[]> {
    return this.run(() => this.core.list(filter));
  }
  sentSince(route: string, since: number): Promise<MessageRow[]> {
    return this.run(() => this.core.sentSince(route, since));
  }
  countsByRoute(): Promise<RouteCounts[]> {
    return this.run(() => this.core.countsByRoute());
  }
  oldestMoving(route: string): Promise<number | null> {
    return this.run(() => this.core.oldestMoving(route));
  }
  unfinished(route: string, before: number, limit: number): Promise<{ rows: MessageRow[]; counts: UnfinishedCount[] }> {
    return this.run(() => this.core.unfinished(route, before, limit));
  }
  getCheckpoint(stream: string): Promise<bigint | undefined> {
    return this.run(() => this.core.getCheckpoint(stream));
  }
  setCheckpoint(stream: string, block: bigint): Promise<void> {
    return this.run(() => this.core.setCheckpoint(stream, block));
  }
  saveBlockHashes(chain: string, blocks: { number: bigint; hash: string }[]): Promise<void> {
    return this.atomically(() => Promise.resolve(this.core.saveBlockHashes(chain, blocks)));
  }
  blockHash(chain: string, number: bigint): Promise<string | undefined> {
    return this.run(() => this.core.blockHash(chain, number));
  }
  recentBlocks(chain: string, above: bigint): Promise<{ number: bigint; hash: string }[]> {
    return this.run(() => this.core.recentBlocks(chain, above));
  }
  forgetBlocks(chain: string, fromBlock: bigint): Promise<void> {
    return this.run(() => this.core.forgetBlocks(chain, fromBlock));
  }
  pruneBlocks(chain: string, below: bigint): Promise<void> {
    return this.run(() => this.core.pruneBlocks(chain, below));
  }
  passCredit(p: CreditPass): Promise<{ passed: boolean; used: bigint }> {
    return this.atomically(() => Promise.resolve(this.core.passCredit(p)));
  }
  recordTx(tx: TxRecord): Promise<void> {
    return this.run(() => this.core.recordTx(tx));
  }
  setTxStatus(hash: string, status: TxRecord['status']): Promise<void> {
    return this.run(() => this.core.setTxStatus(hash, status));
  }
  pendingTxs(chain: string, sender: string): Promise<TxRecord[]> {
    return this.run(() => this.core.pendingTxs(chain, sender));
  }
  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return this.run(() => this.core.acquireLease(name, owner, ttlMs));
  }
  assertLease(name: string, fence: Fence): Promise<void> {
    return this.run(() => this.core.assertLease(name, fence));
  }
  releaseLease(name: string, owner: string): Promise<void> {
    return this.run(() => this.core.releaseLease(name, owner));
  }
  leases(): Promise<(Lease & { expiresAt: number })[]> {
    return this.run(() => this.core.leases());
  }
  history(id: string): Promise<MessageEvent[]> {
    return this.run(() => this.core.history(id));
  }
  findMessages(key: string): Promise<MessageRow[]> {
    return this.run(() => this.core.findMessages(key));
  }
  txsFor(id: string): Promise<TxRecord[]> {
    return this.run(() => this.core.txsFor(id));
  }
  haltRoute(route: string, reason: string): Promise<void> {
    return this.run(() => this.core.haltRoute(route, reason));
  }
  haltedRoutes(): Promise<{ route: string; reason: string; at: number }[]> {
    return this.run(() => this.core.haltedRoutes());
  }
  resumeRoute(route: string): Promise<boolean> {
    return this.run(() => this.core.resumeRoute(route));
  }
  async atomically<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const gate = this.gate;
    if (gate === null) return fn(this);
    while (gate.open !== null) await gate.open;
    let done = () => undefined as void;
    gate.open = new Promise<void>((resolve) => (done = resolve));
    try {
      this.core.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(new SqliteView(this.core, null));
        this.core.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.core.db.inTransaction) this.core.db.exec('ROLLBACK');
        throw e;
      }
    } finally {
      gate.open = null;
      done();
    }
  }
  close(): Promise<void> {
    this.core.close();
    return Promise.resolve();
  }
}

export class SqliteStore extends SqliteView {
  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(new SqliteCore(file, options), { open: null });
  }
}
