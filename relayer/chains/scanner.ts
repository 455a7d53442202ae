// Scans one log stream in adaptive block ranges, remembers recent block hashes, and detects
// reorgs: on a mismatch it finds the common ancestor and rewinds the checkpoint to it. With
// several instances on one database, only the holder of the stream's lease scans, and every
// commit checks that lease inside its transaction: a scanner that lost it writes nothing.
import { toQuantity } from 'ethers';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { LeaseLostError, type Fence, type Store } from '../store/store.js';
import type { ChainClient, Log, LogFilter } from './client.js';
import { RpcResponseError } from './rpc.js';

export type ScanResult =
  | { kind: 'idle' }
  | { kind: 'logs'; from: bigint; to: bigint; logs: Log[] }
  | { kind: 'reorg'; ancestor: bigint; depth: bigint };

export interface ScannerOptions {
  /** Names the checkpoint and the remembered hashes, e.g. `arbitrum:layerzero`. */
  stream: string;
  filter: LogFilter;
  startBlock: bigint;
  maxRange: bigint;
  /** Runs inside the store transaction (`tx`) that advances the checkpoint: nothing is lost or repeated. */
  onLogs: (tx: Store, logs: Log[]) => Promise<void>;
  /** Runs inside the store transaction (`tx`) that rewinds the checkpoint to `ancestor`. */
  onReorg: (tx: Store, ancestor: bigint) => Promise<void>;
  /** The lease that fences this stream's writes (several instances on one store); none: this process alone. */
  lease?: { name: string; fence: () => Fence | undefined };
}

export class LogScanner {
  private range: bigint;

  constructor(
    private readonly client: ChainClient,
    private readonly store: Store,
    private readonly options: ScannerOptions,
  ) {
    this.range = options.maxRange;
  }

  async checkpoint(store: Store = this.store): Promise<bigint> {
    return (await store.getCheckpoint(this.options.stream)) ?? this.options.startBlock - 1n;
  }

  /** One transaction that holds the stream's lease throughout (or writes nothing). */
  private commit<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const lease = this.options.lease;
    return this.store.atomically(async (tx) => {
      if (lease !== undefined) {
        const fence = lease.fence();
        if (fence === undefined) throw new LeaseLostError(lease.name);
        await tx.assertLease(lease.name, fence);
      }
      return fn(tx);
    });
  }

  /** Rewinds the checkpoint (used on a nonce gap: a node may have returned too few logs). */
  async rewindTo(block: bigint): Promise<void> {
    const { stream } = this.options;
    await this.commit(async (tx) => {
      if (block < (await this.checkpoint(tx))) {
        await tx.setCheckpoint(stream, block);
        await tx.forgetBlocks(stream, block + 1n);
      }
    });
  }

  /** One step: scans the next range up to `head`, or handles a reorg it finds. */
  async poll(head: bigint, finalized: bigint): Promise<ScanResult> {
    const { stream } = this.options;
    const checkpoint = await this.checkpoint();
    if (checkpoint >= head) {
      const known = await this.store.blockHash(stream, checkpoint);
      if (known === undefined) return { kind: 'idle' };
      const current = await this.client.block(checkpoint);
      if (current !== null && current.hash === known) return { kind: 'idle' };
      // Another block there, or none: a reorg, or a node that is behind (handleReorg tells them apart).
      return this.handleReorg(checkpoint, finalized);
    }
    const from = checkpoint + 1n;
    const to = head < from + this.range - 1n ? head : from + this.range - 1n;
    let answer;
    try {
      answer = await this.client.logsWithBounds(this.options.filter, from, to);
    } catch (e) {
      // The node refused the range (too many results, range too wide): narrow it and try again.
      if (e instanceof RpcResponseError && this.range > 1n) this.range = this.range / 2n;
      throw e;
    }
    const knownBefore = await this.store.blockHash(stream, checkpoint);
    if (knownBefore !== undefined && answer.before !== null && answer.before.hash !== knownBefore) {
      return this.handleReorg(checkpoint, finalized);
    }
    const logs = answer.logs.filter((l) => !l.removed);
    const hashes = new Map<bigint, string>([[answer.last.number, answer.last.hash]]);
    for (const l of logs) hashes.set(l.blockNumber, l.blockHash);
    await this.commit(async (tx) => {
      // Another instance moved the stream meanwhile (it held the lease before this one): its range stands.
      if ((await this.checkpoint(tx)) !== checkpoint) throw new LeaseLostError(`${stream} (its checkpoint moved)`);
      await tx.saveBlockHashes(stream, [...hashes].map(([number, hash]) => ({ number, hash })));
      await this.options.onLogs(tx, logs);
      await tx.setCheckpoint(stream, to);
      // Hashes at or below finality never change again; keep a few for the ancestor search.
      if (finalized > 0n) await tx.pruneBlocks(stream, finalized - 64n);
    });
    if (this.range < this.options.maxRange) this.range = this.range * 2n > this.options.maxRange ? this.options.maxRange : this.range * 2n;
    return { kind: 'logs', from, to, logs };
  }

  private async handleReorg(checkpoint: bigint, finalized: bigint): Promise<ScanResult> {
    const { stream } = this.options;
    const remembered = await this.store.recentBlocks(stream, -1n);
    const current = remembered.length === 0 ? [] : await this.client.rpc.batch<({ hash: string } | null)[]>(
      remembered.map((b) => ({ method: 'eth_getBlockByNumber', params: [toQuantity(b.number), false] })),
    );
    let ancestor: bigint | undefined;
    let changed = false;
    for (let i = 0; i < remembered.length; i++) {
      const b = remembered[i] as { number: bigint; hash: string };
      const now = current[i];
      // A block the node lacks says nothing (it is behind, or the block went with a shorter chain):
      // only another hash at a height the node has is a reorg.
      if (now === null || now === undefined) continue;
      if (now.hash === b.hash) {
        ancestor = b.number;
        break;
      }
      changed = true;
      if (b.number <= finalized)
        throw new IsorelayError(ErrorCode.REORG_BEYOND_FINALITY, `${stream}: block ${b.number} changed although it was final (finalized head ${finalized})`, {
          guidance: ['This chain reorganised deeper than its finality policy: its routes are halted. Investigate the node and the chain before resuming.'],
          details: { block: b.number.toString(), finalized: finalized.toString() },
        });
    }
    // Nothing the node has differs from what we saw: it is behind (a stale head), not on another fork.
    if (!changed) return { kind: 'idle' };
    if (ancestor === undefined) ancestor = finalized >= this.options.startBlock - 1n ? finalized : this.options.startBlock - 1n;
    const target = ancestor;
    await this.commit(async (tx) => {
      await tx.forgetBlocks(stream, target + 1n);
      await tx.setCheckpoint(stream, target);
      await this.options.onReorg(tx, target);
    });
    this.range = this.options.maxRange;
    return { kind: 'reorg', ancestor: target, depth: checkpoint - target };
  }
}
