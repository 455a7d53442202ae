// Coalesces relay calls from many messages into one RelayBatcher transaction per chain. While a
// batch is in flight, new entries queue; when it is mined they go out together, so an idle relayer
// adds no delay and a busy one sends one transaction for many messages. Each entry's calls are
// simulated first (eth_call of the batch); an entry whose call would revert is rejected with that
// call's revert data and left out; a call that fails on chain rejects its entry alone.
import { Interface } from 'ethers';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import type { ChainClient, Receipt } from '../client.js';
import { ourArtifact } from '../contractsAbi.js';
import { RpcResponseError } from '../rpc.js';
import { TxRevertedError, type TxSender } from './sender.js';

const batcherIface = new Interface(ourArtifact('RelayBatcher').abi);
const CALL_FAILED = batcherIface.getEvent('CallFailed')?.topicHash as string;
/** Per call: the batcher's own loop, the call and its calldata; a generous flat allowance. */
const PER_CALL_OVERHEAD_GAS = 40_000n;
const DEFAULT_CALL_GAS = 200_000n;

export interface BatchCall {
  purpose: string;
  to: string;
  data: string;
  value?: bigint;
  /** Gas forwarded to the call (0/undefined: what is left); also its share of the batch's gas limit. */
  gas?: bigint;
}

interface Entry {
  calls: BatchCall[];
  messages: string[];
  resolve: (r: Receipt) => void;
  reject: (e: unknown) => void;
}

export class BatchSubmitter {
  private queue: Entry[] = [];
  private inFlight = false;

  constructor(
    private readonly client: ChainClient,
    private readonly sender: TxSender,
    private readonly batcher: string,
    private readonly maxCalls: number,
  ) {}

  /** Resolves with the receipt of the batch that ran all of `calls`; rejects if any of them failed. */
  submit(calls: BatchCall[], messages: string[]): Promise<Receipt> {
    return new Promise((resolve, reject) => {
      this.queue.push({ calls, messages, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch: Entry[] = [];
    let calls = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Entry;
      if (batch.length > 0 && calls + next.calls.length > this.maxCalls) break;
      batch.push(this.queue.shift() as Entry);
      calls += next.calls.length;
    }
    this.inFlight = true;
    this.send(batch)
      .catch((e: unknown) => {
        for (const entry of batch) entry.reject(e);
      })
      .finally(() => {
        this.inFlight = false;
        this.flush();
      });
  }

  private encode(entries: Entry[]): { data: string; value: bigint; gas: bigint; owners: { entry: Entry; call: BatchCall }[] } {
    const owners = entries.flatMap((entry) => entry.calls.map((call) => ({ entry, call })));
    const data = batcherIface.encodeFunctionData('execute', [owners.map(({ call }) => [call.to, call.value ?? 0n, call.gas ?? 0n, call.data])]);
    const value = owners.reduce((sum, { call }) => sum + (call.value ?? 0n), 0n);
    const gas = owners.reduce((sum, { call }) => sum + (call.gas ?? DEFAULT_CALL_GAS) + PER_CALL_OVERHEAD_GAS, 50_000n);
    return { data, value, gas, owners };
  }

  private async send(entries: Entry[]): Promise<void> {
    // 1. Simulate: leave out (and reject) every entry with a call that would fail.
    let batch = this.encode(entries);
    const simulated = await this.simulate(batch);
    const failed = new Map<Entry, { purpose: string; revertData: string }>();
    simulated.forEach((r, i) => {
      const owner = batch.owners[i];
      if (!r.ok && owner !== undefined && !failed.has(owner.entry)) failed.set(owner.entry, { purpose: owner.call.purpose, revertData: r.returnData });
    });
    for (const [entry, f] of failed) entry.reject(new TxRevertedError(f.purpose, f.revertData, 'simulation of the batch'));
    const live = entries.filter((e) => !failed.has(e));
    if (live.length === 0) return;
    if (live.length !== entries.length) batch = this.encode(live);

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

  private async simulate(batch: { data: string; value: bigint; gas: bigint }): Promise<{ ok: boolean; returnData: string }[]> {
    try {
      const raw = await this.client.rpc.call<string>('eth_call', [
        { from: this.sender.address, to: this.batcher, data: batch.data, value: '0x' + batch.value.toString(16), gas: '0x' + batch.gas.toString(16) },
        'latest',
      ]);
      const [results] = batcherIface.decodeFunctionResult('execute', raw) as unknown as [[boolean, string][]];
      return results.map(([ok, returnData]) => ({ ok, returnData }));
    } catch (e) {
      // The batch itself reverted (not an operator, gas): nothing in it can go.
      if (e instanceof RpcResponseError) throw new IsorelayError(ErrorCode.TX_REJECTED, `the relay batcher refused the batch: ${e.message}`, { cause: e });
      throw e;
    }
  }
}
