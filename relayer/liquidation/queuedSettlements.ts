// Sends what the keeper's transactions queued on the engine (the RELEASEs and SEIZEs of
// liquidations and of expired strategies' settlements) at once, in one sendQueuedMany paying every
// messaging fee: the engine has no balance of its own, so the keeper that moved the money delivers
// it. A send that fails leaves them queued for anyone to send.
import type { Result } from 'ethers';
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient, Log } from '../chains/client.js';
import { TxRevertedError, type TxSender } from '../chains/tx/sender.js';
import type { EventBus } from '../pipeline/events.js';
import { engineIface, engineRevertReason } from './engineAbi.js';

const SETTLEMENT_QUEUED = engineIface.getEvent('SettlementQueued')?.topicHash as string; // the event is in the ABI
const sendQueuedManyFn = abiFunction(engineIface, 'sendQueuedMany');
const quoteSettlementFn = abiFunction(engineIface, 'quoteSettlement');

export interface QueuedSettlementsOptions {
  client: ChainClient;
  sender: TxSender;
  engine: string;
  events: EventBus;
  /** The named leases the keeper's transactions are sent under. */
  leases: () => { leases?: string[] };
}

export class QueuedSettlements {
  constructor(private readonly o: QueuedSettlementsOptions) {}

  /** Sends every settlement the engine queued in these receipt logs (none: nothing is sent). */
  async sendFrom(logs: readonly Pick<Log, 'address' | 'topics' | 'data'>[]): Promise<void> {
    const ids: bigint[] = [];
    const settlements: unknown[][] = [];
    for (const l of logs) {
      if (l.address.toLowerCase() !== this.o.engine.toLowerCase() || l.topics[0] !== SETTLEMENT_QUEUED) continue;
      const parsed = engineIface.parseLog({ topics: [...l.topics], data: l.data });
      if (parsed === null) continue;
      ids.push(parsed.args.getValue('id') as bigint);
      settlements.push([...(parsed.args.getValue('s') as Result)]);
    }
    if (ids.length === 0) return;
    const chains = [...new Set(settlements.map((s) => s[0] as bigint))];
    const quotes = await this.o.client.calls(chains.map((c) => ({ to: this.o.engine, data: quoteSettlementFn.encode([c]) })));
    const feeOf = new Map(chains.map((c, i) => [c, quoteSettlementFn.decode(quotes[i] as string)[0] as bigint]));
    const value = settlements.reduce((sum, s) => sum + (feeOf.get(s[0] as bigint) ?? 0n), 0n);
    try {
      const receipt = await this.o.sender.submit({ to: this.o.engine, data: sendQueuedManyFn.encode([ids, settlements]), value, purpose: 'sendQueued', messages: [], ...this.o.leases() });
      for (const id of ids) this.o.events.emit({ type: 'keeper.settlementSent', id, ok: receipt.status === 1, tx: receipt.transactionHash });
    } catch (e) {
      if (!(e instanceof TxRevertedError)) throw e;
      for (const id of ids) this.o.events.emit({ type: 'keeper.settlementSent', id, ok: false, reason: engineRevertReason(e.revertData) });
    }
  }
}
