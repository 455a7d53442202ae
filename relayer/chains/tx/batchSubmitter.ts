// Coalesces relay calls from many messages into RelayBatcher transactions per chain. While the
// batches in flight are at their limit, new entries queue; when one is mined they go out together,
// so an idle relayer adds no delay and a busy one sends one transaction for many messages. Each entry's calls are
// simulated first (eth_call of the batch); an entry whose call would revert is rejected with that
// call's revert data and left out; a call that fails on chain rejects its entry alone.
import { Interface } from 'ethers';
import { abiFunction } from '../abiFunction.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import type { ChainClient, Receipt } from '../client.js';
import { ourArtifact } from '../contractsAbi.js';
import { isExecutionFailure, RpcResponseError } from '../rpc.js';
import { nodeCouldNotRun, TxRevertedError, type TxSender } from './sender.js';

const batcherIface = new Interface(ourArtifact('RelayBatcher').abi);
const CALL_FAILED = batcherIface.getEvent('CallFailed')?.topicHash as string;
const EXECUTE = abiFunction(batcherIface, 'execute');
/**
 * Batches in flight at once. One slow or lost batch must not hold every later delivery: the next
 * ones go out on the following nonces meanwhile (and the sender keeps the lost one alive).
 */
const MAX_BATCHES_IN_FLIGHT = 3;
/** Per call: the batcher's loop, calldata and result copying, on top of what the call used. */
const PER_CALL_OVERHEAD_GAS = 15_000n;

export interface BatchCall {
  purpose: string;
  /** Calls of a lower phase run first in a batch (e.g. every verify before any receive). */
  phase: number;
  to: string;
  data: string;
  value?: bigint;
  /** Gas forwarded to the call (0/undefined: what is left); also its share of the batch's gas limit. */
  gas?: bigint;
}

export interface BatchEntryRequest {
  calls: BatchCall[];
  messages: string[];
  /** Sort key: entries run in this order within a phase (the source order of the messages). */
  order: string;
}

interface Entry extends BatchEntryRequest {
  resolve: (r: Receipt) => void;
  reject: (e: unknown) => void;
}

/**
 * The gas limit of a batch from its simulation (failed calls included, so never less than the
 * live batch needs): what each call used, with a margin and the batcher's own overhead — and at
 * each call that was promised gas, enough left for the promise (the batcher checks it, 1/64 rule).
 */
export function batchGasLimit(calls: readonly { promised: bigint; used: bigint }[]): bigint {
  let spent = 50_000n;
  let need = 0n;
  for (const c of calls) {
    const used = (c.used * 13n) / 10n + PER_CALL_OVERHEAD_GAS;
    const atCall = c.promised > 0n ? c.promised + c.promised / 63n + 10_000n + PER_CALL_OVERHEAD_GAS : used;
    if (spent + atCall > need) need = spent + atCall;
    spent += used;
  }
  return spent > need ? spent : need;
}

