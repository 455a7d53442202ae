// The confirm stage: a submitted message is delivered once the destination's own state says so;
// if the delivery transaction vanished or failed, the message goes back to be delivered again.
import type { ChainClient } from '../../chains/client.js';
import { WaitCode } from '../../messages/reasons.js';
import type { MessageRow } from '../../store/store.js';
import { RETRY_SEIZE_STEP } from '../../transports/parkedSeize.js';
import type { Transport } from '../../transports/transport.js';
import type { StepResult } from '../stage.js';

export interface ConfirmDeps {
  transport: (name: string) => Transport;
  dst: (chain: string) => ChainClient;
  now?: () => number;
}

export function confirmStep(deps: ConfirmDeps): (row: MessageRow) => Promise<StepResult> {
  const now = deps.now ?? Date.now;
  return async (row: MessageRow): Promise<StepResult> => {
    const dst = deps.dst(row.dstChain);
    const plan = await deps.transport(row.transport).plan(row, dst);
    if (plan.kind === 'delivered') return { kind: 'advance', to: 'delivered', patch: { deliveredAt: now() } };
    // A SEIZE the vault parked and whose price its oracle now accepts: deliver sends the retry.
    if (plan.kind === 'send' && plan.steps[0].step === RETRY_SEIZE_STEP) return { kind: 'advance', to: 'verified', reason: 'the vault parked the SEIZE and its oracle now agrees: retrying it' };
    const receipt = row.dstTx === null ? null : await dst.receipt(row.dstTx);
    if (receipt === null || receipt.status !== 1)
      return { kind: 'advance', to: 'verified', reason: receipt === null ? 'delivery transaction not found' : 'delivery transaction reverted' };
    return plan.kind === 'wait' ? { kind: 'wait', code: plan.code, reason: plan.reason } : { kind: 'wait', code: WaitCode.confirmation, reason: 'delivery mined but not yet visible on chain' };
  };
}
