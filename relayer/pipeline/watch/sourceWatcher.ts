// The watch stage of one route: scans the source chain for the transport's events (observed),
// then, once a message's block is final, fetches its receipt again and finalizes it, or marks it
// orphaned when the chain no longer has it. A reorg rewinds the scan and orphans what it removed.
import { toQuantity } from 'ethers';
import type { ChainClient } from '../../chains/client.js';
import { LogScanner } from '../../chains/scanner.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import type { RouteConfig } from '../../config/schema.js';
import { DropCode } from '../../messages/reasons.js';
import { DEFERRED } from '../../messages/status.js';
import type { LeaseBook } from '../../store/leases.js';
import type { NewMessage, Store } from '../../store/store.js';
import type { SourceWatch } from '../../transports/transport.js';
import type { EventBus, RelayerEvent } from '../events.js';

export interface SourceWatcherOptions {
  route: RouteConfig;
  client: ChainClient;
  store: Store;
  events: EventBus;
  watch: SourceWatch;
  /** How many ranges one poll may scan before it lets the other stages run. */
  maxRangesPerPoll?: number;
  /** This instance's leases: with one, the route is scanned only while this instance holds `scan:<route>`. */
  book?: LeaseBook;
  now?: () => number;
}

const JUDGE_EVERY_MS = 5_000;
/** How often, once caught up, the stored sequences are compared with the paths' nonces on chain. */
const TAIL_CHECK_MS = 2_000;
/** Checks in a row a path must stay behind before it counts as a gap (a new block may just have landed). */
const TAIL_CHECKS_BEHIND = 2;

class NonceGap extends Error {
  constructor(
    readonly path: string,
    readonly expected: bigint,
    readonly got: bigint,
    /** The block of the last message in order: rescanning after it finds the missing one. */
    readonly lastBlock: bigint,
  ) {
    super(`nonce gap on ${path}: expected ${expected}, got ${got}`);
  }
}

export class SourceWatcher {
  private readonly scanner: LogScanner;
  private readonly now: () => number;

  constructor(private readonly o: SourceWatcherOptions) {
    this.now = o.now ?? Date.now;
    const cfg = o.client.config;
    this.scanner = new LogScanner(o.client, o.store, {
      stream: `${o.route.name}:${o.route.transport}`,
      filter: o.watch.filter,
      startBlock: BigInt(cfg.startBlock),
      maxRange: BigInt(cfg.maxBlockRange),
      onLogs: (tx, logs) => this.observe(tx, logs),
      onReorg: (tx, ancestor) => this.orphanAbove(tx, ancestor),
      ...(o.book === undefined ? {} : { lease: { name: this.leaseName, fence: () => o.book?.held(this.leaseName) } }),
    });
    o.book?.want(this.leaseName);
  }

  /** The lease by which one instance at a time scans this route's source stream. */
  get leaseName(): string {
    return `scan:${this.o.route.name}`;
  }

  /** Whether this instance scans the route now (always, without a lease book). */
  get scanning(): boolean {
    return this.o.book === undefined || this.o.book.held(this.leaseName) !== undefined;
  }

  /** One round: scan towards the head, then finalize what became final. Returns true if it did work. */
  async poll(): Promise<boolean> {
    // Every few seconds every endpoint's head is compared: one that lags is not asked first.
    await this.o.client.rpc.judgeHeadsIfDue(JUDGE_EVERY_MS);
    const head = await this.o.client.blockNumber();
    const finalized = await this.o.client.finalizedBlockNumber(head);
    this.o.events.emit({ type: 'chain.head', chain: this.o.client.name, head, finalized });
    // Another instance holds this stream: it scans and finalizes; this one watches the head only.
    if (!this.scanning) return false;
    let worked = false;
    for (let i = 0; i < (this.o.maxRangesPerPoll ?? 10); i++) {
      const started = Date.now();
      let r;
      try {
        r = await this.scanner.poll(head, finalized);
      } catch (e) {
        if (!(e instanceof NonceGap)) throw e;
        await this.scanner.rewindTo(e.lastBlock);
        // The node that answered no logs below its own head is asked last for a while.
        this.o.client.rpc.demoteCurrent();
        this.o.events.emit({ type: 'scan.gap', stream: this.o.route.name, path: e.path, expected: e.expected, got: e.got, rewoundTo: e.lastBlock });
        // Let the node catch up before reading the range again.
        return true;
      }
      if (r.kind === 'idle') break;
      worked = true;
      if (r.kind === 'reorg') {
        // The depth is the scanner's (how far the checkpoint went back); the count is what the rewind orphaned.
        this.o.events.emit({ type: 'scan.reorg', stream: this.o.route.name, ancestor: r.ancestor, depth: r.depth, orphaned: this.lastOrphaned });
      }
      if (r.kind === 'logs') {
        this.o.events.emit({ type: 'scan.range', stream: `${this.o.route.name}`, from: r.from, to: r.to, logs: r.logs.length, durationMs: Date.now() - started });
        if (r.to >= head) break;
      }
    }
    const scanned = await this.scanner.checkpoint();
    this.o.events.emit({ type: 'scan.progress', stream: this.o.route.name, chain: this.o.client.name, scanned, head });
    if (scanned >= head && (await this.checkTails())) return true;
    return (await this.finalize(finalized)) || worked;
  }

