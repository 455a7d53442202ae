// The deliver stage, one message from finalized to submitted: verify (a quorum of the source
// chain's independent providers must serve it), decide (may it execute now?), then the transport's
// remaining steps from destination state — all in one RelayBatcher transaction shared with other
// messages when the chain has a batcher, else one transaction per step, re-planning after each.
// A held or waiting message is still verified on chain (LayerZero: DVN verify + commit), so that
// it never blocks the later nonces of its path. A revert the transport calls permanent is dead.
import type { ChainClient, Receipt } from '../../chains/client.js';
import type { BatchSubmitter } from '../../chains/tx/batchSubmitter.js';
import { TxRevertedError, type TxSender } from '../../chains/tx/sender.js';
import type { RevertConfirmer, SimulateOn } from './confirmRevert.js';
import { DropCode, FailCode, WaitCode } from '../../messages/reasons.js';
import { DEFERRED, HoldCode } from '../../messages/status.js';
import type { MessageRow, Store } from '../../store/store.js';
import type { DeliveryStep, Transport } from '../../transports/transport.js';
import type { EventBus } from '../events.js';
import type { StepResult } from '../stage.js';
import type { Decision } from '../decide/decide.js';
import type { SourceVerdict } from '../verify/sourceVerifier.js';

export interface DeliverDeps {
  store: Store;
  events: EventBus;
  transport: (name: string) => Transport;
  dst: (chain: string) => ChainClient;
  sender: (chain: string) => TxSender;
  /** The chain's batcher, if it has one. */
  batch: (chain: string) => BatchSubmitter | undefined;
  isPaused: (route: string) => boolean;
  /** Reads the message from the source chain's independent providers (pipeline/verify). */
  verifier: { verify(row: MessageRow): Promise<SourceVerdict> };
  /** Whether a verified message may execute now (pipeline/decide). */
  decider: { decide(row: MessageRow): Promise<Decision> };
  /** Confirms a permanent revert on the destination's other providers before the message is dropped. */
  revertConfirmer?: Pick<RevertConfirmer, 'confirm'>;
  now?: () => number;
}

/** At most this many plans per call (verify, commit, receive, with room for a retry). */
const MAX_PLANS = 5;

/** Source order: within one path it is the transport's nonce order. */
function sourceOrder(row: MessageRow): string {
  return `${row.srcChain}:${row.srcBlock.toString().padStart(20, '0')}:${String(row.logIndex).padStart(8, '0')}`;
}

type Sent = { ok: true; receipt: Receipt } | { ok: false; result: StepResult };

/**
 * The reverted step simulated again on another provider exactly as it was first: through the
 * batcher together with the message's earlier steps (a receive needs its verify and commit before
 * it), or alone from the relayer's address.
 */
