// Sends transactions for one (chain, key): a nonce manager, EIP-1559 fees, the signed
// transaction stored before it is broadcast, many in flight, receipts polled at the chain's
// block time, and stuck ones replaced with a capped fee bump. It cannot wedge: a broadcast whose
// outcome is unknown is sent again (the same signed bytes) until the node knows it or its nonce
// is used; a failed receipt poll is retried, never the end of a wait; a transaction at the fee
// cap raises an alert and is kept working.
import { keccak256, Transaction, type Wallet } from 'ethers';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { LeaseLostError, type Store, type TxRecord } from '../../store/store.js';
import type { ChainClient, Receipt } from '../client.js';
import { isExecutionFailure, RpcResponseError } from '../rpc.js';
import { estimateFees, bumpFees, type Fees } from './fees.js';

export interface TxRequest {
  to: string;
  data: string;
  value?: bigint;
  /** A known gas limit: the call is then checked with one eth_call instead of an estimate. */
  gasLimit?: bigint;
  /** A floor under the estimate (e.g. the gas a LayerZero option promises the receiver). */
  minGasLimit?: bigint;
  /** The caller already simulated this exact call (with `gasLimit`): send without another check. */
  presimulated?: boolean;
  purpose: string;
  messages: string[];
  /** Named leases (e.g. `keeper`) this transaction is sent under, beside its messages' claims. */
  leases?: string[];
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
  /** Its nonce is being taken by a self-transfer (from this index of `hashes` on): the work is no longer this instance's. */
  cancelFrom?: number;
  fees: Fees;
  firstFees: Fees;
  tx: { to: string; data: string; value: bigint; gasLimit: bigint };
  hashes: string[];
  sentAt: number;
  createdAt: number;
}

export interface TxSenderOptions {
  pollMs: number;
  stuckAfterMs: number;
  maxFeeMultiplier: number;
  /** Margin added over the estimate, in percent. */
  gasMarginPct?: number;
  /** How often a transaction without a receipt is looked up on the node (and sent again if it is unknown there). Default: 10 polls, at least 500 ms. */
  rebroadcastMs?: number;
  /** Something an operator must see (a transaction at the fee cap); the sender keeps working. */
  onAlert?: (alert: SenderAlert) => void;
  /**
   * Runs just before a new transaction is signed; throws (LeaseLostError) when this instance no
   * longer holds the work the transaction is for, and nothing is signed or sent.
   */
  guard?: (req: TxRequest) => Promise<void>;
  /**
   * Checked (synchronously, by this process's own clock) just before any version of a transaction
   * goes out: false when this instance no longer holds the work it is for (it was paused or cut
   * off past its lease). Its nonce is then cancelled (a self-transfer takes it) instead, and the
   * submit ends with LeaseLostError: another instance may be doing that work now. With a guard,
   * transactions found pending after a restart (nothing holds their work any more) are cancelled too.
   */
  stillHeld?: (req: TxRequest) => boolean;
  /**
   * Whether this instance holds its gas key now (by its own clock). Without it nothing at all goes
   * out (no call, no cancel, no fee bump, no rebroadcast): another instance may be using the key's nonces.
   */
  keyHeld?: () => boolean;
}

export interface SenderAlert {
  code: typeof ErrorCode.TX_FEE_CAP;
  chain: string;
  message: string;
}

/** The nonce of a flight was used by another transaction of this key: the request needs a new one. */
class NonceLost extends Error {}

/** The sender was closed (shutdown) while a transaction was in flight; it stays stored for the next start. */
export class SenderClosedError extends IsorelayError {
  override readonly name = 'SenderClosedError';
}

export class TxSender {
  private nextNonce = -1;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Nonces of flights stuck at the fee cap, for readiness. */
  private readonly atCap = new Set<number>();
  private readonly flights = new Map<number, Flight>();

  constructor(
    private readonly client: ChainClient,
    private readonly wallet: Wallet,
    private readonly store: Store,
    private readonly options: TxSenderOptions,
  ) {}

  get address(): string {
    return this.wallet.address;
  }

  /** Stops every wait: in-flight submits reject with SenderClosedError (their transactions stay stored). */
  close(): void {
    this.closed = true;
  }

  /** Works again after close() (a relayer started again in the same process). */
  reopen(): void {
    this.closed = false;
  }

