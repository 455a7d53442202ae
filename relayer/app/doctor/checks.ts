// The doctor's check runner: one line per check with its severity, a thrown error as a failed
// check, and the contracts found missing, whose later reads are skipped and counted instead.
import { type Interface, zeroPadValue } from 'ethers';
import type { ChainClient } from '../../chains/client.js';
import { isExecutionFailure, RpcResponseError } from '../../chains/rpc.js';
import { errorSummary } from '../../errors/base.js';
import { redactText } from '../../errors/redact.js';

export type CheckSeverity = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** A chain name, or `keys`. */
  group: string;
  name: string;
  /** False only for `fail`: a warning does not fail the doctor. */
  ok: boolean;
  severity: CheckSeverity;
  detail: string;
}

export type Outcome = { severity: CheckSeverity; detail: string };
export const pass = (detail: string): Outcome => ({ severity: 'ok', detail });
export const fail = (detail: string): Outcome => ({ severity: 'fail', detail });
export const warn = (detail: string): Outcome => ({ severity: 'warn', detail });

/**
 * The contracts a check found missing on a chain (no code): every later check that reads one is
 * skipped and counted, so one wrong address is one failure, not a cascade of undecodable reads.
 */
export class Absent {
  private readonly why = new Map<string, { what: string; address: string; chain: string }>();
  private readonly skipped = new Map<string, { group: string; key: string; count: number }>();

  private static key = (chain: string, address: string) => `${chain}:${address.toLowerCase()}`;

  mark(chain: string, address: string, what: string): void {
    this.why.set(Absent.key(chain, address), { what, address, chain });
  }

  /** Throws SkippedCheck when `address` on `chain` is known to have no code. */
  require(chain: string, address: string): void {
    const key = Absent.key(chain, address);
    if (this.why.has(key)) throw new SkippedCheck(key);
  }

  skip(group: string, key: string): void {
    const k = `${group}|${key}`;
    const s = this.skipped.get(k) ?? { group, key, count: 0 };
    s.count++;
    this.skipped.set(k, s);
  }

  /** One line per group and missing contract: how many checks it skipped. */
  summaries(): { group: string; name: string; detail: string }[] {
    return [...this.skipped.values()].map(({ group, key, count }) => {
      const { what, address, chain } = this.why.get(key) ?? { what: 'contract', address: key, chain: '?' };
      return { group, name: `checks that read the ${what} at ${address}${chain === group ? '' : ` on ${chain}`}`, detail: `${count} skipped: there is no contract at that address (see "${what} has code" under ${chain})` };
    });
  }
}

class SkippedCheck extends Error {
  constructor(readonly key: string) {
    super(`skipped: no contract at ${key}`);
  }
}

/** A view call's revert in words: decoded from the ABI, or, without data, most likely a function the contract does not have. */
function revertSentence(e: RpcResponseError, iface: Interface, to: string, chain: string, fn: string): string {
  const nested = e.data !== null && typeof e.data === 'object' && 'data' in e.data ? e.data.data : e.data;
  const data = typeof nested === 'string' ? nested : null;
  const decoded = data !== null && data.length >= 10 ? iface.parseError(data) : null;
  if (decoded !== null) return `${fn}() of ${to} on ${chain} reverted with ${decoded.name}(${decoded.args.map(String).join(', ')})`;
  return `${to} on ${chain} reverted on ${fn}() without a reason: it has no such function, so it is not the contract the config says it is`;
}

export class Checks {
  readonly list: DoctorCheck[] = [];
  constructor(readonly group: string, readonly absent: Absent) {}

  add(name: string, o: Outcome): void {
    this.list.push({ group: this.group, name, ok: o.severity !== 'fail', severity: o.severity, detail: o.detail });
  }

  /** Runs one check; a thrown error fails it with the error's (redacted) summary; a read of a missing contract skips it. */
  async run(name: string, fn: () => Promise<Outcome>): Promise<void> {
    let o: Outcome;
    try {
      o = await fn();
    } catch (e) {
      if (e instanceof SkippedCheck) return this.absent.skip(this.group, e.key);
      o = fail(redactText(errorSummary(e)));
    }
    this.add(name, o);
  }

  /**
   * A view call, decoded. A contract known to be missing skips the check; an empty answer (no
   * such function there) says so instead of ethers' BAD_DATA.
   */
  async read(client: ChainClient, iface: Interface, to: string, fn: string, args: unknown[] = []): Promise<ReturnType<Interface['decodeFunctionResult']>> {
    this.absent.require(client.name, to);
    let answer: string;
    try {
      answer = await client.call(to, iface.encodeFunctionData(fn, args));
    } catch (e) {
      throw e instanceof RpcResponseError && isExecutionFailure(e) ? new Error(revertSentence(e, iface, to, client.name, fn)) : e;
    }
    if (answer === '0x') throw new Error(`${to} on ${client.name} answered nothing to ${fn}(): it is not the contract the config says it is`);
    return iface.decodeFunctionResult(fn, answer);
  }
}

export const samePeer = (peer: string, address: string) => peer.toLowerCase() === zeroPadValue(address, 32).toLowerCase();