  private lastTailCheck = 0;
  private readonly behind = new Map<string, number>();

  /**
   * Caught up with the head: each path's newest nonce on chain against the stored sequence. A
   * path that stays behind means a node answered no logs for its last messages, which no later
   * message would reveal: the scan goes back to that path's last stored message, as for a gap.
   */
  private async checkTails(): Promise<boolean> {
    const now = Date.now();
    if (this.o.watch.pathHeads === undefined || now - this.lastTailCheck < TAIL_CHECK_MS) return false;
    this.lastTailCheck = now;
    for (const { path, nonce } of await this.o.watch.pathHeads(this.o.client)) {
      const last = await this.o.store.lastInSequence(path);
      // Nothing stored on this path: scanning may have begun after its earlier messages.
      if (last?.sequence === null || last === undefined || nonce <= last.sequence.nonce) {
        this.behind.delete(path);
        continue;
      }
      const times = (this.behind.get(path) ?? 0) + 1;
      this.behind.set(path, times);
      if (times < TAIL_CHECKS_BEHIND) continue;
      this.behind.delete(path);
      // From the block before the last stored message: the missing one may share its block.
      const from = last.srcBlock > 0n ? last.srcBlock - 1n : 0n;
      await this.scanner.rewindTo(from);
      this.o.client.rpc.demoteCurrent();
      this.o.events.emit({ type: 'scan.gap', stream: this.o.route.name, path, expected: last.sequence.nonce + 1n, got: nonce, rewoundTo: from });
      return true;
    }
    return false;
  }

  private async observe(tx: Store, logs: Parameters<SourceWatcherOptions['watch']['parse']>[0][]): Promise<void> {
    const rows = logs.map((l) => this.o.watch.parse(l)).filter((r) => r !== null);
    await this.checkSequences(tx, rows);
    const changed = await tx.observe(rows, this.now());
    for (const id of changed) {
      const row = rows.find((r) => r.id === id);
      this.o.events.emit({ type: 'message.observed', id, route: this.o.route.name, messageId: row?.messageId ?? null });
    }
  }

  /**
   * Inside the scan transaction: each path's nonces must follow the last one stored. A skipped
   * nonce means a node returned too few logs (RELIABILITY 2, 8); throwing undoes the range, and
   * poll() rewinds to the last message of the path to read it again.
   */
  private async checkSequences(tx: Store, rows: NewMessage[]): Promise<void> {
    const next = new Map<string, bigint>();
    for (const r of [...rows].sort((a, b) => (a.sequence?.nonce ?? 0n) < (b.sequence?.nonce ?? 0n) ? -1 : 1)) {
      if (r.sequence === null) continue;
      const { path, nonce } = r.sequence;
      let expected = next.get(path);
      if (expected === undefined) {
        const last = await tx.lastInSequence(path);
        // Never seen on this path (or scanning began mid-way): nothing to compare with yet.
        if (last === undefined || last.sequence === null) {
          next.set(path, nonce + 1n);
          continue;
        }
        if (nonce <= last.sequence.nonce) continue; // seen already (a rescan)
        expected = last.sequence.nonce + 1n;
        if (nonce > expected) throw new NonceGap(path, expected, nonce, last.srcBlock);
      } else if (nonce > expected) {
        throw new NonceGap(path, expected, nonce, await this.scanner.checkpoint(tx));
      }
      next.set(path, nonce + 1n);
    }
  }

