// A market's reconciled range as a signed PriceAttestation, for the keepers: stamped in the engine
// chain's clock, signed by the local attester keys and the attesters in their own processes, and
// kept to the signers the contract knows (one unknown signature makes the engine revert). One
// attestation of a tick's range serves every liquidation and settlement of that tick.
import type { Wallet } from 'ethers';
import { abiFunction } from '../chains/abiFunction.js';
import type { ChainClient } from '../chains/client.js';
import type { ReconciledPrice } from '../oracle/reconcile.js';
import { attestationDomain, type PriceAttestation } from './attestation.js';
import { attestationsIface } from './engineAbi.js';
import { gatherSignatures, type RemoteAttester } from './remoteAttesters.js';

const isAttesterFn = abiFunction(attestationsIface, 'isAttester');
/** How long the contract's answer to "is this an attester?" is trusted. */
const ATTESTER_CACHE_MS = 60_000;

/** An attestation with the known attesters' signatures, sorted by signer as the contract requires. */
export interface AttestedRange {
  attestation: PriceAttestation;
  signatures: string[];
}

export type AttestationOutcome = { ok: true; attested: AttestedRange } | { ok: false; reason: string };

export interface RangeAttesterOptions {
  /** The engine chain's client. */
  client: ChainClient;
  /** The engine's PriceAttestations and the engine chain's id: the EIP-712 domain. */
  attestations: string;
  chainId: bigint;
  /** Chain name → EVM chain id, for the chains an attestation names. */
  chainIds: (chain: string) => bigint;
  attesters: readonly Wallet[];
  remoteAttesters: readonly RemoteAttester[];
  attesterTimeoutMs: number;
  ttlSeconds: number;
}

export class RangeAttester {
  private readonly known = new Map<string, { at: number; ok: boolean }>();

  constructor(private readonly o: RangeAttesterOptions) {}

  /** The range signed by the attesters the contract knows; why not when none signs. */
  async attest(market: { name: string; id: string }, range: ReconciledPrice, timestamp: bigint): Promise<AttestationOutcome> {
    const chains = range.sources.map((s) => this.o.chainIds(s.chain)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const attestation: PriceAttestation = {
      market: market.id, low: range.low, high: range.high, median: range.median,
      timestamp, chains, deadline: timestamp + BigInt(this.o.ttlSeconds),
    };
    const gathered = await gatherSignatures(
      market.name, attestation, attestationDomain(this.o.chainId, this.o.attestations), this.o.attesters, this.o.remoteAttesters, this.o.attesterTimeoutMs,
    );
    const known = await this.knownAttesters(gathered.signers);
    const signatures = gathered.signatures.filter((_s, i) => known[i] === true);
    if (signatures.length > 0) return { ok: true, attested: { attestation, signatures } };
    const refusals = [...gathered.refusals, ...gathered.signers.filter((_s, i) => known[i] !== true).map((s) => `${s} is not an attester on chain`)];
    return { ok: false, reason: `no attester signed: ${refusals.join('; ')}` };
  }

  /** Whether each signer is in the engine's attester set (read once a minute at most). */
  private async knownAttesters(signers: readonly string[]): Promise<boolean[]> {
    const now = Date.now();
    const stale = signers.filter((s) => (this.known.get(s)?.at ?? 0) < now - ATTESTER_CACHE_MS);
    if (stale.length > 0) {
      const raws = await this.o.client.calls(stale.map((s) => ({ to: this.o.attestations, data: isAttesterFn.encode([s]) })));
      stale.forEach((s, i) => this.known.set(s, { at: now, ok: isAttesterFn.decode(raws[i] as string)[0] as boolean }));
    }
    return signers.map((s) => this.known.get(s)?.ok === true);
  }
}

/** The attestation as the engine's functions take it (a tuple of its fields). */
export function attestationArg(a: PriceAttestation): unknown[] {
  return [a.market, a.low, a.high, a.median, a.timestamp, [...a.chains], a.deadline];
}