  /** What readiness reports: flights at the fee cap, and the oldest flight without a receipt. */
  state(now = Date.now()): { atFeeCap: number[]; inFlight: number; oldestFlightMs: number | null } {
    let oldest: number | null = null;
    for (const f of this.flights.values()) oldest = oldest === null ? now - f.createdAt : Math.max(oldest, now - f.createdAt);
    return { atFeeCap: [...this.atCap].sort((a, b) => a - b), inFlight: this.flights.size, oldestFlightMs: oldest };
  }

  /**
   * Finds what was in flight before a restart: mined ones are marked, and each nonce still open is
   * settled (see settleOpen); the nonce resumes after both the chain and the store.
   */
  recover(): Promise<void> {
    return this.enqueue(() => this.recoverInQueue());
  }

  private async recoverInQueue(): Promise<void> {
    this.assertKey('recovering transactions in flight');
    const pending = await this.store.pendingTxs(this.client.name, this.address);
    const receipts = await this.client.receipts(pending.map((p) => p.hash));
    const chainNonce = await this.chainNonce('latest');
    const open: TxRecord[] = [];
    for (const [i, p] of pending.entries()) {
      if (receipts[i] !== null) await this.store.setTxStatus(p.hash, 'mined');
      else if (p.nonce < chainNonce) await this.store.setTxStatus(p.hash, 'replaced');
      else open.push(p);
    }
    await this.settleOpen(open);
    this.nextNonce = Math.max(await this.chainNonce('pending'), ...pending.map((p) => p.nonce + 1));
  }

  /**
   * Stored transactions whose nonce is still open and that no submit waits for (in the nonce
   * queue). Without a guard (one process owns everything) they are sent again. With one, nothing
   * holds their work any more (another instance may be doing it): each nonce is taken by a
   * self-transfer instead, priced like any replacement (+12.5 %, capped, TX_FEE_CAP at the cap),
   * and a self-transfer already out is sent again rather than outbid. Returns how many it sent.
   */
  private async settleOpen(open: readonly TxRecord[]): Promise<number> {
    if (this.options.guard === undefined) {
      for (const p of open) await this.broadcast(p.raw).catch(() => undefined);
      return open.length;
    }
    const byNonce = new Map<number, TxRecord[]>();
    for (const p of [...open].sort((x, y) => x.createdAt - y.createdAt)) byNonce.set(p.nonce, [...(byNonce.get(p.nonce) ?? []), p]);
    for (const [nonce, versions] of byNonce) {
      const first = feesOf(versions[0] as TxRecord);
      const latest = versions[versions.length - 1] as TxRecord;
      const ours = latest.purpose === 'cancel' || latest.purpose === 'fill-nonce-gap';
      if (ours && Date.now() - latest.createdAt < this.options.stuckAfterMs) {
        await this.broadcast(latest.raw).catch(() => undefined);
        continue;
      }
      const sent = await this.sendCancel(nonce, feesOf(latest), first, latest.messages).catch(() => null);
      if (sent === null) await this.broadcast(latest.raw).catch(() => undefined);
    }
    return byNonce.size;
  }

  /**
   * Takes `nonce` with a zero-value self-transfer priced as a replacement of `last` (within the
   * cap over `first`); null at the cap (an alert is raised, and what is out there stays).
   */
  private async sendCancel(nonce: number, last: Fees, first: Fees, messages: string): Promise<{ hash: string; fees: Fees } | null> {
    const next = bumpFees(last, await estimateFees(this.client), first, this.options.maxFeeMultiplier);
    if (next === null) {
      if (!this.atCap.has(nonce)) {
        this.atCap.add(nonce);
        this.options.onAlert?.({
          code: ErrorCode.TX_FEE_CAP, chain: this.client.name,
          message: `${this.client.name}: cancelling nonce ${nonce} is stuck at the fee cap; raise chains.${this.client.name}.maxFeeMultiplier or check the node's mempool`,
        });
      }
      return null;
    }
    const cancel: Flight = { nonce, fees: next, firstFees: first, tx: { to: this.address, data: '0x', value: 0n, gasLimit: 21_000n }, hashes: [], sentAt: Date.now(), createdAt: Date.now() };
    const hash = await this.signAndRecord(cancel, { to: this.address, data: '0x', purpose: 'cancel', messages: messages === '' ? [] : messages.split(',') }, 'cancel');
    await this.broadcast(this.raws.get(hash) as string).catch(() => undefined);
    return { hash, fees: next };
  }