  /** Inside the rewind transaction: what the reorg removed was never final, or this is an incident. */
  private async orphanAbove(tx: Store, ancestor: bigint): Promise<void> {
    const above = (await tx.observedFrom(this.o.route.source, ancestor + 1n)).filter((m) => m.route === this.o.route.name);
    const beyond = above.filter((m) => m.status !== 'observed' && m.status !== 'orphaned' && !(DEFERRED.has(m.status) && m.resumeStatus === 'observed'));
    if (beyond.length > 0) {
      throw new IsorelayError(ErrorCode.REORG_BEYOND_FINALITY, `${this.o.route.source}: a reorg removed block ${ancestor + 1n}+ holding ${beyond.length} message(s) already past finality`, {
        guidance: ['The route is halted. What was delivered stays delivered; investigate the chain and its finality policy.'],
        details: { messages: beyond.map((m) => m.id) },
      });
    }
    let orphaned = 0;
    for (const m of above) {
      if (m.status === 'orphaned') continue;
      if (await tx.transition(m.id, m.status, 'orphaned', { lastError: `block ${m.srcBlock} was reorged out`, reasonCode: DropCode.reorged }, this.now())) {
        orphaned++;
        this.o.events.emit({ type: 'message.moved', id: m.id, route: m.route, from: m.status, to: 'orphaned', code: DropCode.reorged, reason: 'reorged out before finality', ageMs: this.now() - m.observedAt });
      }
    }
    this.lastOrphaned = orphaned;
  }

  /** How many messages the last reorg rewind orphaned (reported with the scanner's depth). */
  private lastOrphaned = 0;

  /**
   * Final blocks: re-fetch each receipt; same block and success → finalized. A missing receipt
   * orphans the message only when the node's block at that height is another block (a reorg took
   * it); a node without that block, or with it but without the receipt, is behind or inconsistent:
   * the message stays observed and is looked at again (a lagging node must not orphan a message).
   */
  private async finalize(finalized: bigint): Promise<boolean> {
    const due = (await this.o.store.due('observed', this.now(), 200, this.o.route.name)).filter((m) => m.srcBlock <= finalized);
    if (due.length === 0) return false;
    const receipts = await this.o.client.receipts(due.map((m) => m.srcTx));
    const missing = [...new Set(due.filter((_m, i) => receipts[i] === null || receipts[i] === undefined).map((m) => m.srcBlock))];
    const headers = new Map<bigint, string | null>();
    if (missing.length > 0) {
      const blocks = await this.o.client.rpc.batch<({ hash?: string } | null)[]>(missing.map((n) => ({ method: 'eth_getBlockByNumber', params: [toQuantity(n), false] })));
      missing.forEach((n, i) => headers.set(n, blocks[i]?.hash ?? null));
    }
    const moved: RelayerEvent[] = [];
    // One store transaction (one fsync) for the whole round, not one per message.
    const lease = this.o.book === undefined ? undefined : { name: this.leaseName, fence: this.o.book.held(this.leaseName) };
    await this.o.store.atomically(async (tx) => {
      if (lease !== undefined) {
        if (lease.fence === undefined) return;
        await tx.assertLease(lease.name, lease.fence);
      }
      for (const [i, m] of due.entries()) {
        const r = receipts[i] ?? null;
        const now = this.now();
        if (r === null) {
          const hash = headers.get(m.srcBlock);
          // Not known yet, or the same block without the receipt: this node cannot tell; look again later.
          if (hash === null || hash === undefined || hash.toLowerCase() === m.srcBlockHash.toLowerCase()) continue;
        }
        const ok = r !== null && r.status === 1 && r.blockHash === m.srcBlockHash;
        const to = ok ? 'finalized' : r !== null && r.status === 1 && r.blockNumber <= finalized ? 'observed' : 'orphaned';
        if (to === 'observed' && r !== null) {
          // Re-mined in another final block: keep it, with its new block.
          await tx.transition(m.id, m.status, 'observed', { srcBlock: r.blockNumber, srcBlockHash: r.blockHash }, now);
          continue;
        }
        const reason = ok ? undefined : r === null ? 'the transaction is gone from the final chain' : 'the transaction failed or moved';
        if (await tx.transition(m.id, m.status, to, reason === undefined ? { reasonCode: null } : { lastError: reason, reasonCode: DropCode.reorged }, now))
          moved.push({ type: 'message.moved', id: m.id, route: m.route, from: m.status, to, ...(reason === undefined ? {} : { code: DropCode.reorged, reason }), ageMs: now - m.observedAt });
      }
    });
    for (const e of moved) this.o.events.emit(e);
    return true;
  }
}
