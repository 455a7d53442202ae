// A permanent revert ends a message for good (dead), so it is not taken from one node's word: a
// provider could answer any eth_call with the revert data of AlreadyProcessed or NotForThisEngine.
// Before a message is dropped for a revert that no retry could change, the same call is simulated
// on each of the destination's other providers (chains.<chain>.providers); any that runs it, or
// fails it for a reason a retry could change, disputes the verdict and the message is retried.
import type { ChainClient } from '../../chains/client.js';
import type { ChainConfig } from '../../config/schema.js';
import { isExecutionFailure, RpcResponseError } from '../../chains/rpc.js';
import { providersOf, type Provider } from '../../chains/providers.js';
import { revertDataOf } from '../../chains/tx/sender.js';
import { errorSummary } from '../../errors/base.js';
import type { RevertVerdict } from '../../transports/transport.js';

/** A simulation of the reverted step on one provider's client: whether it ran, or the revert it got. */
export type SimulateOn = (client: ChainClient) => Promise<{ ok: true } | { ok: false; revertData: string | null }>;

export type RevertConfirmation = { confirmed: true } | { confirmed: false; reason: string };

export class RevertConfirmer {
  private readonly providers = new Map<string, Provider[]>();

  constructor(private readonly chains: Readonly<Record<string, ChainConfig>>) {}

  /** Confirmed when every provider of the chain fails the step for a reason no retry can change too. */
  async confirm(chain: string, simulateOn: SimulateOn, explain: (revertData: string | null) => RevertVerdict): Promise<RevertConfirmation> {
    const providers = this.providersOf(chain);
    // One provider only: nobody to ask (doctor warns about a single provider).
    if (providers.length < 2) return { confirmed: true };
    for (const p of providers) {
      let outcome;
      try {
        outcome = await simulateOn(p.client);
      } catch (e) {
        if (e instanceof RpcResponseError && isExecutionFailure(e)) outcome = { ok: false as const, revertData: revertDataOf(e) };
        else return { confirmed: false, reason: `provider ${p.name} could not run the call (${errorSummary(e)})` };
      }
      if (outcome.ok) return { confirmed: false, reason: `provider ${p.name} runs the call without a revert` };
      const verdict = explain(outcome.revertData);
      if (verdict.outcome !== 'permanent') return { confirmed: false, reason: `provider ${p.name} fails the call otherwise: ${verdict.reason}` };
    }
    return { confirmed: true };
  }

  private providersOf(chain: string): Provider[] {
    let ps = this.providers.get(chain);
    if (ps === undefined) {
      const cfg = this.chains[chain];
      ps = cfg === undefined ? [] : providersOf(chain, cfg);
      this.providers.set(chain, ps);
    }
    return ps;
  }
}
