// Sends transactions for one (chain, key): a nonce manager, EIP-1559 fees, the signed
// transaction stored before it is broadcast, many in flight, receipts polled at the chain's
// block time, and stuck ones replaced with a capped fee bump.
import { Transaction, type Wallet } from 'ethers';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import type { Store } from '../../store/store.js';
import type { ChainClient, Receipt } from '../client.js';
import { RpcResponseError } from '../rpc.js';
import { estimateFees, bumpFees, type Fees } from './fees.js';

export interface TxRequest {
  to: string;
  data: string;
  value?: bigint;
  /** A floor under the estimate (e.g. the gas a LayerZero option promises the receiver). */
  minGasLimit?: bigint;
  purpose: string;
  messages: string[];
}

/** The node refused to execute the call (estimation or eth_call reverted): nothing was sent. */
export class TxRevertedError extends IsorelayError {
  override readonly name = 'TxRevertedError';
  constructor(
    readonly purpose: string,
    readonly revertData: string | null,
    reason: string,
  ) {
    super(ErrorCode.TX_REVERTED, `${purpose} reverted: ${reason}`, { details: { revertData } });
  }
}

interface Flight {
  nonce: number;
  fees: Fees;
  firstFees: Fees;
  tx: { to: string; data: string; value: bigint; gasLimit: bigint };
  hashes: string[];
  sentAt: number;
}

export interface TxSenderOptions {
  pollMs: number;
  stuckAfterMs: number;
  maxFeeMultiplier: number;
  /** Margin added over the estimate, in percent. */
  gasMarginPct?: number;
}

