// Sends settlements queued on the engine (liquidations' and expired strategies' RELEASEs and SEIZEs,
// refunds of CREDITs the engine does not take) in one sendQueuedMany paying every messaging fee: the
// engine has no balance of its own, so the keeper delivers them. Simulated first: what would revert
// alone is left out, with the engine's reason, and the rest goes. What fails stays queued for anyone.
import type { Result } from 'ethers';
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient, Log } from '../chains/client.js';
import { isExecutionFailure, RpcResponseError } from '../chains/rpc.js';
import { revertDataOf, TxRevertedError, type TxSender } from '../chains/tx/sender.js';
import { errorSummary, IsorelayError } from '../errors/base.js';
import { MessageKind } from '../messages/codec.js';
import type { EventBus } from '../pipeline/events.js';
import { engineIface, engineRevertReason } from './engineAbi.js';

/** A node or sender that could not do it (RPC, lease, a refusal): reported per settlement; anything else is a bug and thrown. */
const nodeTrouble = (e: unknown): boolean => e instanceof IsorelayError || e instanceof RpcResponseError;

export const SETTLEMENT_QUEUED = engineIface.getEvent('SettlementQueued')?.topicHash as string; // the events are in the ABI
const SETTLEMENT_SENT = engineIface.getEvent('SettlementSent')?.topicHash as string;
const sendQueuedManyFn = abiFunction(engineIface, 'sendQueuedMany');
const quoteSettlementFn = abiFunction(engineIface, 'quoteSettlement');

/** One SettlementQueued: its id and the engine's Settlement struct, field by field. */
export interface QueuedSettlement {
  id: bigint;
  chainId: bigint;
  kind: 'RELEASE' | 'SEIZE';
  trader: string;
  positionId: bigint;
  token: string;
  amount: bigint;
  market: string;
  price: bigint;
}

/** The Settlement tuple as sendQueued takes it (the engine checks keccak256(abi.encode(it))). */
export function settlementArg(s: QueuedSettlement): unknown[] {
  return [s.chainId, MessageKind[s.kind], s.trader, s.positionId, s.token, s.amount, s.market, s.price];
}

/** The settlement a SettlementQueued log of the engine holds; null for any other log. */
export function parseSettlementQueued(l: Pick<Log, 'topics' | 'data'>): QueuedSettlement | null {
  if (l.topics[0] !== SETTLEMENT_QUEUED) return null;
  const parsed = engineIface.parseLog({ topics: [...l.topics], data: l.data });
  if (parsed === null) return null;
  const [chainId, kind, trader, positionId, token, amount, market, price] = [...(parsed.args.getValue('s') as Result)] as [bigint, bigint, string, bigint, string, bigint, string, bigint];
  return { id: parsed.args.getValue('id') as bigint, chainId, kind: kind === BigInt(MessageKind.SEIZE) ? 'SEIZE' : 'RELEASE', trader, positionId, token, amount, market, price };
}

/** What one send did with each settlement: sent (its vault message id), already sent by someone else, or not sent and why. */
export interface SendOutcome {
  sent: { id: bigint; messageId: string; tx: string }[];
  skipped: bigint[];
  failed: { id: bigint; reason: string }[];
}

export interface QueuedSettlementsOptions {
  client: ChainClient;
  sender: TxSender;
  engine: string;
  events: EventBus;
  /** The config's name of a chain id (the chain a settlement goes back to). */
  chainName: (chainId: bigint) => string;
  /** The named leases the keeper's transactions are sent under. */
  leases: () => { leases?: string[] };
}

export class QueuedSettlements {
  constructor(private readonly o: QueuedSettlementsOptions) {}

  /** Sends every settlement the engine queued in these receipt logs (none: nothing is sent). */
  async sendFrom(logs: readonly Pick<Log, 'address' | 'topics' | 'data'>[]): Promise<SendOutcome> {
    const engine = this.o.engine.toLowerCase();
    return this.send(logs.flatMap((l) => (l.address.toLowerCase() === engine ? [parseSettlementQueued(l)].filter((s) => s !== null) : [])));
  }

  /**
   * Sends `settlements` in one sendQueuedMany, paying their fees (quoteSettlement per chain). Those the
   * engine has sent meanwhile are skipped by it (their fee refunded). Every outcome is announced.
   */
  async send(settlements: readonly QueuedSettlement[]): Promise<SendOutcome> {
    const out: SendOutcome = { sent: [], skipped: [], failed: [] };
    if (settlements.length === 0) return out;
    const fail = (s: QueuedSettlement, reason: string) => {
      out.failed.push({ id: s.id, reason });
      this.announce(s, { ok: false, reason });
    };
    let batch: { s: QueuedSettlement; fee: bigint }[];
    try {
      const fees = await this.fees(settlements);
      batch = [];
      for (const s of settlements) {
        const fee = fees.get(s.chainId);
        if (typeof fee === 'bigint') batch.push({ s, fee });
        else fail(s, fee ?? '?');
      }
      batch = await this.simulated(batch, fail);
    } catch (e) {
      if (!nodeTrouble(e)) throw e;
      const refused = new Set(out.failed.map((f) => f.id));
      for (const s of settlements) if (!refused.has(s.id)) fail(s, `not simulated: ${errorSummary(e)}`);
      return out;
    }
    if (batch.length === 0) return out;
    const value = batch.reduce((sum, b) => sum + b.fee, 0n);
    try {
      const receipt = await this.o.sender.submit({ to: this.o.engine, data: this.encode(batch.map((b) => b.s)), value, purpose: 'sendQueued', messages: [], ...this.o.leases() });
      if (receipt.status !== 1) {
        for (const { s } of batch) fail(s, `reverted on chain (tx ${receipt.transactionHash})`);
        return out;
      }
      this.matchSent(batch.map((b) => b.s), receipt.logs, receipt.transactionHash, out);
    } catch (e) {
      if (!nodeTrouble(e)) throw e;
      const reason = e instanceof TxRevertedError ? engineRevertReason(e.revertData) : errorSummary(e);
      for (const { s } of batch) fail(s, reason);
    }
    return out;
  }

