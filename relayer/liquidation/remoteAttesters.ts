// The keeper's side of attesters that run as their own processes (`isorelay attester`): asks each
// for its signature over an attestation, checks that the signature is the named attester's over
// exactly that attestation, and merges them with any local attester keys, sorted by signer as the
// contract requires. An attester that refuses, is down or answers garbage simply does not count.
import { verifyTypedData, type TypedDataDomain, type Wallet } from 'ethers';
import { boundedText } from '../chains/boundedText.js';
import { PRICE_ATTESTATION_TYPES, signAttestation, type PriceAttestation } from './attestation.js';

export interface RemoteAttester {
  url: string;
  /** Sent as `authorization: Bearer <token>`; never logged. */
  token?: string;
}

export interface GatheredSignatures {
  signatures: string[];
  signers: string[];
  /** Why each attester that gave nothing did not. */
  refusals: string[];
}

/** The largest answer read from an attester (a signer and a signature). */
const MAX_ANSWER_BYTES = 16 * 1024;

async function askOne(a: RemoteAttester, market: string, attestation: PriceAttestation, domain: TypedDataDomain, timeoutMs: number): Promise<{ signer: string; signature: string }> {
  const body = JSON.stringify({
    market,
    attestation: {
      market: attestation.market, low: attestation.low.toString(), high: attestation.high.toString(), median: attestation.median.toString(),
      timestamp: attestation.timestamp.toString(), chains: attestation.chains.map(String), deadline: attestation.deadline.toString(),
    },
  });
  const res = await fetch(`${a.url.replace(/\/+$/, '')}/v1/attest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(a.token === undefined ? {} : { authorization: `Bearer ${a.token}` }) },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await boundedText(res, MAX_ANSWER_BYTES);
  const json = JSON.parse(text) as { signer?: unknown; signature?: unknown; error?: unknown };
  if (!res.ok) throw new Error(`refused (HTTP ${res.status}): ${typeof json.error === 'string' ? json.error.slice(0, 300) : '?'}`);
  if (typeof json.signer !== 'string' || typeof json.signature !== 'string') throw new Error('no signer and signature in the answer');
  const recovered = verifyTypedData(domain, PRICE_ATTESTATION_TYPES, { ...attestation, chains: [...attestation.chains] }, json.signature);
  if (recovered.toLowerCase() !== json.signer.toLowerCase()) throw new Error(`the signature is not ${json.signer}'s over this attestation`);
  return { signer: recovered, signature: json.signature };
}

/** Local keys' and remote attesters' signatures over `attestation`, one per signer, sorted by signer ascending. */
export async function gatherSignatures(
  market: string, attestation: PriceAttestation, domain: TypedDataDomain, local: readonly Wallet[], remote: readonly RemoteAttester[], timeoutMs: number,
): Promise<GatheredSignatures> {
  const bySigner = new Map<bigint, string>();
  const own = await signAttestation(attestation, local, domain);
  const localSigners = [...new Set(local.map((w) => BigInt(w.address)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  localSigners.forEach((s, i) => bySigner.set(s, own[i] as string));
  const refusals: string[] = [];
  const answers = await Promise.allSettled(remote.map((r) => askOne(r, market, attestation, domain, timeoutMs)));
  answers.forEach((a, i) => {
    if (a.status === 'fulfilled') bySigner.set(BigInt(a.value.signer), a.value.signature);
    else refusals.push(`${new URL(remote[i]?.url ?? 'http://?').host}: ${a.reason instanceof Error ? a.reason.message : String(a.reason)}`);
  });
  const ordered = [...bySigner.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { signatures: ordered.map(([, s]) => s), signers: ordered.map(([s]) => '0x' + s.toString(16).padStart(40, '0')), refusals };
}