  /** Whether the flight's work is still this instance's to send (always, without a check). */
  private held(req: TxRequest): boolean {
    return this.options.stillHeld === undefined || this.options.stillHeld(req);
  }

  /** Throws LeaseLostError unless this instance holds its gas key (always, without a check). */
  private assertKey(what: string): void {
    if (this.options.keyHeld !== undefined && !this.options.keyHeld()) throw new LeaseLostError(`the gas key ${this.address} (${what})`);
  }

  /**
   * The work is no longer ours: the flight's nonce is taken by a self-transfer, whose receipt ends
   * the wait (in the nonce queue). At the fee cap nothing changes: the call that is out there stays.
   */
  private async cancelFlight(flight: Flight, req: TxRequest): Promise<void> {
    if (flight.cancelFrom !== undefined) return;
    this.assertKey('cancelling');
    const sent = await this.sendCancel(flight.nonce, flight.fees, flight.firstFees, req.messages.join(','));
    if (sent === null) return;
    flight.cancelFrom = flight.hashes.length;
    flight.hashes.push(sent.hash);
    flight.fees = sent.fees;
    flight.sentAt = Date.now();
  }

  /**
   * Without a restart, in the nonce queue: stored transactions that no submit is waiting for any
   * more (its step ended on an error, or the process lost track) are reconciled with the chain —
   * mined ones marked, ones whose nonce another transaction used marked replaced, open ones settled
   * (settleOpen) — and a nonce below the next one that nothing stored holds (a send that failed
   * before it was recorded) is filled with a self-transfer, so later nonces are never stuck behind
   * a gap. Returns how many it sent. Nothing without the gas key.
   */
  reconcile(): Promise<number> {
    if (this.options.keyHeld !== undefined && !this.options.keyHeld()) return Promise.resolve(0);
    return this.enqueue(() => this.reconcileInQueue());
  }

  private async reconcileInQueue(): Promise<number> {
    if (this.nextNonce < 0) return 0;
    const waiting = new Set([...this.flights.values()].flatMap((f) => f.hashes));
    const pending = await this.store.pendingTxs(this.client.name, this.address);
    // Recorded a moment ago by a submit whose flight is about to be registered: not an orphan.
    const settleAfter = Date.now() - (this.options.rebroadcastMs ?? Math.max(500, this.options.pollMs * 10));
    const orphans = pending.filter((p) => !waiting.has(p.hash) && p.createdAt < settleAfter);
    const chainNonce = await this.chainNonce('latest');
    let sent = 0;
    if (orphans.length > 0) {
      const receipts = await this.client.receipts(orphans.map((p) => p.hash));
      const open: TxRecord[] = [];
      for (const [i, p] of orphans.entries()) {
        if (receipts[i] !== null) await this.store.setTxStatus(p.hash, 'mined');
        else if (p.nonce < chainNonce) await this.store.setTxStatus(p.hash, 'replaced');
        else open.push(p);
      }
      sent += await this.settleOpen(open);
    }
    const taken = new Set([...pending.map((p) => p.nonce), ...this.flights.keys()]);
    for (let nonce = chainNonce; nonce < this.nextNonce; nonce++) {
      if (taken.has(nonce)) continue;
      const fees = await this.currentFees();
      const filler: Flight = { nonce, fees, firstFees: fees, tx: { to: this.address, data: '0x', value: 0n, gasLimit: 21_000n }, hashes: [], sentAt: Date.now(), createdAt: Date.now() };
      const hash = await this.signAndRecord(filler, { to: this.address, data: '0x', purpose: 'fill-nonce-gap', messages: [] }, 'fill-nonce-gap');
      await this.broadcast(this.raws.get(hash) as string).catch(() => undefined);
      sent++;
    }
    return sent;
  }

