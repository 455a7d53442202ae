// The shared store: PostgreSQL through node-postgres (`pg`), for several instances on one
// database. Work is claimed in leases (FOR UPDATE SKIP LOCKED), every write for a claimed message
// is fenced by the claim's epoch, and lease times are the database's clock, so instances on
// machines whose clocks disagree still agree on who holds what. A database that cannot be
// reached is a retryable STORE_UNAVAILABLE; the connection string never reaches an error or a log.
import pg from 'pg';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { canTransition, type HoldCode, type MessageStatus } from '../../messages/status.js';
import { byClaimOrder, foldCounts, LeaseLostError, type ClaimQuery, type CreditPass, type Fence, type MessageEvent, type Lease, type MessagePatch, type MessageRow, type NewMessage, type RouteCounts, type Store, type TxRecord, type UnfinishedCount } from '../store.js';
import type { ReasonCode } from '../../messages/reasons.js';
import { PG_MIGRATIONS } from './schema.js';

/** The database's clock in milliseconds, for every lease time. */
const CLOCK = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

interface PgMessage {
  id: string; route: string; transport: string; transport_id: string; src_chain: string; dst_chain: string;
  message_id: string | null; kind: string | null; src_tx: string; src_block: string; src_block_hash: string;
  log_index: number; payload: string; status: string; resume_status: string | null; attempts: number;
  next_attempt_at: string; last_error: string | null; dst_tx: string | null; observed_at: string;
  updated_at: string; delivered_at: string | null; seq_path: string | null; seq_nonce: string | null;
  guard_released: boolean; hold_code: string | null; reason_code: string | null; lease_owner: string | null; lease_epoch: string;
}

function toRow(r: PgMessage): MessageRow {
  return {
    id: r.id, route: r.route, transport: r.transport, transportId: r.transport_id, srcChain: r.src_chain,
    dstChain: r.dst_chain, messageId: r.message_id, kind: r.kind, srcTx: r.src_tx, srcBlock: BigInt(r.src_block),
    srcBlockHash: r.src_block_hash, logIndex: r.log_index, payload: r.payload, status: r.status as MessageStatus,
    resumeStatus: r.resume_status as MessageStatus | null, attempts: r.attempts, nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error, dstTx: r.dst_tx, observedAt: Number(r.observed_at), updatedAt: Number(r.updated_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
    sequence: r.seq_path === null || r.seq_nonce === null ? null : { path: r.seq_path, nonce: BigInt(r.seq_nonce) },
    guardReleased: r.guard_released,
    holdCode: r.hold_code as HoldCode | null,
    reasonCode: r.reason_code as ReasonCode | null,
    lease: r.lease_owner === null ? null : { owner: r.lease_owner, epoch: Number(r.lease_epoch) },
  };
}

const PATCH_COLUMNS: Record<Exclude<keyof MessagePatch, 'sequence'>, string> = {
  resumeStatus: 'resume_status', attempts: 'attempts', nextAttemptAt: 'next_attempt_at', lastError: 'last_error',
  dstTx: 'dst_tx', deliveredAt: 'delivered_at', srcBlock: 'src_block', srcBlockHash: 'src_block_hash', guardReleased: 'guard_released',
  payload: 'payload', messageId: 'message_id', kind: 'kind', holdCode: 'hold_code', reasonCode: 'reason_code', srcTx: 'src_tx', logIndex: 'log_index',
};

/** Connection-level failures (refused, reset, terminated, shutting down, failover): the database is not there now. */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53300|25006)/;
const UNAVAILABLE_TEXT = /Query read timeout|query_timeout|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|the database system is (starting up|shutting down|in recovery mode)|terminating connection|read-only transaction|timeout exceeded when trying to connect/i;

/** Whether a failure is the database being away (retry later) rather than a statement's fault. */
export function isUnavailable(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || /^E[A-Z]+$/.test(code))) return true;
  return e instanceof Error && UNAVAILABLE_TEXT.test(e.message);
}