export class BatchSubmitter {
  private queue: Entry[] = [];
  /** Batches sent and not yet mined: several at once, on consecutive nonces of the one sender. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private firstWaitingAt = 0;

  constructor(
    private readonly client: ChainClient,
    private readonly sender: TxSender,
    private readonly batcher: string,
    private readonly maxCalls: number,
    /** The entries' messages this instance no longer holds (another instance took them over): left out of the batch. */
    private readonly lost: (messages: readonly string[]) => Error | null = () => null,
  ) {}

  /** Resolves with the receipt of the batch that ran all of the entry's calls; rejects if one failed. */
  submit(request: BatchEntryRequest): Promise<Receipt> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject });
      this.schedule();
    });
  }

  /**
   * When idle, waits until entries stop arriving for 1 ms (5 ms at most): the messages planned
   * together in one pump go out together, in order, instead of the first one alone.
   */
  private schedule(): void {
    if (this.inFlight >= MAX_BATCHES_IN_FLIGHT || this.queue.length === 0) return;
    const now = Date.now();
    if (this.timer === undefined) this.firstWaitingAt = now;
    else if (now - this.firstWaitingAt < 5) clearTimeout(this.timer);
    else return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, 1);
  }

  private flush(): void {
    if (this.inFlight >= MAX_BATCHES_IN_FLIGHT || this.queue.length === 0) return;
    this.queue.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    const batch: Entry[] = [];
    let calls = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Entry;
      if (batch.length > 0 && calls + next.calls.length > this.maxCalls) break;
      batch.push(this.queue.shift() as Entry);
      calls += next.calls.length;
    }
    this.inFlight++;
    this.send(batch)
      .catch((e: unknown) => {
        for (const entry of batch) entry.reject(e);
      })
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
  }

  private encode(entries: Entry[]): { data: string; value: bigint; gas: bigint; owners: { entry: Entry; call: BatchCall }[] } {
    // Entries arrive in source order; calls go phase by phase (a stable sort keeps that order).
    const owners = entries.flatMap((entry) => entry.calls.map((call) => ({ entry, call }))).sort((a, b) => a.call.phase - b.call.phase);
    const data = EXECUTE.encode([owners.map(({ call }) => [call.to, call.value ?? 0n, call.gas ?? 0n, call.data])]);
    const value = owners.reduce((sum, { call }) => sum + (call.value ?? 0n), 0n);
    return { data, value, gas: 0n, owners };
  }

  private async send(all: Entry[]): Promise<void> {
    // 0. Entries whose messages another instance took over are not this batch's to send.
    const entries: Entry[] = [];
    for (const e of all) {
      const gone = this.lost(e.messages);
      if (gone === null) entries.push(e);
      else e.reject(gone);
    }
    if (entries.length === 0) return;
    // 1. Simulate: leave out (and reject) every entry with a call that would fail.
    let batch = this.encode(entries);
    const simulated = await this.simulate(batch);
    const gasLimit = batchGasLimit(batch.owners.map((o, i) => ({ promised: o.call.gas ?? 0n, used: simulated[i]?.gasUsed ?? 0n })));
    const failed = new Map<Entry, { purpose: string; revertData: string }>();
    simulated.forEach((r, i) => {
      const owner = batch.owners[i];
      if (!r.ok && owner !== undefined && !failed.has(owner.entry)) failed.set(owner.entry, { purpose: owner.call.purpose, revertData: r.returnData });
    });
    for (const [entry, f] of failed) entry.reject(new TxRevertedError(f.purpose, f.revertData, 'simulation of the batch'));
    const live = entries.filter((e) => !failed.has(e));
    if (live.length === 0) return;
    if (live.length !== entries.length) batch = this.encode(live);
    batch = { ...batch, gas: gasLimit };

    // 2. Send; a call that still failed on chain (a race) rejects its own entry only.
    const receipt = await this.sender.submit({
      to: this.batcher, data: batch.data, value: batch.value, gasLimit: batch.gas, presimulated: true,
      purpose: 'relayBatch', messages: live.flatMap((e) => e.messages),
    });
    if (receipt.status !== 1) {
      for (const e of live) e.reject(new IsorelayError(ErrorCode.TX_REVERTED, `relay batch ${receipt.transactionHash} reverted`));
      return;
    }
    const failedOnChain = new Map<Entry, { purpose: string; revertData: string }>();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== this.batcher.toLowerCase() || log.topics[0] !== CALL_FAILED) continue;
      const parsed = batcherIface.parseLog({ topics: log.topics, data: log.data });
      const owner = batch.owners[Number(parsed?.args.getValue('index') as bigint)];
      if (owner !== undefined && !failedOnChain.has(owner.entry))
        failedOnChain.set(owner.entry, { purpose: owner.call.purpose, revertData: parsed?.args.getValue('revertData') as string });
    }
    for (const e of live) {
      const f = failedOnChain.get(e);
      if (f === undefined) e.resolve(receipt);
      else e.reject(new TxRevertedError(f.purpose, f.revertData, `failed inside batch ${receipt.transactionHash}`));
    }
  }

  /**
   * `calls` (one message's steps, in phase order) simulated through the batcher on another node,
   * as this submitter would run them: each call's outcome. For a second opinion on a revert.
   */
  async simulateOn(client: ChainClient, calls: readonly BatchCall[]): Promise<{ ok: boolean; returnData: string }[]> {
    const ordered = [...calls].sort((a, b) => a.phase - b.phase);
    const data = EXECUTE.encode([ordered.map((c) => [c.to, c.value ?? 0n, c.gas ?? 0n, c.data])]);
    const value = ordered.reduce((sum, c) => sum + (c.value ?? 0n), 0n);
    const raw = await client.rpc.call<string>('eth_call', [{ from: this.sender.address, to: this.batcher, data, value: '0x' + value.toString(16) }, 'latest']);
    const [results] = EXECUTE.decode(raw) as unknown as [[boolean, bigint, string][]];
    // Back in the callers' order.
    return calls.map((c) => {
      const r = results[ordered.indexOf(c)];
      return { ok: r?.[0] === true, returnData: r?.[2] ?? '0x' };
    });
  }

  /** One eth_call: each call's outcome and the gas it used. */
  private async simulate(batch: { data: string; value: bigint }): Promise<{ ok: boolean; gasUsed: bigint; returnData: string }[]> {
    const tx = { from: this.sender.address, to: this.batcher, data: batch.data, value: '0x' + batch.value.toString(16) };
    try {
      const raw = await this.client.rpc.call<string>('eth_call', [tx, 'latest']);
      const [results] = EXECUTE.decode(raw) as unknown as [[boolean, bigint, string][]];
      return results.map(([ok, gasUsed, returnData]) => ({ ok, gasUsed, returnData }));
    } catch (e) {
      // The batch itself reverted (not an operator, gas): nothing in it can go.
      if (e instanceof RpcResponseError && isExecutionFailure(e)) throw new IsorelayError(ErrorCode.TX_REJECTED, `the relay batcher refused the batch: ${e.message}`, { cause: e });
      if (e instanceof RpcResponseError) throw nodeCouldNotRun(e);
      throw e;
    }
  }
}