export class TxSender {
  private nextNonce = -1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: ChainClient,
    private readonly wallet: Wallet,
    private readonly store: Store,
    private readonly options: TxSenderOptions,
  ) {}

  get address(): string {
    return this.wallet.address;
  }

  /**
   * Finds what was in flight before a restart: mined ones are marked, unmined ones whose nonce
   * is still open are broadcast again, and the nonce resumes after both the chain and the store.
   */
  async recover(): Promise<void> {
    const pending = this.store.pendingTxs(this.client.name, this.address);
    const receipts = await this.client.receipts(pending.map((p) => p.hash));
    const chainNonce = await this.chainNonce('latest');
    for (const [i, p] of pending.entries()) {
      if (receipts[i] !== null) this.store.setTxStatus(p.hash, 'mined');
      else if (p.nonce < chainNonce) this.store.setTxStatus(p.hash, 'replaced');
      else await this.broadcast(p.raw).catch(() => undefined);
    }
    this.nextNonce = Math.max(await this.chainNonce('pending'), ...pending.map((p) => p.nonce + 1));
  }

  /** Sends and waits for the receipt; a revert at estimation throws TxRevertedError. */
  async submit(req: TxRequest): Promise<Receipt> {
    const flight = await this.enqueue(() => this.sendNew(req));
    return this.waitFor(flight, req);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async chainNonce(tag: 'latest' | 'pending'): Promise<number> {
    return Number(BigInt(await this.client.rpc.call<string>('eth_getTransactionCount', [this.address, tag])));
  }

  private async sendNew(req: TxRequest): Promise<Flight> {
    if (this.nextNonce < 0) await this.recover();
    const value = req.value ?? 0n;
    // Always estimated: the estimate is also the simulation that catches a revert before sending.
    const estimate = await this.estimateGas(req, value);
    const gasLimit = req.minGasLimit !== undefined && req.minGasLimit > estimate ? req.minGasLimit : estimate;
    const fees = await estimateFees(this.client);
    const flight: Flight = { nonce: this.nextNonce, fees, firstFees: fees, tx: { to: req.to, data: req.data, value, gasLimit }, hashes: [], sentAt: Date.now() };
    await this.signRecordBroadcast(flight, req);
    this.nextNonce++;
    return flight;
  }

  private async estimateGas(req: TxRequest, value: bigint): Promise<bigint> {
    try {
      const hex = await this.client.rpc.call<string>('eth_estimateGas', [
        { from: this.address, to: req.to, data: req.data, value: '0x' + value.toString(16) },
      ]);
      return (BigInt(hex) * BigInt(100 + (this.options.gasMarginPct ?? 20))) / 100n;
    } catch (e) {
      if (e instanceof RpcResponseError) throw new TxRevertedError(req.purpose, revertDataOf(e), e.message);
      throw e;
    }
  }

  private async signRecordBroadcast(flight: Flight, req: TxRequest): Promise<void> {
    const tx = Transaction.from({
      type: 2,
      chainId: this.client.chainId,
      nonce: flight.nonce,
      to: flight.tx.to,
      data: flight.tx.data,
      value: flight.tx.value,
      gasLimit: flight.tx.gasLimit,
      maxFeePerGas: flight.fees.maxFeePerGas,
      maxPriorityFeePerGas: flight.fees.maxPriorityFeePerGas,
    });
    const raw = await this.wallet.signTransaction(tx);
    const hash = Transaction.from(raw).hash as string;
    // The intent is durable before the side effect: a crash after this line finds it on restart.
    this.store.recordTx({
      chain: this.client.name, sender: this.address, nonce: flight.nonce, hash, raw, purpose: req.purpose,
      messages: req.messages.join(','), status: 'pending', createdAt: Date.now(),
    });
    flight.hashes.push(hash);
    flight.sentAt = Date.now();
    try {
      await this.broadcast(raw);
    } catch (e) {
      if (e instanceof RpcResponseError && /nonce too low|nonce has already been used/i.test(e.message)) {
        // Someone else used this nonce (a transaction from before a crash): resynchronise.
        this.store.setTxStatus(hash, 'dropped');
        this.nextNonce = await this.chainNonce('pending');
        flight.nonce = this.nextNonce;
        flight.hashes.pop();
        return this.signRecordBroadcast(flight, req);
      }
      if (e instanceof RpcResponseError) {
        this.store.setTxStatus(hash, 'dropped');
        throw new IsorelayError(ErrorCode.TX_REJECTED, `${this.client.name}: the node rejected ${req.purpose}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  private async broadcast(raw: string): Promise<void> {
    try {
      await this.client.rpc.call<string>('eth_sendRawTransaction', [raw]);
    } catch (e) {
      if (e instanceof RpcResponseError && /already known|already imported/i.test(e.message)) return;
      throw e;
    }
  }

  private async waitFor(flight: Flight, req: TxRequest): Promise<Receipt> {
    for (;;) {
      const receipts = await this.client.receipts(flight.hashes);
      const mined = receipts.findIndex((r) => r !== null);
      if (mined >= 0) {
        flight.hashes.forEach((h, i) => this.store.setTxStatus(h, i === mined ? 'mined' : 'replaced'));
        return receipts[mined] as Receipt;
      }
      if (Date.now() - flight.sentAt > this.options.stuckAfterMs) await this.enqueue(() => this.replace(flight, req));
      await sleep(this.options.pollMs);
    }
  }

  /** Same nonce, higher fees (+12.5 %, never more than the cap times the first estimate). */
  private async replace(flight: Flight, req: TxRequest): Promise<void> {
    const next = bumpFees(flight.fees, await estimateFees(this.client), flight.firstFees, this.options.maxFeeMultiplier);
    if (next === null) {
      flight.sentAt = Date.now();
      throw new IsorelayError(ErrorCode.TX_FEE_CAP, `${this.client.name}: ${req.purpose} is stuck at the fee cap (nonce ${flight.nonce})`, {
        guidance: ['Raise chains.<name>.maxFeeMultiplier or check the node\'s mempool.'],
      });
    }
    flight.fees = next;
    await this.signRecordBroadcast(flight, req);
  }
}

/** The revert bytes a node attaches to an execution error, if any. */
export function revertDataOf(e: RpcResponseError): string | null {
  const d = e.data;
  if (typeof d === 'string' && d.startsWith('0x')) return d;
  if (d !== null && typeof d === 'object' && 'data' in d && typeof (d as { data: unknown }).data === 'string') return (d as { data: string }).data;
  return null;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
