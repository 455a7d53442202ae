// The doctor's checks of the keeper's attesters: the attestation contract the engine verifies with,
// each local key and remote attester's signer in its set, and enough of them for its threshold.
import { id, isAddress, type Result } from 'ethers';
import { boundedText } from '../../chains/boundedText.js';
import type { ChainClient } from '../../chains/client.js';
import type { Config } from '../../config/schema.js';
import { errorSummary } from '../../errors/base.js';
import { redactText, redactUrl } from '../../errors/redact.js';
import { attestationsIface, engineIface } from './abis.js';
import { fail, pass, type Checks } from './checks.js';
import type { Keys } from './keys.js';

/** Where a configured attester signs from: a local key, or a remote process that names its signer. */
interface AttesterSigner { label: string; address: string }

/** The signer a remote attester names on its /healthz (unauthenticated), or why it could not be asked. */
async function remoteSigner(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
  const body = JSON.parse(await boundedText(res, 16 * 1024)) as { signer?: unknown };
  if (!res.ok || typeof body.signer !== 'string' || !isAddress(body.signer)) throw new Error(`answered HTTP ${res.status} without a signer address: is it an isorelay attester?`);
  return body.signer;
}

/**
 * The keeper's attesters against the attestation contract the engine verifies with: each local
 * key and each remote attester's signer is in its set, and together they reach its threshold.
 */
export async function checkAttesters(config: Config, keys: Keys, clients: Map<string, ChainClient>, out: Checks): Promise<void> {
  const k = config.keeper;
  const client = clients.get(out.group);
  const engine = config.chains[out.group]?.engine;
  if (k?.enabled !== true || client === undefined || engine === undefined) return;
  let contract: string | undefined;
  await out.run('attestation contract the engine verifies with', async () => {
    const used = (await out.read(client, engineIface, engine, 'attestations'))[0] as string;
    const configured = config.chains[out.group]?.attestations;
    if (BigInt(used) === 0n) return fail('the engine has no attestation contract: no liquidation can be attested');
    const code = await client.rpc.call<string>('eth_getCode', [used, 'latest']);
    if (code === '0x' || code === '') return fail(`the engine verifies with ${used}, where there is no contract`);
    contract = used;
    if (configured !== undefined && configured.toLowerCase() !== used.toLowerCase())
      return fail(`the engine verifies with ${used}, the config says chains.${out.group}.attestations is ${configured}: attesters sign for the wrong contract's domain`);
    return pass(used);
  });
  if (contract === undefined) return;
  const attestations = contract;
  const signers: AttesterSigner[] = keys.attesters.flatMap((w, i) => (w === null ? [] : [{ label: `attester ${i + 1} key`, address: w.address }]));
  for (const r of k.remoteAttesters) {
    const label = `remote attester ${redactUrl(r.url)}`;
    try {
      signers.push({ label, address: await remoteSigner(r.url, k.attesterTimeoutMs) });
    } catch (e) {
      out.add(`${label} answers`, fail(`no answer: ${redactText(errorSummary(e))}: the keeper gets no signature from it`));
    }
  }
  const known = new Set<string>();
  for (const s of signers) {
    await out.run(`${s.label} is an attester of the contract`, async () => {
      const on = (await out.read(client, attestationsIface, attestations, 'isAttester', [s.address]))[0] as boolean;
      if (!on) return fail(`${s.address} is not in the attester set of ${attestations}: its signatures are left out (setAttesters, through the owner)`);
      known.add(s.address.toLowerCase());
      return pass(s.address);
    });
  }
  await out.run('attesters reach the threshold', async () => {
    const threshold = BigInt((await out.read(client, attestationsIface, attestations, 'threshold'))[0] as bigint);
    const n = BigInt(known.size);
    return n >= threshold
      ? pass(`${n} configured attester(s) in the contract's set, ${threshold} signature(s) needed per liquidation`)
      : fail(`${n} configured attester(s) in the contract's set, ${threshold} signature(s) needed: no liquidation can pass`);
  });
  await checkVolUpdater(config, keys, client, engine, out);
}

/**
 * The keeper posts each options market's σ (keeper.volatility) with the relayer key: the engine's
 * volUpdater must be that key, or every post is refused (NotVolUpdater) and expired strategies past
 * their settle window wait for the owner.
 */
async function checkVolUpdater(config: Config, keys: Keys, client: ChainClient, engine: string, out: Checks): Promise<void> {
  if (config.keeper?.volatility.enabled !== true || keys.relayer === null) return;
  const relayer = keys.relayer.address;
  const options: string[] = [];
  for (const name of Object.keys(config.markets)) {
    const c = (await out.read(client, engineIface, engine, 'optionsConfig', [id(name)]).catch(() => null))?.[0] as Result | undefined;
    if (c !== undefined && (c.getValue('volMax') as bigint) > 0n) options.push(name);
  }
  if (options.length === 0) return;
  await out.run(`the keeper may post σ (${options.join(', ')})`, async () => {
    const updater = (await out.read(client, engineIface, engine, 'volUpdater'))[0] as string;
    return updater.toLowerCase() === relayer.toLowerCase()
      ? pass(`the engine's volUpdater is the relayer key ${relayer}`)
      : fail(`the engine's volUpdater is ${updater}, not the relayer key ${relayer}: every σ the keeper posts is refused, and a strategy not settled within its window waits for the owner (setVolUpdater, through the timelock), or set keeper.volatility.enabled: false`);
  });
}
