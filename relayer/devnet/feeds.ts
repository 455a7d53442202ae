// The devnet's oracle controls, for the demo and the tests: the deployer owns every chain's
// ETH-USD DevnetAggregator and SequencerUptimeFeed and moves them; each call waits for its receipt.
import { Contract, Wallet, type JsonRpcProvider } from 'ethers';
import { ourArtifact } from '../chains/contractsAbi.js';
import { waitForReceipt } from '../chains/provider.js';
import type { DevnetManifest } from './deploy.js';

export type ProviderOf = (chain: string) => JsonRpcProvider;

/** A chain's price feed or sequencer feed, signed by its owner (the devnet deployer). */
export function devnetFeed(m: DevnetManifest, chain: string, kind: 'price' | 'sequencer', providerOf: ProviderOf): Contract {
  const c = m.chains[chain];
  if (c === undefined) throw new Error(`no devnet chain ${chain}`);
  const [address, artifact] = kind === 'price' ? [c.contracts.ethUsdFeed, 'DevnetAggregator' as const] : [c.contracts.sequencerFeed, 'SequencerUptimeFeed' as const];
  return new Contract(address, ourArtifact(artifact).abi, new Wallet(m.accounts.deployer.privateKey, providerOf(chain)));
}

async function mined(providerOf: ProviderOf, chain: string, tx: Promise<{ hash: string }>, what: string): Promise<void> {
  const r = await waitForReceipt(providerOf(chain), (await tx).hash);
  if (r.status !== 1) throw new Error(`devnet: ${what} on ${chain} reverted`);
}

/** Sets the raw answer (8 decimals) of the ETH-USD feed on each of `chains`. */
export async function setDevnetAnswer(m: DevnetManifest, chains: readonly string[], answer8: bigint, providerOf: ProviderOf): Promise<void> {
  for (const chain of chains) await mined(providerOf, chain, devnetFeed(m, chain, 'price', providerOf).getFunction('setAnswer').send(answer8), 'setAnswer');
}

/** ETH-USD at `usd` whole dollars on each of `chains`. */
export function setDevnetPrice(m: DevnetManifest, chains: readonly string[], usd: bigint, providerOf: ProviderOf): Promise<void> {
  return setDevnetAnswer(m, chains, usd * 10n ** 8n, providerOf);
}

export async function setDevnetSequencer(m: DevnetManifest, chain: string, down: boolean, providerOf: ProviderOf): Promise<void> {
  await mined(providerOf, chain, devnetFeed(m, chain, 'sequencer', providerOf).getFunction('setStatus').send(down), 'setStatus');
}
