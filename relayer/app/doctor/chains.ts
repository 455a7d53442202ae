// The doctor's checks of each chain on its own: every RPC URL answers for the configured chain id,
// the head moves, every configured contract has code, and a source's providers reach its quorum.
import type { ChainClient } from '../../chains/client.js';
import { providersOf } from '../../chains/providers.js';
import { RpcClient } from '../../chains/rpc.js';
import { DEFAULT_VERIFY_QUORUM, type ChainConfig } from '../../config/schema.js';
import { IsorelayError } from '../../errors/base.js';
import { redactText, redactUrl } from '../../errors/redact.js';
import { fail, pass, warn, type Checks } from './checks.js';

/** A head older than this is reported as not moving (a warning: some chains are quiet). */
const STALE_HEAD_MS = 5 * 60_000;

/** The endpoint's own error under the client's "no RPC endpoint answered" wrapper, with the socket's code. */
function endpointFailure(e: unknown): string {
  const inner = e instanceof IsorelayError && e.cause instanceof IsorelayError ? e.cause : e;
  const code = inner instanceof IsorelayError && inner.cause instanceof Error ? ` (${inner.cause.message})` : '';
  return redactText(`${inner instanceof Error ? inner.message : String(inner)}${code}`);
}

/** Each URL on its own (failover would hide a dead one); true when at least one answered. */
export async function checkRpcs(name: string, c: ChainConfig, out: Checks): Promise<boolean> {
  let anyAnswered = false;
  for (const url of c.rpcUrls) {
    const label = redactUrl(url);
    const rpc = new RpcClient({ chain: name, urls: [url], timeoutMs: c.rpcTimeoutMs });
    let id: number;
    try {
      id = Number(BigInt(await rpc.call<string>('eth_chainId')));
    } catch (e) {
      out.add(`RPC ${label} reachable`, fail(`no answer: ${endpointFailure(e)}`));
      continue;
    }
    anyAnswered = true;
    out.add(`RPC ${label} reachable`, pass('answers'));
    out.add(
      `RPC ${label} chain id`,
      id === c.chainId ? pass(`serves chain id ${id}`) : fail(`serves chain id ${id}, the config says ${c.chainId}: wrong node or wrong chains.${name}.chainId`),
    );
  }
  return anyAnswered;
}

function contractsOf(c: ChainConfig): [string, string][] {
  const lz = c.layerzero;
  return [
    ...(lz === undefined ? [] : ([['LayerZero endpoint', lz.endpoint], ['ReceiveUln302', lz.receiveUln302], ...(lz.sendUln302 === undefined ? [] : [['SendUln302', lz.sendUln302]]), ['DVN', lz.dvn]] as [string, string][])),
    ...(c.wormhole === undefined ? [] : ([['Wormhole core', c.wormhole.core]] as [string, string][])),
    ...(c.vault === undefined ? [] : ([['vault', c.vault]] as [string, string][])),
    ...(c.engine === undefined ? [] : ([['engine', c.engine]] as [string, string][])),
    ...(c.attestations === undefined ? [] : ([['attestations', c.attestations]] as [string, string][])),
    ...(lz === undefined ? [] : lz.moreDvns.map((d): [string, string] => [`DVN "${d.signer}"`, d.address])),
  ];
}

export async function checkChain(name: string, client: ChainClient, out: Checks): Promise<void> {
  await out.run('head moving', async () => {
    const b = await client.block('latest');
    if (b === null) return fail('the node has no latest block');
    const ageMs = Date.now() - b.timestamp * 1000;
    const age = `block ${b.number} is ${Math.max(0, Math.round(ageMs / 1000))} s old`;
    return ageMs > STALE_HEAD_MS ? warn(`${age}: the node may be stuck or not synced`) : pass(age);
  });
  for (const [what, address] of contractsOf(client.config)) {
    await out.run(`${what} has code`, async () => {
      const code = await client.rpc.call<string>('eth_getCode', [address, 'latest']);
      if (code !== '0x' && code !== '') return pass(address);
      out.absent.mark(client.name, address, what);
      return fail(`no contract at ${address}: wrong address or wrong chain`);
    });
  }
}

/** The providers a source chain's messages are verified against: each answers for the right chain; a quorum of one is a warning. */
export async function checkProviders(name: string, c: ChainConfig, out: Checks): Promise<void> {
  const providers = providersOf(name, c);
  const quorum = c.verifyQuorum ?? DEFAULT_VERIFY_QUORUM;
  let answering = 0;
  for (const p of providers) {
    await out.run(`provider ${p.name} serves chain ${c.chainId}`, async () => {
      const id = Number(BigInt(await p.client.rpc.call<string>('eth_chainId')));
      if (id !== c.chainId) return fail(`provider ${p.name} serves chain id ${id}: it cannot vouch for ${name}'s messages`);
      answering++;
      return pass(`${p.client.config.rpcUrls.map(redactUrl).join(', ')}`);
    });
  }
  out.add(
    'verification quorum',
    quorum === 1
      ? warn(`verifyQuorum 1: what one provider serves is signed as it is; a lying or compromised provider can have a forged message verified (name a second, independent provider in chains.${name}.providers)`)
      : answering < quorum
        ? fail(`${answering} of ${providers.length} providers answer, the quorum is ${quorum}: nothing from ${name} can be verified`)
        : pass(`${quorum} of ${providers.length} independent providers must serve each message alike`),
  );
}