function simulateStep(deps: DeliverDeps, row: MessageRow, steps: readonly DeliveryStep[], purpose: string, batch: BatchSubmitter | undefined): SimulateOn {
  const index = Math.max(0, steps.findIndex((s) => s.step === purpose));
  const step = steps[index] as DeliveryStep;
  if (batch === undefined) {
    return async (client) => {
      const value = step.tx.value === undefined || step.tx.value === 0n ? {} : { value: '0x' + step.tx.value.toString(16) };
      await client.rpc.call<string>('eth_call', [{ from: deps.sender(row.dstChain).address, to: step.tx.to, data: step.tx.data, ...value }, 'latest']);
      return { ok: true };
    };
  }
  const calls = steps.map((s) => ({ purpose: s.step, phase: s.phase, to: s.tx.to, data: s.tx.data, ...(s.tx.value === undefined ? {} : { value: s.tx.value }), ...(s.tx.gasLimit === undefined ? {} : { gas: s.tx.gasLimit }) }));
  return async (client) => {
    const r = (await batch.simulateOn(client, calls))[index];
    return r === undefined || r.ok ? { ok: true } : { ok: false, revertData: r.returnData };
  };
}

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
      if (why.outcome === 'permanent' && deps.revertConfirmer !== undefined) {
        // Dead is for good: one node's revert data is checked on the destination's other providers first.
        const c = await deps.revertConfirmer.confirm(row.dstChain, simulateStep(deps, row, steps, e.purpose, batch), (data) => transport.explainRevert(data));
        if (!c.confirmed) {
          deps.events.emit({ type: 'incident', chain: row.dstChain, code: 'REVERT_DISPUTED', message: `${row.id}: ${reason}, but ${c.reason}: not dropped, retried` });
          return { ok: false, result: { kind: 'retry', code: FailCode.revert, reason: `${reason} (disputed: ${c.reason})` } };
        }
      }
      const result: StepResult = why.outcome === 'permanent' ? { kind: 'drop', to: 'dead', code: DropCode.rejected, reason } : why.outcome === 'wait' ? { kind: 'wait', code: why.code ?? WaitCode.confirmation, reason } : { kind: 'retry', code: FailCode.revert, reason };
      return { ok: false, result };
    }
    deps.events.emit({ type: 'tx.mined', chain: row.dstChain, purpose: label, gasUsed: receipt.gasUsed, ok: receipt.status === 1, hash: receipt.transactionHash });
    if (receipt.status !== 1) return { ok: false, result: { kind: 'retry', code: FailCode.txFailed, reason: `${label} reverted on chain (${receipt.transactionHash})` } };
    for (const s of batch === undefined ? steps.slice(0, 1) : steps) {
      const failure = transport.stepFailure(s.step, receipt, row.dstChain);
      if (failure !== null) return { ok: false, result: { kind: 'retry', code: FailCode.txFailed, reason: failure } };
    }
    return { ok: true, receipt };
  }

  /** The source check, before anything is signed: agreed → go on; otherwise the step's result. */
  async function verifySource(row: MessageRow, stage: 'finalized' | 'verified', fence: MessageRow['lease']): Promise<{ ok: true; row: MessageRow; witnesses?: readonly string[] } | { ok: false; result: StepResult }> {
    const v = await deps.verifier.verify(row);
    switch (v.kind) {
      case 'agreed':
        return { ok: true, row, witnesses: v.witnesses };
      case 'unknown':
        // Already verified by a quorum (and on chain): providers that cannot answer now do not stop its execution.
        if (stage === 'verified') return { ok: true, row };
        return { ok: false, result: { kind: 'wait', code: WaitCode.sourceQuorum, reason: v.reason } };
      case 'disagreement':
        return { ok: false, result: { kind: 'hold', code: v.code, reason: v.reason } };
      case 'absent':
        if (stage === 'verified') return { ok: false, result: { kind: 'hold', code: HoldCode.sourceDisagreement, reason: v.reason } };
        return { ok: false, result: { kind: 'drop', to: 'orphaned', code: DropCode.reorged, reason: v.reason } };
      case 'corrected': {
        // Every field the providers were compared on, so that the next pass agrees with them.
        const { payload, messageId, kind, srcTx, srcBlock, srcBlockHash, logIndex, sequence } = v.message;
        const reason = 'a quorum of providers corrected the stored observation after the operator\'s release';
        const patch = { payload, messageId, kind, srcTx, srcBlock, srcBlockHash, logIndex, sequence, holdCode: null, lastError: reason };
        if (!(await deps.store.transition(row.id, row.status, row.status, patch, now(), fence)))
          return { ok: false, result: { kind: 'wait', code: WaitCode.confirmation, reason: 'the message moved meanwhile' } };
        return { ok: true, row: (await deps.store.get(row.id)) ?? row };
      }
    }
  }

  return async (initial: MessageRow): Promise<StepResult> => {
    if (deps.isPaused(initial.route)) return { kind: 'wait', code: WaitCode.routePaused, reason: `route ${initial.route} is paused` };
    const stage = DEFERRED.has(initial.status) ? initial.resumeStatus : initial.status;
    // Every write of this step is fenced by the claim it started under (a re-read row may carry another owner's).
    const fence = initial.lease;
    let row = initial;
    let witnesses: readonly string[] | undefined;
    // Verify: nothing is signed for a message its source's providers do not agree on (re-read, or
    // remembered, before every pass that may still sign: a verifier signs what its providers served).
    if (stage === 'finalized' || stage === 'verified') {
      const checked = await verifySource(row, stage, fence);
      if (!checked.ok) return checked.result;
      row = checked.row;
      witnesses = checked.witnesses;
    }
    // Decide: the guards say whether it executes; verification goes ahead either way.
    const decision = await deps.decider.decide(row);
    const stopped: StepResult | null = decision.kind === 'execute' ? null : decision.kind === 'hold' ? { kind: 'hold', code: decision.code, reason: decision.reason } : { kind: 'wait', code: decision.code, reason: decision.reason };
    const transport = deps.transport(row.transport);
    const dst = deps.dst(row.dstChain);
    const batch = deps.batch(row.dstChain);
    let after: string | undefined;
    for (let i = 0; i < MAX_PLANS; i++) {
      const plan = await transport.plan(row, dst, after, witnesses);
      if (plan.kind === 'delivered') return { kind: 'advance', to: 'delivered', patch: { deliveredAt: now() }, reason: 'already delivered on chain' };
      if (plan.kind === 'wait') return { kind: 'wait', code: plan.code, reason: plan.reason };
      if (plan.kind === 'reject') return { kind: 'drop', to: 'dead', code: DropCode.rejected, reason: plan.reason };
      // Held or waiting: every step but the execution itself (verification records only what happened on the source).
      const steps = stopped === null ? plan.steps : plan.steps.filter((s) => s.then !== 'submitted');
      if (stopped !== null && steps.length === 0) return stopped;
      const sent = await send(row, transport, steps, batch);
      if (!sent.ok) return sent.result;
      const done = batch === undefined ? steps[0] : steps[steps.length - 1];
      if (done === undefined || done.then === 'submitted') return { kind: 'advance', to: 'submitted', patch: { dstTx: sent.receipt.transactionHash } };
      if (done.then !== row.status) {
        const from = row.status;
        if (await deps.store.transition(row.id, from, done.then, { lastError: null }, now(), fence))
          deps.events.emit({ type: 'message.moved', id: row.id, route: row.route, from, to: done.then, ageMs: now() - row.observedAt });
        row = (await deps.store.get(row.id)) ?? row;
      }
      after = done.step;
    }
    return { kind: 'retry', code: FailCode.noProgress, reason: `no progress after ${MAX_PLANS} steps` };
  };
}
