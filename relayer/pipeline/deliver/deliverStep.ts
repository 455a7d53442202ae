// The deliver stage: for a finalized or verified message, asks the transport for the next step
// from destination state, sends it through the chain's transaction sender, and repeats until the
// final delivery transaction is mined (→ submitted). A revert explained as permanent is dead.
import type { ChainClient } from '../../chains/client.js';
import { TxRevertedError, type TxSender } from '../../chains/tx/sender.js';
import type { MessageRow, Store } from '../../store/store.js';
import type { Transport } from '../../transports/transport.js';
import type { EventBus } from '../events.js';
import type { StepResult } from '../stage.js';

export interface DeliverDeps {
  store: Store;
  events: EventBus;
  transport: (name: string) => Transport;
  dst: (chain: string) => ChainClient;
  sender: (chain: string) => TxSender;
  isPaused: (route: string) => boolean;
  now?: () => number;
}

/** At most this many transport steps per call (verify, commit, receive, with room for a retry). */
const MAX_STEPS = 5;

export function deliverStep(deps: DeliverDeps): (row: MessageRow) => Promise<StepResult> {
  const now = deps.now ?? Date.now;
  return async (initial: MessageRow): Promise<StepResult> => {
    if (deps.isPaused(initial.route)) return { kind: 'wait', reason: `route ${initial.route} is paused` };
    const transport = deps.transport(initial.transport);
    const dst = deps.dst(initial.dstChain);
    let row = initial;
    let after: string | undefined;
    for (let i = 0; i < MAX_STEPS; i++) {
      const plan = await transport.plan(row, dst, after);
      switch (plan.kind) {
        case 'delivered':
          return { kind: 'advance', to: 'delivered', patch: { deliveredAt: now() }, reason: 'already delivered on chain' };
        case 'wait':
          return { kind: 'wait', reason: plan.reason };
        case 'reject':
          return { kind: 'drop', to: 'dead', reason: plan.reason };
        case 'send': {
          let receipt;
          try {
            receipt = await deps.sender(row.dstChain).submit(plan.tx);
          } catch (e) {
            if (e instanceof TxRevertedError) {
              const why = transport.explainRevert(e.revertData);
              return why.permanent ? { kind: 'drop', to: 'dead', reason: `${plan.step}: ${why.reason}` } : { kind: 'retry', reason: `${plan.step}: ${why.reason}` };
            }
            throw e;
          }
          deps.events.emit({ type: 'tx.mined', chain: row.dstChain, purpose: plan.step, gasUsed: receipt.gasUsed, ok: receipt.status === 1, hash: receipt.transactionHash });
          if (receipt.status !== 1) return { kind: 'retry', reason: `${plan.step} reverted on chain (${receipt.transactionHash})` };
          const failure = transport.stepFailure(plan.step, receipt, row.dstChain);
          if (failure !== null) return { kind: 'retry', reason: failure };
          if (plan.then === 'submitted') return { kind: 'advance', to: 'submitted', patch: { dstTx: receipt.transactionHash } };
          if (plan.then !== row.status) {
            const from = row.status;
            if (deps.store.transition(row.id, from, plan.then, { lastError: null }, now()))
              deps.events.emit({ type: 'message.moved', id: row.id, route: row.route, from, to: plan.then, ageMs: now() - row.observedAt });
            row = deps.store.get(row.id) ?? row;
          }
          after = plan.step;
          break;
        }
      }
    }
    return { kind: 'retry', reason: `no progress after ${MAX_STEPS} steps` };
  };
}
