// The pipeline's typed event stream: stages emit, metrics and logs subscribe. The core never
// calls Prometheus or formats a log line for an operator itself.
import type { ReasonCode } from '../messages/reasons.js';
import type { MessageStatus } from '../messages/status.js';

export type RelayerEvent =
  | { type: 'chain.head'; chain: string; head: bigint; finalized: bigint }
  | { type: 'scan.range'; stream: string; from: bigint; to: bigint; logs: number; durationMs: number }
  /** Where a route's scan stands after a poll: blocks still to scan are `head - scanned`. */
  | { type: 'scan.progress'; stream: string; chain: string; scanned: bigint; head: bigint }
  /** The gas key's balance on a chain (wei), read every little while, and the chain's low-balance threshold (wei). */
  | { type: 'wallet.balance'; chain: string; address: string; wei: bigint; lowWei: bigint }
  | { type: 'scan.reorg'; stream: string; ancestor: bigint; depth: bigint; orphaned: number }
  /** A nonce skipped on a transport path: a log was missed (a lagging node); the scan rewinds. */
  | { type: 'scan.gap'; stream: string; path: string; expected: bigint; got: bigint; rewoundTo: bigint }
  | { type: 'message.observed'; id: string; route: string; messageId: string | null }
  | { type: 'message.moved'; id: string; route: string; from: MessageStatus; to: MessageStatus; code?: ReasonCode; reason?: string; ageMs: number }
  | { type: 'tx.mined'; chain: string; purpose: string; gasUsed: bigint; ok: boolean; hash: string }
  | { type: 'stage.error'; stage: string; chain?: string; error: string; retryable: boolean }
  | { type: 'incident'; chain: string; code: string; message: string }
  /** The independent providers of a source chain served different contents for one message: it is held, nothing is signed. */
  | { type: 'verify.disagreement'; chain: string; route: string; id: string; providers: string[]; dissenting: string[]; reason: string }
  /** A CREDIT over a route's limit: held (above the per-message cap) or waiting for the window. */
  | { type: 'route.limited'; route: string; id: string; token: string; amount: bigint; held: boolean; reason: string }
  /**
   * One keeper pass over a market: the reconciled range, or why there is none (nobody is liquidated,
   * nothing settled); its options strategies expired and not settled yet, and its σ on the engine.
   */
  | { type: 'keeper.tick'; market: string; ok: boolean; indexed: number; candidates: number; reason?: string; badDebt?: bigint; strategiesDue?: number; sigma?: bigint }
  /** A liquidation the keeper sent (ok) or that the engine refused (reason). */
  | { type: 'keeper.liquidation'; market: string; positionKey: string; price: bigint; ok: boolean; tx?: string; reason?: string; partial?: boolean }
  /**
   * A settlement queued on the engine (a liquidation's or an expired strategy's RELEASE or SEIZE, the
   * refund of a CREDIT the engine does not take), going back to `chain`: the keeper sent it (ok, the
   * vault's `messageId`), found it sent meanwhile by someone else (ok, skipped), or did not send it
   * (reason): it stays queued, for anyone and for the keeper's next try.
   */
  | { type: 'keeper.settlementSent'; id: bigint; ok: boolean; chain: string; kind: 'RELEASE' | 'SEIZE'; trader: string; token: string; amount: bigint; messageId?: string; skipped?: boolean; tx?: string; reason?: string }
  /**
   * After the keeper's pass over the engine's queue: per chain they go back to, the settlements queued
   * longer than the grace and not sent yet (every chain that had one, 0 once it has none).
   */
  | { type: 'keeper.settlementsPending'; pending: { chain: string; count: number }[] }
  /**
   * An options strategy the keeper settled at expiry or liquidated (ok), or did not (reason: the
   * simulated revert, or no attestation; positionKey '' for the whole tick). `late`: settled after its settle window.
   */
  | { type: 'keeper.strategy'; action: 'settle' | 'liquidate'; market: string; positionKey: string; ok: boolean; price?: bigint; payoff?: bigint; value?: bigint; penalty?: bigint; tx?: string; reason?: string; late?: boolean }
  /** The keeper posted a market's volatility σ (1e18) with setVolatility (ok), or the engine refused it. */
  | { type: 'keeper.volatility'; market: string; sigma: bigint; previous: bigint; variance: bigint; ok: boolean; tx?: string; reason?: string };

export type RelayerEventType = RelayerEvent['type'];
type Listener = (e: RelayerEvent) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RelayerEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken subscriber must never stop the pipeline.
      }
    }
  }
}
