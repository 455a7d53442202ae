// The transport seam: what the pipeline needs from LayerZero, Wormhole or a third protocol.
// A transport reads its source events into messages and plans the next delivery step for a
// message from on-chain state; it builds unsigned transactions, chains/tx signs and sends them.
import type { ChainClient, Log, LogFilter, Receipt } from '../chains/client.js';
import type { TxRequest } from '../chains/tx/sender.js';
import type { WaitCode } from '../messages/reasons.js';
import type { MessageStatus } from '../messages/status.js';
import type { Config, RouteConfig } from '../config/schema.js';
import type { MessageRow, NewMessage } from '../store/store.js';

export interface DeliveryStep {
  step: string;
  /** In a batch, every message's phase-0 calls run before any phase-1 call, and so on. */
  phase: number;
  tx: TxRequest;
  then: MessageStatus;
}

/** What a revert means: never deliverable, worth a retry, or waiting for something else first. */
export type RevertVerdict = { outcome: 'permanent' | 'transient'; reason: string } | { outcome: 'wait'; code: WaitCode; reason: string };

/** What must happen next for a message, decided from the destination's state. */
export type DeliveryPlan =
  /** Already delivered (by us before a crash, or by someone else). */
  | { kind: 'delivered' }
  /**
   * The remaining steps, in order: each a transaction after which the message is in `then`.
   * Without a batcher they are sent one at a time; with one, all in one batch.
   */
  | { kind: 'send'; steps: [DeliveryStep, ...DeliveryStep[]] }
  /** Not deliverable yet (an earlier nonce is missing, a VAA is not signed yet). */
  | { kind: 'wait'; code: WaitCode; reason: string }
  /** The destination will never accept it. */
  | { kind: 'reject'; reason: string };

export interface SourceWatch {
  filter: LogFilter;
  /** The message carried by a log, or null when it is not for this route's destination. */
  parse(log: Log): NewMessage | null;
  /**
   * The newest nonce on chain (at `latest`) of each sequence path this route's sender writes: a
   * stored sequence behind it, with the scan caught up, means a node answered too few logs for
   * the last messages of a path (no later message would reveal that gap).
   */
  pathHeads?(source: ChainClient): Promise<{ path: string; nonce: bigint }[]>;
}

export interface Transport {
  readonly name: string;
  /** The logs to watch on the source chain of a route. */
  sourceWatch(routeName: string): SourceWatch;
  /**
   * Decides the next step for a message from the destination's state; `after` names the step
   * this process just saw mined, when the next one follows without reading the chain again.
   * `witnesses` are the source providers that served the message just now (pipeline/verify):
   * a verifier signs only what its own providers served; without them nothing is signed.
   */
  plan(message: MessageRow, dst: ChainClient, after?: string, witnesses?: readonly string[]): Promise<DeliveryPlan>;
  /** A step that was mined but did not take effect (a DVN instruction that failed inside). */
  stepFailure(step: string, receipt: Receipt, dstChain: string): string | null;
  /** Explains why a delivery transaction would revert, from its revert data. */
  explainRevert(revertData: string | null): RevertVerdict;
  /** The application message a stored row carries (the CREDIT/RELEASE/SEIZE bytes). */
  appMessage(row: MessageRow): string;
}

/** The part of an observation every transport fills the same way: the route and where the log is. */
export function observedOn(route: RouteConfig, log: Log): Pick<NewMessage, 'route' | 'srcChain' | 'dstChain' | 'srcTx' | 'srcBlock' | 'srcBlockHash' | 'logIndex'> {
  return {
    route: route.name, srcChain: route.source, dstChain: route.destination,
    srcTx: log.transactionHash, srcBlock: log.blockNumber, srcBlockHash: log.blockHash, logIndex: log.logIndex,
  };
}

/**
 * The contracts at the two ends of a route: a credit goes from the source's vault to the
 * destination's engine, a settlement (RELEASE/SEIZE) from the source's engine to the destination's vault.
 */
export function routeEnds(config: Config, route: RouteConfig): { sender: string; receiver: string } {
  const src = config.chains[route.source];
  const dst = config.chains[route.destination];
  const sender = route.direction === 'credit' ? src?.vault : src?.engine;
  const receiver = route.direction === 'credit' ? dst?.engine : dst?.vault;
  if (sender === undefined || receiver === undefined) throw new Error(`route ${route.name}: the ${route.direction} route's vault or engine address is missing`);
  return { sender, receiver };
}

export function routeNamed(config: Config, name: string): RouteConfig {
  const route = config.routes.find((r) => r.name === name);
  if (route === undefined) throw new Error(`unknown route ${name}`);
  return route;
}