/** A connection string's password never leaves this module: errors name the host and database only. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.username === '' ? '' : `${decodeURIComponent(u.username)}@`}${u.host}${u.pathname}`;
  } catch {
    return 'postgres (unparseable URL)';
  }
}

function unavailable(e: unknown, where: string): IsorelayError {
  const text = e instanceof Error ? e.message.split('\n')[0] ?? e.name : String(e);
  return new IsorelayError(ErrorCode.STORE_UNAVAILABLE, `the database ${where} is unavailable: ${text.slice(0, 200)}`, {
    guidance: ['Claims and sends stop until it is back; nothing is lost. Check that PostgreSQL is running and reachable.'],
  });
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export interface PgStoreOptions {
  url: string;
  /** Connections in the pool (default 8). */
  poolSize?: number;
  /** How long a connection attempt may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Skip migrations (a read-only tool). */
  migrate?: boolean;
}

class PgView implements Store {
  readonly kind = 'postgres' as const;

  constructor(
    protected readonly db: Queryable,
    protected readonly where: string,
    private readonly pool: pg.Pool | null,
  ) {}

  protected async q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.db.query<R>(text, values);
    } catch (e) {
      if (isUnavailable(e)) throw unavailable(e, this.where);
      throw e;
    }
  }

  async observe(rows: NewMessage[], now: number): Promise<string[]> {
    if (rows.length === 0) return [];
    // One statement for the whole range: a scan commit holds its stream's lease row, and a long
    // one would keep the heartbeat waiting.
    const col = <T>(f: (r: NewMessage) => T) => rows.map(f);
    const res = await this.q<{ id: string }>(
      `INSERT INTO messages (id, route, transport, transport_id, src_chain, dst_chain, message_id, kind, src_tx, src_block,
         src_block_num, src_block_hash, log_index, payload, status, observed_at, updated_at, seq_path, seq_nonce)
       SELECT id, route, transport, transport_id, src_chain, dst_chain, message_id, kind, src_tx, src_block,
         src_block::bigint, src_block_hash, log_index, payload, 'observed', $15, $15, seq_path, seq_nonce::bigint
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::text[], $11::text[], $12::int[], $13::text[], $14::text[], $16::text[])
         AS r(id, route, transport, transport_id, src_chain, dst_chain, message_id, kind, src_tx, src_block, src_block_hash,
              log_index, payload, seq_path, seq_nonce)
       ON CONFLICT (id) DO UPDATE SET status = 'observed', src_tx = excluded.src_tx, src_block = excluded.src_block,
         src_block_num = excluded.src_block_num, src_block_hash = excluded.src_block_hash, log_index = excluded.log_index,
         payload = excluded.payload, message_id = excluded.message_id, kind = excluded.kind,
         seq_path = excluded.seq_path, seq_nonce = excluded.seq_nonce,
         resume_status = NULL, attempts = 0, next_attempt_at = 0, dst_tx = NULL, guard_released = FALSE, hold_code = NULL,
         last_error = NULL, reason_code = NULL, updated_at = excluded.updated_at, lease_epoch = messages.lease_epoch + 1, lease_until = 0
       WHERE messages.status = 'orphaned' OR (messages.status = 'observed' AND messages.src_block_hash <> excluded.src_block_hash)
       RETURNING id`,
      [col((r) => r.id), col((r) => r.route), col((r) => r.transport), col((r) => r.transportId), col((r) => r.srcChain), col((r) => r.dstChain),
        col((r) => r.messageId), col((r) => r.kind), col((r) => r.srcTx), col((r) => r.srcBlock.toString()), col((r) => r.srcBlockHash),
        col((r) => r.logIndex), col((r) => r.payload), col((r) => r.sequence?.path ?? null), now, col((r) => r.sequence?.nonce.toString() ?? null)],
    );
    const changed = new Set(res.rows.map((r) => r.id));
    if (changed.size > 0)
      await this.q(`INSERT INTO message_events (id, at, from_status, to_status) SELECT id, $2, NULL, 'observed' FROM unnest($1::text[]) AS c(id)`, [[...changed], now]);
    // In the order given (what SQLite returns too).
    return rows.map((r) => r.id).filter((id) => changed.has(id));
  }

  async get(id: string): Promise<MessageRow | undefined> {
    const r = (await this.q<PgMessage>('SELECT * FROM messages WHERE id = $1', [id])).rows[0];
    return r === undefined ? undefined : toRow(r);
  }

  async due(status: MessageStatus, now: number, limit: number, route?: string): Promise<MessageRow[]> {
    const res = await this.q<PgMessage>(
      `SELECT * FROM messages WHERE (status = $1 OR (status IN ('failed', 'waiting') AND resume_status = $1 AND next_attempt_at <= $2))
         AND ($3::text IS NULL OR route = $3)
       ORDER BY src_block_num, log_index LIMIT $4`,
      [status, now, route ?? null, limit],
    );
    return res.rows.map(toRow);
  }

  async claim(q: ClaimQuery): Promise<MessageRow[]> {
    if (q.routes.length === 0 || q.statuses.length === 0 || q.limit <= 0) return [];
    const res = await this.q<PgMessage>(
      `WITH picked AS (
         SELECT id FROM messages
         WHERE (status = ANY($1::text[]) OR (status IN ('failed', 'waiting') AND resume_status = ANY($1::text[]) AND next_attempt_at <= $2))
           AND route = ANY($3::text[]) AND lease_until <= ${CLOCK}
           -- A path whose messages another instance is working on stays with it: its nonces
           -- execute in order, and split between instances they would wait on each other.
           AND (seq_path IS NULL OR NOT EXISTS (
             SELECT 1 FROM messages o WHERE o.seq_path = messages.seq_path AND o.lease_owner <> $5 AND o.lease_until > ${CLOCK}))
         ORDER BY observed_at, src_block_num, log_index LIMIT $4
         FOR UPDATE SKIP LOCKED)
       UPDATE messages m SET lease_owner = $5, lease_epoch = m.lease_epoch + 1, lease_until = ${CLOCK} + $6
       FROM picked WHERE m.id = picked.id
       RETURNING m.*`,
      [q.statuses, q.now, q.routes, q.limit, q.owner, q.ttlMs],
    );
    return res.rows.map(toRow).sort(byClaimOrder);
  }

  async renewClaims(claims: readonly { id: string; fence: Fence }[], ttlMs: number): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const res = await this.q<{ id: string }>(
      `UPDATE messages m SET lease_until = ${CLOCK} + $4
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS c(id, owner, epoch)
       WHERE m.id = c.id AND m.lease_owner = c.owner AND m.lease_epoch = c.epoch
       RETURNING m.id`,
      [claims.map((c) => c.id), claims.map((c) => c.fence.owner), claims.map((c) => c.fence.epoch), ttlMs],
    );
    return new Set(res.rows.map((r) => r.id));
  }

  async releaseClaim(id: string, fence: Fence): Promise<void> {
    await this.q('UPDATE messages SET lease_until = 0 WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3', [id, fence.owner, fence.epoch]);
  }

  async claimsHeld(claims: readonly { id: string; fence: Fence }[], marginMs: number): Promise<boolean> {
    if (claims.length === 0) return true;
    const res = await this.q<{ n: string }>(
      `SELECT COUNT(*) AS n FROM messages m
       JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS c(id, owner, epoch)
         ON m.id = c.id AND m.lease_owner = c.owner AND m.lease_epoch = c.epoch
       WHERE m.lease_until > ${CLOCK} + $4`,
      [claims.map((c) => c.id), claims.map((c) => c.fence.owner), claims.map((c) => c.fence.epoch), marginMs],
    );
    return Number(res.rows[0]?.n ?? 0) === new Set(claims.map((c) => c.id)).size;
  }

  async transition(id: string, from: MessageStatus, to: MessageStatus, patch: MessagePatch = {}, now = Date.now(), fence: Fence | null = null): Promise<boolean> {
    if (!canTransition(from, to))
      throw new IsorelayError(ErrorCode.STORE_BAD_TRANSITION, `message ${id}: ${from} → ${to} is not an allowed transition`);
    const values: unknown[] = [id, from, to, now];
    const sets = ['status = $3', 'updated_at = $4'];
    const param = (v: unknown) => {
      values.push(v);
      return `$${values.length}`;
    };
    for (const [key, value] of Object.entries(patch) as [keyof MessagePatch, unknown][]) {
      if (value === undefined) continue;
      if (key === 'sequence') {
        const seq = value as MessagePatch['sequence'];
        sets.push(`seq_path = ${param(seq?.path ?? null)}`, `seq_nonce = ${param(seq === null || seq === undefined ? null : seq.nonce.toString())}`);
        continue;
      }
      sets.push(`${PATCH_COLUMNS[key]} = ${param(typeof value === 'bigint' ? value.toString() : value)}`);
      if (key === 'srcBlock') sets.push(`src_block_num = ${param((value as bigint).toString())}`);
    }
    let where = 'id = $1 AND status = $2';
    if (fence !== null) where += ` AND lease_owner = ${param(fence.owner)} AND lease_epoch = ${param(fence.epoch)}`;
    // The move and its history line in one statement.
    const reason = param(typeof patch.lastError === 'string' ? patch.lastError : null);
    const code = param(patch.reasonCode ?? null);
    const tx = param(patch.dstTx ?? null);
    const by = param(fence?.owner ?? null);
    const res = await this.q(
      `WITH moved AS (UPDATE messages SET ${sets.join(', ')} WHERE ${where} RETURNING id)
       INSERT INTO message_events (id, at, from_status, to_status, reason, code, tx, by_owner)
       SELECT id, $4, $2, $3, ${reason}::text, ${code}::text, ${tx}::text, ${by}::text FROM moved`,
      values,
    );
    return res.rowCount === 1;
  }

  async history(id: string): Promise<MessageEvent[]> {
    const res = await this.q<{ at: string; from_status: string | null; to_status: string; reason: string | null; code: string | null; tx: string | null; by_owner: string | null }>(
      'SELECT at, from_status, to_status, reason, code, tx, by_owner FROM message_events WHERE id = $1 ORDER BY at, ctid', [id]);
    return res.rows.map((r) => ({ at: Number(r.at), from: r.from_status as MessageStatus | null, to: r.to_status as MessageStatus, reason: r.reason, code: r.code as ReasonCode | null, tx: r.tx, by: r.by_owner }));
  }

  async findMessages(key: string): Promise<MessageRow[]> {
    const res = await this.q<PgMessage>('SELECT * FROM messages WHERE id = $1 OR transport_id = $1 OR message_id = $1 OR lower(src_tx) = lower($1) ORDER BY observed_at LIMIT 50', [key]);
    return res.rows.map(toRow);
  }

  async txsFor(id: string): Promise<TxRecord[]> {
    const res = await this.q<Omit<TxRecord, 'createdAt'> & { created_at: string }>(
      `SELECT * FROM transactions WHERE $1 = ANY(string_to_array(messages, ',')) ORDER BY created_at, nonce`, [id]);
    return res.rows.map(({ created_at, ...rest }) => ({ ...rest, createdAt: Number(created_at) }));
  }

  async sentSince(route: string, since: number): Promise<MessageRow[]> {
    const res = await this.q<PgMessage>(
      `SELECT * FROM messages WHERE route = $1 AND updated_at >= $2
         AND (status IN ('verified', 'submitted', 'delivered') OR (status IN ('failed', 'waiting') AND resume_status IN ('verified', 'submitted')))`,
      [route, since],
    );
    return res.rows.map(toRow);
  }

  async observedFrom(srcChain: string, block: bigint): Promise<MessageRow[]> {
    const res = await this.q<PgMessage>('SELECT * FROM messages WHERE src_chain = $1 AND src_block_num >= $2 ORDER BY src_block_num, log_index', [srcChain, block.toString()]);
    return res.rows.map(toRow);
  }

  async lastInSequence(path: string): Promise<MessageRow | undefined> {
    const r = (await this.q<PgMessage>(`SELECT * FROM messages WHERE seq_path = $1 AND status <> 'orphaned' ORDER BY seq_nonce DESC LIMIT 1`, [path])).rows[0];
    return r === undefined ? undefined : toRow(r);
  }

  async list(filter: { route?: string; status?: MessageStatus; limit?: number }): Promise<MessageRow[]> {
    const res = await this.q<PgMessage>(
      `SELECT * FROM messages WHERE ($1::text IS NULL OR route = $1) AND ($2::text IS NULL OR status = $2)
       ORDER BY observed_at DESC, id LIMIT $3`,
      [filter.route ?? null, filter.status ?? null, filter.limit ?? 1000],
    );
    return res.rows.map(toRow);
  }

  async countsByRoute(): Promise<RouteCounts[]> {
    const res = await this.q<{ route: string; status: MessageStatus; n: string; oldest: string | null }>(
      `SELECT route, status, COUNT(*) AS n, MIN(CASE WHEN status NOT IN ('delivered','dead','orphaned') THEN observed_at END) AS oldest
       FROM messages GROUP BY route, status ORDER BY route`,
    );
    return foldCounts(res.rows);
  }

  async oldestMoving(route: string): Promise<number | null> {
    const r = (await this.q<{ oldest: string | null }>(`SELECT MIN(observed_at) AS oldest FROM messages WHERE route = $1 AND status NOT IN ('delivered','dead','orphaned','held')`, [route])).rows[0];
    return r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest);
  }

  async unfinished(route: string, before: number, limit: number): Promise<{ rows: MessageRow[]; counts: UnfinishedCount[] }> {
    const where = `route = $1 AND observed_at < $2 AND status NOT IN ('delivered', 'dead', 'orphaned')`;
    const [rows, counts] = await Promise.all([
      this.q<PgMessage>(`SELECT * FROM messages WHERE ${where} ORDER BY observed_at LIMIT $3`, [route, before, limit]),
      this.q<{ status: string; reason_code: string | null; hold_code: string | null; n: string }>(
        `SELECT status, reason_code, hold_code, COUNT(*) AS n FROM messages WHERE ${where} GROUP BY status, reason_code, hold_code`, [route, before]),
    ]);
    return {
      rows: rows.rows.map(toRow),
      counts: counts.rows.map((c) => ({ status: c.status as MessageStatus, reasonCode: c.reason_code as ReasonCode | null, holdCode: c.hold_code as HoldCode | null, n: Number(c.n) })),
    };
  }

  async getCheckpoint(stream: string): Promise<bigint | undefined> {
    const r = (await this.q<{ block: string }>('SELECT block FROM checkpoints WHERE stream = $1', [stream])).rows[0];
    return r === undefined ? undefined : BigInt(r.block);
  }

  async setCheckpoint(stream: string, block: bigint): Promise<void> {
    await this.q('INSERT INTO checkpoints (stream, block) VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE SET block = excluded.block', [stream, block.toString()]);
  }

  async saveBlockHashes(chain: string, blocks: { number: bigint; hash: string }[]): Promise<void> {
    if (blocks.length === 0) return;
    await this.q(
      `INSERT INTO block_hashes (chain, number, hash) SELECT $1, n, h FROM unnest($2::bigint[], $3::text[]) AS b(n, h)
       ON CONFLICT (chain, number) DO UPDATE SET hash = excluded.hash`,
      [chain, blocks.map((b) => b.number.toString()), blocks.map((b) => b.hash)],
    );
  }

  async blockHash(chain: string, number: bigint): Promise<string | undefined> {
    return (await this.q<{ hash: string }>('SELECT hash FROM block_hashes WHERE chain = $1 AND number = $2', [chain, number.toString()])).rows[0]?.hash;
  }

  async recentBlocks(chain: string, above: bigint): Promise<{ number: bigint; hash: string }[]> {
    const res = await this.q<{ number: string; hash: string }>('SELECT number, hash FROM block_hashes WHERE chain = $1 AND number > $2 ORDER BY number DESC', [chain, above.toString()]);
    return res.rows.map((r) => ({ number: BigInt(r.number), hash: r.hash }));
  }

  async forgetBlocks(chain: string, fromBlock: bigint): Promise<void> {
    await this.q('DELETE FROM block_hashes WHERE chain = $1 AND number >= $2', [chain, fromBlock.toString()]);
  }

  async pruneBlocks(chain: string, below: bigint): Promise<void> {
    await this.q('DELETE FROM block_hashes WHERE chain = $1 AND number < $2', [chain, below.toString()]);
  }

  passCredit(p: CreditPass): Promise<{ passed: boolean; used: bigint }> {
    return this.atomically(async (t) => {
      const tx = t as PgView;
      // Instances checking the same route queue here: the count and the insert are one step.
      await tx.q(`SELECT pg_advisory_xact_lock(hashtext('isorelay.credit_window:' || $1))`, [p.route]);
      const seen = (await tx.q<{ token: string; amount: string }>('SELECT token, amount::text AS amount FROM credit_window WHERE route = $1 AND id = $2', [p.route, p.id])).rows[0];
      if (seen !== undefined && seen.token === p.token && BigInt(seen.amount) >= p.amount) return { passed: true, used: 0n };
      await tx.q(`DELETE FROM credit_window WHERE route = $1 AND token = $2 AND passed_at < ${CLOCK} - $3`, [p.route, p.token, p.windowMs]);
      const sum = (await tx.q<{ used: string | null }>('SELECT SUM(amount)::text AS used FROM credit_window WHERE route = $1 AND token = $2 AND id <> $3', [p.route, p.token, p.id])).rows[0]?.used;
      const used = BigInt(sum ?? '0');
      if (p.max !== null && used + p.amount > p.max) return { passed: false, used };
      await tx.q(
        `INSERT INTO credit_window (route, id, token, amount, passed_at) VALUES ($1, $2, $3, $4, ${CLOCK})
         ON CONFLICT (route, id) DO UPDATE SET token = excluded.token, amount = excluded.amount, passed_at = excluded.passed_at`,
        [p.route, p.id, p.token, p.amount.toString()],
      );
      return { passed: true, used: used + p.amount };
    });
  }

  async recordTx(tx: TxRecord): Promise<void> {
    await this.q(
      `INSERT INTO transactions (hash, chain, sender, nonce, raw, purpose, messages, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (hash) DO UPDATE SET status = excluded.status, raw = excluded.raw, purpose = excluded.purpose, messages = excluded.messages`,
      [tx.hash, tx.chain, tx.sender, tx.nonce, tx.raw, tx.purpose, tx.messages, tx.status, tx.createdAt],
    );
  }

  async setTxStatus(hash: string, status: TxRecord['status']): Promise<void> {
    await this.q('UPDATE transactions SET status = $1 WHERE hash = $2', [status, hash]);
  }

  async pendingTxs(chain: string, sender: string): Promise<TxRecord[]> {
    const res = await this.q<Omit<TxRecord, 'createdAt'> & { created_at: string }>(
      `SELECT * FROM transactions WHERE chain = $1 AND sender = $2 AND status = 'pending' ORDER BY nonce, created_at`, [chain, sender]);
    return res.rows.map(({ created_at, ...rest }) => ({ ...rest, createdAt: Number(created_at) }));
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    // A scan commit holds its lease row (FOR SHARE) until it ends: wait a moment, not for it.
    if (this.pool !== null) return this.atomically((tx) => (tx as PgView).acquireLeaseNow(name, owner, ttlMs, true));
    return this.acquireLeaseNow(name, owner, ttlMs, false);
  }

  private async acquireLeaseNow(name: string, owner: string, ttlMs: number, bounded: boolean): Promise<Lease | null> {
    if (bounded) await this.q(`SET LOCAL lock_timeout = '1000ms'`);
    const r = (await this.q<{ epoch: string }>(
      `INSERT INTO leases (name, owner, epoch, expires_at) VALUES ($1, $2, 1, ${CLOCK} + $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
         epoch = leases.epoch + (CASE WHEN leases.owner = excluded.owner THEN 0 ELSE 1 END)
       WHERE leases.owner = excluded.owner OR leases.expires_at <= ${CLOCK}
       RETURNING epoch`,
      [name, owner, ttlMs],
    )).rows[0];
    return r === undefined ? null : { name, owner, epoch: Number(r.epoch), ttlMs };
  }

  async assertLease(name: string, fence: Fence): Promise<void> {
    // FOR SHARE: a takeover (an UPDATE of this row) waits for this transaction to end.
    const res = await this.q('SELECT 1 FROM leases WHERE name = $1 AND owner = $2 AND epoch = $3 FOR SHARE', [name, fence.owner, fence.epoch]);
    if (res.rowCount !== 1) throw new LeaseLostError(name);
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.q('UPDATE leases SET expires_at = 0 WHERE name = $1 AND owner = $2', [name, owner]);
  }

  async leases(): Promise<(Lease & { expiresAt: number })[]> {
    const res = await this.q<{ name: string; owner: string; epoch: string; expires_at: string; now: string }>(`SELECT *, ${CLOCK} AS now FROM leases ORDER BY name`);
    return res.rows.map((r) => ({ name: r.name, owner: r.owner, epoch: Number(r.epoch), expiresAt: Number(r.expires_at), ttlMs: Math.max(0, Number(r.expires_at) - Number(r.now)) }));
  }

  async haltRoute(route: string, reason: string): Promise<void> {
    await this.q(`INSERT INTO halts (route, reason, at) VALUES ($1, $2, ${CLOCK}) ON CONFLICT (route) DO NOTHING`, [route, reason]);
  }

  async haltedRoutes(): Promise<{ route: string; reason: string; at: number }[]> {
    const res = await this.q<{ route: string; reason: string; at: string }>('SELECT route, reason, at FROM halts ORDER BY route');
    return res.rows.map((r) => ({ route: r.route, reason: r.reason, at: Number(r.at) }));
  }

  async resumeRoute(route: string): Promise<boolean> {
    return (await this.q('DELETE FROM halts WHERE route = $1', [route])).rowCount === 1;
  }

  async atomically<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.pool === null) return fn(this);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw isUnavailable(e) ? unavailable(e, this.where) : e;
    }
    const tx = new PgView(client, this.where, null);
    let broken = false;
    // A connection the server ends while it is checked out (a restart, a failover) emits 'error'
    // between statements; unheard, that would kill the process. The next statement fails instead.
    const heard = () => {
      broken = true;
    };
    client.on('error', heard);
    try {
      await tx.q('BEGIN');
      const result = await fn(tx);
      await tx.q('COMMIT');
      return result;
    } catch (e) {
      broken = isUnavailable(e) || (e instanceof IsorelayError && e.code === ErrorCode.STORE_UNAVAILABLE);
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw e;
    } finally {
      client.off('error', heard);
      // A connection that failed mid-transaction is not given back for reuse.
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool === null ? Promise.resolve() : this.pool.end();
  }
}