  private matchSent(batch: readonly QueuedSettlement[], logs: readonly Log[], tx: string, out: SendOutcome): void {
    sentMessageIds(batch, logs, this.o.engine).forEach((messageId, i) => {
      const s = batch[i] as QueuedSettlement;
      if (messageId === null) {
        out.skipped.push(s.id);
        this.announce(s, { ok: true, tx, skipped: true });
      } else {
        out.sent.push({ id: s.id, messageId, tx });
        this.announce(s, { ok: true, tx, messageId });
      }
    });
  }

  /** The fee of one settlement to each chain; a chain the engine cannot quote (NoReturnRoute) gets the reason instead. */
  private async fees(settlements: readonly QueuedSettlement[]): Promise<Map<bigint, bigint | string>> {
    const chains = [...new Set(settlements.map((s) => s.chainId))];
    const quote = (c: bigint) => ({ to: this.o.engine, data: quoteSettlementFn.encode([c]) });
    try {
      const answers = await this.o.client.calls(chains.map(quote));
      return new Map(chains.map((c, i) => [c, quoteSettlementFn.decode(answers[i] as string)[0] as bigint]));
    } catch (e) {
      if (!(e instanceof RpcResponseError && isExecutionFailure(e))) throw e;
    }
    // One chain's quote reverts: the others are still sent.
    const fees = new Map<bigint, bigint | string>();
    for (const c of chains) {
      try {
        fees.set(c, quoteSettlementFn.decode(await this.o.client.call(this.o.engine, quote(c).data))[0] as bigint);
      } catch (e) {
        if (!(e instanceof RpcResponseError && isExecutionFailure(e))) throw e;
        fees.set(c, `quoteSettlement(${c}) reverts: ${engineRevertReason(revertDataOf(e))}`);
      }
    }
    return fees;
  }

  /** The batch as the engine would take it now: if the whole reverts, each alone, and those that revert alone are left out. */
  private async simulated(batch: { s: QueuedSettlement; fee: bigint }[], fail: (s: QueuedSettlement, reason: string) => void): Promise<{ s: QueuedSettlement; fee: bigint }[]> {
    if (batch.length === 0) return batch;
    const all = await this.reverts(this.encode(batch.map((b) => b.s)), batch.reduce((sum, b) => sum + b.fee, 0n));
    if (all === null) return batch;
    if (batch.length === 1) {
      fail((batch[0] as (typeof batch)[number]).s, all);
      return [];
    }
    const kept: typeof batch = [];
    for (const b of batch) {
      const alone = await this.reverts(this.encode([b.s]), b.fee);
      if (alone === null) kept.push(b);
      else fail(b.s, alone);
    }
    // Each goes alone but not all together (a fee moved between the reads, say): the next attempt tells.
    if (kept.length === batch.length) {
      for (const b of batch) fail(b.s, all);
      return [];
    }
    return kept;
  }

  /** An eth_call from the keeper's address with `value`: null when it would succeed, else the engine's reason. */
  private async reverts(data: string, value: bigint): Promise<string | null> {
    try {
      await this.o.client.rpc.call<string>('eth_call', [{ from: this.o.sender.address, to: this.o.engine, data, value: `0x${value.toString(16)}` }, 'latest']);
      return null;
    } catch (e) {
      if (e instanceof RpcResponseError && isExecutionFailure(e)) return engineRevertReason(revertDataOf(e));
      throw e; // the node could not run it: no verdict on the call
    }
  }

  private encode(batch: readonly QueuedSettlement[]): string {
    return sendQueuedManyFn.encode([batch.map((s) => s.id), batch.map(settlementArg)]);
  }

  private announce(s: QueuedSettlement, outcome: { ok: boolean; tx?: string; messageId?: string; skipped?: boolean; reason?: string }): void {
    this.o.events.emit({
      type: 'keeper.settlementSent', id: s.id, chain: this.o.chainName(s.chainId), kind: s.kind, trader: s.trader, token: s.token, amount: s.amount, ...outcome,
    });
  }
}

/**
 * The vault's message id of each settlement of a mined sendQueued(Many), from its receipt: the
 * engine's SettlementSent logs come in the batch's order, one per settlement it sent; a settlement
 * without its log (null) was skipped, sent meanwhile by someone else.
 */
export function sentMessageIds(batch: readonly QueuedSettlement[], logs: readonly { address: string; topics: readonly string[]; data: string }[], engine: string): (string | null)[] {
  const sent = logs.filter((l) => l.address.toLowerCase() === engine.toLowerCase() && l.topics[0] === SETTLEMENT_SENT)
    .map((l) => ({ messageId: l.topics[1] as string, args: engineIface.parseLog({ topics: [...l.topics], data: l.data })?.args }));
  let next = 0;
  return batch.map((s) => {
    const log = sent[next];
    const a = log?.args;
    const same = a !== undefined && (a.getValue('dstChainId') as bigint) === s.chainId && Number(a.getValue('kind') as bigint) === MessageKind[s.kind]
      && (a.getValue('trader') as string).toLowerCase() === s.trader.toLowerCase() && (a.getValue('positionId') as bigint) === s.positionId
      && (a.getValue('token') as string).toLowerCase() === s.token.toLowerCase() && (a.getValue('amount') as bigint) === s.amount;
    if (log === undefined || !same) return null;
    next++;
    return log.messageId;
  });
}