  /** Sends and waits for the receipt; a call that would revert throws TxRevertedError, unsent. */
  async submit(req: TxRequest): Promise<Receipt> {
    // Simulation (the revert check) and fees run outside the nonce queue, in parallel for many
    // messages; only taking a nonce, signing and storing are serialised. Broadcasts overlap.
    const value = req.value ?? 0n;
    const [gasLimit, fees] = await Promise.all([this.gasFor(req, value), this.currentFees()]);
    const tx = { to: req.to, data: req.data, value, gasLimit };
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new SenderClosedError(ErrorCode.RPC_UNREACHABLE, `${this.client.name}: the sender is shutting down`);
      // Recorded and registered as a flight in the nonce queue: reconcile never takes it for an orphan.
      const flight = await this.enqueue(() => this.assign(req, tx, fees));
      try {
        // Paused between the guard and here (SIGSTOP, a long GC): the work may be another
        // instance's now. The signed call never goes out; a self-transfer takes its nonce.
        this.assertKey(req.purpose);
        const outcome = this.held(req) ? await this.broadcastFlight(flight, req) : await this.enqueue(async () => {
          await this.cancelFlight(flight, req);
          if (flight.cancelFrom === undefined) throw new LeaseLostError(req.messages.join(',') || req.purpose);
          return 'sent' as const;
        });
        if (outcome === 'sent') return await this.waitFor(flight, req);
      } catch (e) {
        if (!(e instanceof NonceLost)) throw e;
      } finally {
        this.flights.delete(flight.nonce);
        this.atCap.delete(flight.nonce);
      }
      if (attempt >= 2) throw new IsorelayError(ErrorCode.TX_REJECTED, `${this.client.name}: ${req.purpose} kept losing its nonce to other transactions of ${this.address}`);
    }
  }

  private feeCache: { fees: Fees; at: number } | undefined;

  /** Fees move once per block at most: one estimate serves every transaction of a poll interval. */
  private async currentFees(): Promise<Fees> {
    const now = Date.now();
    if (this.feeCache !== undefined && now - this.feeCache.at < this.options.pollMs) return this.feeCache.fees;
    const fees = await estimateFees(this.client);
    this.feeCache = { fees, at: now };
    return fees;
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async chainNonce(tag: 'latest' | 'pending'): Promise<number> {
    return Number(BigInt(await this.client.rpc.call<string>('eth_getTransactionCount', [this.address, tag])));
  }

  /** Takes the next nonce, signs, and stores the signed transaction: the intent is durable before any broadcast. */
  private async assign(req: TxRequest, tx: Flight['tx'], fees: Fees): Promise<Flight> {
    // Inside the nonce queue, so nothing this instance no longer holds takes a nonce (nor recovers the key's).
    await this.options.guard?.(req);
    if (this.nextNonce < 0) await this.recoverInQueue();
    const flight: Flight = { nonce: this.nextNonce++, fees, firstFees: fees, tx, hashes: [], sentAt: Date.now(), createdAt: Date.now() };
    try {
      flight.hashes.push(await this.signAndRecord(flight, req));
    } catch (e) {
      // Not stored (the database is away), so never broadcast: the nonce is given back, or it would be a gap.
      this.nextNonce = flight.nonce;
      throw e;
    }
    this.flights.set(flight.nonce, flight);
    return flight;
  }

  /** A known gas limit is checked with one eth_call; otherwise the node estimates (with a margin). */
  private async gasFor(req: TxRequest, value: bigint): Promise<bigint> {
    const call = { from: this.address, to: req.to, data: req.data, value: '0x' + value.toString(16) };
    try {
      if (req.gasLimit !== undefined) {
        if (req.presimulated === true) return req.gasLimit;
        await this.client.rpc.call<string>('eth_call', [{ ...call, gas: '0x' + req.gasLimit.toString(16) }, 'latest']);
        return req.gasLimit;
      }
      const estimate = (BigInt(await this.client.rpc.call<string>('eth_estimateGas', [call])) * BigInt(100 + (this.options.gasMarginPct ?? 20))) / 100n;
      return req.minGasLimit !== undefined && req.minGasLimit > estimate ? req.minGasLimit : estimate;
    } catch (e) {
      if (e instanceof RpcResponseError && isExecutionFailure(e)) throw new TxRevertedError(req.purpose, revertDataOf(e), e.message);
      // The node could not run the call (a state it lost, its own trouble): not a verdict on the call.
      if (e instanceof RpcResponseError) throw nodeCouldNotRun(e);
      throw e;
    }
  }

  private async signAndRecord(flight: Flight, req: TxRequest, purpose = req.purpose): Promise<string> {
    const raw = await this.wallet.signTransaction(
      Transaction.from({
        type: 2,
        chainId: this.client.chainId,
        nonce: flight.nonce,
        to: flight.tx.to,
        data: flight.tx.data,
        value: flight.tx.value,
        gasLimit: flight.tx.gasLimit,
        maxFeePerGas: flight.fees.maxFeePerGas,
        maxPriorityFeePerGas: flight.fees.maxPriorityFeePerGas,
      }),
    );
    // A signed typed transaction's hash is the keccak of its bytes (no need to parse it back).
    const hash = keccak256(raw);
    await this.store.recordTx({
      chain: this.client.name, sender: this.address, nonce: flight.nonce, hash, raw, purpose,
      messages: req.messages.join(','), status: 'pending', createdAt: Date.now(),
    });
    this.raws.set(hash, raw);
    return hash;
  }

  private readonly raws = new Map<string, string>();

  /**
   * Broadcasts the newest signed version of a flight. 'lost': its nonce was used by another
   * transaction of this key (the caller takes a new one). A rejection fills the nonce with a
   * zero-value self-transfer, so that later nonces are not stuck behind a gap, then throws.
   */
  private async broadcastFlight(flight: Flight, req: TxRequest): Promise<'sent' | 'lost'> {
    const hash = flight.hashes[flight.hashes.length - 1] as string;
    const raw = this.raws.get(hash) as string;
    flight.sentAt = Date.now();
    try {
      await this.broadcast(raw);
      return 'sent';
    } catch (e) {
      // Unknown outcome (node down, timeout): the signed transaction is stored and its nonce
      // taken. Treat it as sent: if it never arrived, waitFor finds it stuck and replace()
      // broadcasts it again, so later nonces are not held behind a gap.
      if (!(e instanceof RpcResponseError)) return 'sent';
      await this.store.setTxStatus(hash, 'dropped');
      this.raws.delete(hash);
      if (/nonce too low|nonce has already been used/i.test(e.message)) {
        await this.enqueue(async () => {
          this.nextNonce = Math.max(this.nextNonce, await this.chainNonce('pending'));
        });
        return 'lost';
      }
      const filler: Flight = { ...flight, tx: { to: this.address, data: '0x', value: 0n, gasLimit: 21_000n }, hashes: [] };
      await this.enqueue(async () => {
        const fillHash = await this.signAndRecord(filler, { ...req, purpose: 'fill-nonce-gap' }, 'fill-nonce-gap');
        await this.broadcast(this.raws.get(fillHash) as string).catch(() => undefined);
      });
      throw new IsorelayError(ErrorCode.TX_REJECTED, `${this.client.name}: the node rejected ${req.purpose}: ${e.message}`, { cause: e });
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

  /**
   * Waits for a receipt of any version of the flight. A failed poll is retried. Every
   * `rebroadcastMs` without a receipt the node is asked whether it knows the transaction: if not,
   * the same signed bytes go out again (a send whose outcome was unknown, a node that dropped it);
   * if the key's nonce moved past the flight without any of its versions, the nonce was lost.
   */
  private async waitFor(flight: Flight, req: TxRequest): Promise<Receipt> {
    const lookEvery = this.options.rebroadcastMs ?? Math.max(500, this.options.pollMs * 10);
    let lookedAt = Date.now();
    for (let poll = 0; ; poll++) {
      if (this.closed) throw new SenderClosedError(ErrorCode.RPC_UNREACHABLE, `${this.client.name}: the sender is shutting down; ${req.purpose} (nonce ${flight.nonce}) stays stored for the next start`);
      try {
        // Without the gas key nothing more goes out: the transaction stays stored for the key's holder.
        this.assertKey(`${req.purpose}, nonce ${flight.nonce}`);
        const receipts = await this.client.receipts(flight.hashes);
        const mined = receipts.findIndex((r) => r !== null);
        if (mined >= 0) {
          for (const [i, h] of flight.hashes.entries()) {
            await this.store.setTxStatus(h, i === mined ? 'mined' : 'replaced');
            this.raws.delete(h);
          }
          // The self-transfer took the nonce: the work was left to whoever holds it now.
          if (flight.cancelFrom !== undefined && mined >= flight.cancelFrom) throw new LeaseLostError(req.messages.join(',') || req.purpose);
          return receipts[mined] as Receipt;
        }
        if (flight.cancelFrom === undefined && !this.held(req)) {
          await this.enqueue(() => this.cancelFlight(flight, req));
          continue;
        }
        if (Date.now() - lookedAt >= lookEvery) {
          lookedAt = Date.now();
          await this.keepKnown(flight);
        }
        if (Date.now() - flight.sentAt > this.options.stuckAfterMs) await this.enqueue(() => this.replace(flight, req));
      } catch (e) {
        if (e instanceof NonceLost || e instanceof LeaseLostError) throw e;
        // A node down or answering garbage: the transaction is stored; look again next poll.
      }
      // A chain that mines at once (a sequencer, anvil) has the receipt within milliseconds:
      // look again soon, then settle to the chain's own pace.
      await sleep(Math.min(this.options.pollMs, 2 ** poll));
    }
  }

  /** The node must know the flight's newest version, or its nonce must be used: else send it again. */
  private async keepKnown(flight: Flight): Promise<void> {
    const hash = flight.hashes[flight.hashes.length - 1] as string;
    // Every version of the flight, and the key's nonce, from one node in one request: a lagging node
    // that lacks a mined receipt still knows the transaction by hash, so a mined version is never lost.
    const [used, ...known] = await this.client.rpc.batch<[string, ...unknown[]]>([
      { method: 'eth_getTransactionCount', params: [this.address, 'latest'] },
      ...flight.hashes.map((h) => ({ method: 'eth_getTransactionByHash', params: [h] })),
    ]);
    if (known[known.length - 1] !== null) return;
    if (Number(BigInt(used)) > flight.nonce) {
      // An older version may be the one mined (its replacement was dropped): then the receipt poll finds it.
      if (known.some((k) => k !== null)) return;
      for (const h of flight.hashes) {
        await this.store.setTxStatus(h, 'replaced');
        this.raws.delete(h);
      }
      throw new NonceLost(`nonce ${flight.nonce} was used by another transaction`);
    }
    const raw = this.raws.get(hash);
    if (raw !== undefined) {
      this.assertKey('sending again');
      await this.broadcast(raw);
    }
  }

  /** Same nonce, higher fees (+12.5 %, never more than the cap times the first estimate). */
  private async replace(flight: Flight, req: TxRequest): Promise<void> {
    // A cancelled flight is priced up as its self-transfer, never as the call it gave up.
    this.assertKey('replacing');
    if (flight.cancelFrom !== undefined) {
      const sent = await this.sendCancel(flight.nonce, flight.fees, flight.firstFees, req.messages.join(','));
      if (sent !== null) {
        flight.hashes.push(sent.hash);
        flight.fees = sent.fees;
      }
      flight.sentAt = Date.now();
      return;
    }
    const next = bumpFees(flight.fees, await estimateFees(this.client), flight.firstFees, this.options.maxFeeMultiplier);
    if (next === null) {
      // At the cap: an alert (once per flight), and the transaction keeps being worked (looked up, sent again).
      flight.sentAt = Date.now();
      if (!this.atCap.has(flight.nonce)) {
        this.atCap.add(flight.nonce);
        this.options.onAlert?.({
          code: ErrorCode.TX_FEE_CAP, chain: this.client.name,
          message: `${this.client.name}: ${req.purpose} is stuck at the fee cap (nonce ${flight.nonce}); raise chains.${this.client.name}.maxFeeMultiplier or check the node's mempool`,
        });
      }
      return;
    }
    flight.fees = next;
    const hash = await this.signAndRecord(flight, req);
    try {
      await this.broadcast(this.raws.get(hash) as string);
      flight.hashes.push(hash);
    } catch {
      // Refused (underpriced, or the old one was just mined): keep waiting on what is out there.
      await this.store.setTxStatus(hash, 'dropped');
      this.raws.delete(hash);
    }
    flight.sentAt = Date.now();
  }
}

/** The revert bytes a node attaches to an execution error, if any. */
/** A node's failure to run a simulation, as a retryable RPC error (its text may name the node's trouble). */
/** The fees a stored signed transaction was priced at. */
function feesOf(tx: TxRecord): Fees {
  const t = Transaction.from(tx.raw);
  return { maxFeePerGas: t.maxFeePerGas ?? 0n, maxPriorityFeePerGas: t.maxPriorityFeePerGas ?? 0n };
}

export function nodeCouldNotRun(e: RpcResponseError): IsorelayError {
  return new IsorelayError(ErrorCode.RPC_BAD_RESPONSE, `the node could not run ${e.method}, retrying: ${e.message.slice(0, 200)}`, { details: { rpcCode: e.rpcCode } });
}

export function revertDataOf(e: RpcResponseError): string | null {
  const d = e.data;
  if (typeof d === 'string' && d.startsWith('0x')) return d;
  if (d !== null && typeof d === 'object' && 'data' in d && typeof (d).data === 'string') return (d as { data: string }).data;
  return null;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
