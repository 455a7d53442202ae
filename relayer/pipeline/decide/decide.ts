// Decide: whether a verified message may execute on its destination now. Verification only
// states what happened on the source, so every message is verified whatever is decided here;
// these guards decide *execution*: a SEIZE whose price the source chain's oracle disputes is held,
// a CREDIT above its route's cap is held or waits for room in its window. "Why is this held?" is
// answered here and nowhere else.
import type { WaitCode } from '../../messages/reasons.js';
import { HoldCode } from '../../messages/status.js';
import type { MessageRow } from '../../store/store.js';
import type { CreditLimits } from './creditLimits.js';

export type Decision = { kind: 'execute' } | { kind: 'hold'; code: HoldCode; reason: string } | { kind: 'wait'; code: WaitCode; reason: string };

/** Why a SEIZE must be held (the source chain's oracle disputes its price), or null: see liquidation/seizeGuard. */
export interface SeizeCheck {
  check(row: MessageRow): Promise<string | null>;
}

export interface DeciderDeps {
  seize: SeizeCheck;
  limits: Pick<CreditLimits, 'check'>;
}

export class ExecutionDecider {
  constructor(private readonly deps: DeciderDeps) {}

  /** Each guard lets an operator's release through itself (a released CREDIT still counts in its window). */
  async decide(row: MessageRow): Promise<Decision> {
    const disputed = await this.deps.seize.check(row);
    if (disputed !== null) return { kind: 'hold', code: HoldCode.seizePrice, reason: disputed };
    return (await this.deps.limits.check(row)) ?? { kind: 'execute' };
  }
}
