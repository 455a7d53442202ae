// Scans one log stream in adaptive block ranges, remembers recent block hashes, and detects
// reorgs: on a mismatch it finds the common ancestor and rewinds the checkpoint to it.
import { toQuantity } from 'ethers';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import type { Store } from '../store/store.js';
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
  /** Runs inside the store transaction that advances the checkpoint: nothing is lost or repeated. */
  onLogs: (logs: Log[]) => void;
  /** Runs inside the store transaction that rewinds the checkpoint to `ancestor`. */
  onReorg: (ancestor: bigint) => void;
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

  get checkpoint(): bigint {
    return this.store.getCheckpoint(this.options.stream) ?? this.options.startBlock - 1n;
  }

  /** Rewinds the checkpoint (used on a nonce gap: a node may have returned too few logs). */
  rewindTo(block: bigint): void {
    const { stream } = this.options;
    this.store.atomically(() => {
      if (block < this.checkpoint) {
        this.store.setCheckpoint(stream, block);
        this.store.forgetBlocks(stream, block + 1n);
      }
    });
  }

  /** One step: scans the next range up to `head`, or handles a reorg it finds. */
  async poll(head: bigint, finalized: bigint): Promise<ScanResult> {
    const { stream } = this.options;
    const checkpoint = this.checkpoint;
    if (checkpoint >= head) {
      const known = this.store.blockHash(stream, checkpoint);
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
    const knownBefore = this.store.blockHash(stream, checkpoint);
    if (knownBefore !== undefined && answer.before !== null && answer.before.hash !== knownBefore) {
      return this.handleReorg(checkpoint, finalized);
    }
    const logs = answer.logs.filter((l) => !l.removed);
    const hashes = new Map<bigint, string>([[answer.last.number, answer.last.hash]]);
    for (const l of logs) hashes.set(l.blockNumber, l.blockHash);
    this.store.atomically(() => {
      this.store.saveBlockHashes(stream, [...hashes].map(([number, hash]) => ({ number, hash })));
      this.options.onLogs(logs);
      this.store.setCheckpoint(stream, to);
      // Hashes at or below finality never change again; keep a few for the ancestor search.
      if (finalized > 0n) this.store.pruneBlocks(stream, finalized - 64n);
    });
    if (this.range < this.options.maxRange) this.range = this.range * 2n > this.options.maxRange ? this.options.maxRange : this.range * 2n;
    return { kind: 'logs', from, to, logs };
  }

  private async handleReorg(checkpoint: bigint, finalized: bigint): Promise<ScanResult> {
    const { stream } = this.options;
    const remembered = this.store.recentBlocks(stream, -1n);
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
    this.store.atomically(() => {
      this.store.forgetBlocks(stream, target + 1n);
      this.store.setCheckpoint(stream, target);
      this.options.onReorg(target);
    });
    this.range = this.options.maxRange;
    return { kind: 'reorg', ancestor: target, depth: checkpoint - target };
  }
}
