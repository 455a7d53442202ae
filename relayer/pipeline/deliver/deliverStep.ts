// The deliver stage: for a finalized or verified message, asks the transport for the remaining
// steps from destination state and sends them — all in one RelayBatcher transaction shared with
// other messages when the chain has a batcher, else one transaction per step, re-planning after
// each. A revert that the transport explains as permanent makes the message dead.
import type { ChainClient, Receipt } from '../../chains/client.js';
import type { BatchSubmitter } from '../../chains/tx/batchSubmitter.js';
import { TxRevertedError, type TxSender } from '../../chains/tx/sender.js';
import type { MessageRow, Store } from '../../store/store.js';
import type { DeliveryStep, Transport } from '../../transports/transport.js';
import type { EventBus } from '../events.js';
import type { StepResult } from '../stage.js';
import type { GuardVerdict } from './creditLimits.js';

export interface DeliverDeps {
  store: Store;
  events: EventBus;
  transport: (name: string) => Transport;
  dst: (chain: string) => ChainClient;
  sender: (chain: string) => TxSender;
  /** The chain's batcher, if it has one. */
  batch: (chain: string) => BatchSubmitter | undefined;
  isPaused: (route: string) => boolean;
  /** Whether a message must be held or wait before any step is sent (the SEIZE guard, credit limits), or null. */
  guard?: (row: MessageRow) => Promise<GuardVerdict>;
  now?: () => number;
}

/** At most this many plans per call (verify, commit, receive, with room for a retry). */
const MAX_PLANS = 5;

/** Source order: within one path it is the transport's nonce order. */
function sourceOrder(row: MessageRow): string {
  return `${row.srcChain}:${row.srcBlock.toString().padStart(20, '0')}:${String(row.logIndex).padStart(8, '0')}`;
}

type Sent = { ok: true; receipt: Receipt } | { ok: false; result: StepResult };

export function deliverStep(deps: DeliverDeps): (row: MessageRow) => Promise<StepResult> {
  const now = deps.now ?? Date.now;

  /** Sends steps (one, or all through the batcher); turns reverts into closed results. */
  async function send(row: MessageRow, transport: Transport, steps: DeliveryStep[], batch: BatchSubmitter | undefined): Promise<Sent> {
    const first = steps[0] as DeliveryStep;
    const label = batch === undefined ? first.step : 'relayBatch';
    let receipt: Receipt;
    try {
      receipt = batch === undefined
        ? await deps.sender(row.dstChain).submit(first.tx)
        : await batch.submit({
            order: sourceOrder(row),
            messages: [row.id],
            calls: steps.map((s) => ({
              purpose: s.step, phase: s.phase, to: s.tx.to, data: s.tx.data,
              ...(s.tx.value === undefined ? {} : { value: s.tx.value }),
              ...(s.tx.gasLimit === undefined ? {} : { gas: s.tx.gasLimit }),
            })),
          });
    } catch (e) {
      if (!(e instanceof TxRevertedError)) throw e;
      const why = transport.explainRevert(e.revertData);
      const reason = `${e.purpose}: ${why.reason}`;
      const result: StepResult = why.outcome === 'permanent' ? { kind: 'drop', to: 'dead', reason } : why.outcome === 'wait' ? { kind: 'wait', reason } : { kind: 'retry', reason };
      return { ok: false, result };
    }
    deps.events.emit({ type: 'tx.mined', chain: row.dstChain, purpose: label, gasUsed: receipt.gasUsed, ok: receipt.status === 1, hash: receipt.transactionHash });
    if (receipt.status !== 1) return { ok: false, result: { kind: 'retry', reason: `${label} reverted on chain (${receipt.transactionHash})` } };
    for (const s of batch === undefined ? steps.slice(0, 1) : steps) {
      const failure = transport.stepFailure(s.step, receipt, row.dstChain);
      if (failure !== null) return { ok: false, result: { kind: 'retry', reason: failure } };
    }
    return { ok: true, receipt };
  }

  return async (initial: MessageRow): Promise<StepResult> => {
    if (deps.isPaused(initial.route)) return { kind: 'wait', reason: `route ${initial.route} is paused` };
    // Only before the first step: once verification began, the decision has been taken.
    const before = initial.status === 'finalized' || (initial.status === 'failed' && initial.resumeStatus === 'finalized');
    if (before && deps.guard !== undefined) {
      const verdict = await deps.guard(initial);
      if (verdict !== null) return { kind: verdict.kind, reason: verdict.reason };
    }
    const transport = deps.transport(initial.transport);
    const dst = deps.dst(initial.dstChain);
    const batch = deps.batch(initial.dstChain);
    let row = initial;
    let after: string | undefined;
    for (let i = 0; i < MAX_PLANS; i++) {
      const plan = await transport.plan(row, dst, after);
      if (plan.kind === 'delivered') return { kind: 'advance', to: 'delivered', patch: { deliveredAt: now() }, reason: 'already delivered on chain' };
      if (plan.kind === 'wait') return { kind: 'wait', reason: plan.reason };
      if (plan.kind === 'reject') return { kind: 'drop', to: 'dead', reason: plan.reason };
      const sent = await send(row, transport, plan.steps, batch);
      if (!sent.ok) return sent.result;
      const done = batch === undefined ? plan.steps[0] : plan.steps[plan.steps.length - 1];
      if (done === undefined || done.then === 'submitted') return { kind: 'advance', to: 'submitted', patch: { dstTx: sent.receipt.transactionHash } };
      if (done.then !== row.status) {
        const from = row.status;
        if (deps.store.transition(row.id, from, done.then, { lastError: null }, now()))
          deps.events.emit({ type: 'message.moved', id: row.id, route: row.route, from, to: done.then, ageMs: now() - row.observedAt });
        row = deps.store.get(row.id) ?? row;
      }
      after = done.step;
    }
    return { kind: 'retry', reason: `no progress after ${MAX_PLANS} steps` };
  };
}