export class PgStore extends PgView {
  private constructor(private readonly poolRef: pg.Pool, where: string) {
    super(poolRef, where, poolRef);
  }

  /** Connects and migrates; a database that cannot be reached is a STORE_UNAVAILABLE (the daemon waits and tries again). */
  static async open(o: PgStoreOptions): Promise<PgStore> {
    const where = describeUrl(o.url);
    const pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolSize ?? 8,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      // A statement that hangs (a database failing over, packets dropped) must not hold a step for long.
      query_timeout: 15_000,
    });
    // An idle connection dropped by the server emits here; without a listener it would kill the process.
    pool.on('error', () => undefined);
    const store = new PgStore(pool, where);
    if (o.migrate !== false) {
      try {
        await store.migrate();
      } catch (e) {
        await pool.end().catch(() => undefined);
        throw isUnavailable(e) ? unavailable(e, where) : e;
      }
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.atomically(async (tx) => {
      const q = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => (tx as PgStore).q<R>(text, values);
      // One instance at a time; the others wait here and find the work done.
      await q(`SELECT pg_advisory_xact_lock(hashtext('isorelay.migrate'))`);
      await q('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const done = Number((await q<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0);
      if (done > PG_MIGRATIONS.length)
        throw new IsorelayError(ErrorCode.CONFIG_INVALID, `the database is at schema version ${done}, newer than this isorelay (${PG_MIGRATIONS.length}): upgrade isorelay, never downgrade over a migrated database`);
      for (let v = done; v < PG_MIGRATIONS.length; v++) {
        await q(PG_MIGRATIONS[v] ?? '');
        await q('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
      }
    });
  }

  /** The pool's numbers, for metrics. */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.poolRef.totalCount, idle: this.poolRef.idleCount, waiting: this.poolRef.waitingCount };
  }
}
