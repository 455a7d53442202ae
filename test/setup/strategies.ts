// Options strategies in end-to-end tests: a strategy opened by a trader on base with the devnet
// market maker's signed quote, the clocks of every devnet chain moved together (an expiry reached
// without one chain's feeds going stale against another's clock), and the keeper of a test.
import { Wallet } from 'ethers';
import type { Relayer } from '../../relayer/app/relayer.js';
import type { Config } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { positionKeyOf } from '../../relayer/liquidation/engineAccount.js';
import { Keeper } from '../../relayer/liquidation/keeper.js';
import type { OptionLeg } from '../../relayer/margin/options.js';
import { PriceService } from '../../relayer/oracle/priceService.js';
import { engine, minedOn, provider, trader } from './devnet.js';
import { CHAIN_ID, MARKET_ID } from './engineCalls.js';
import { freshNonce, openArgs, quoteDomain, signQuote } from './optionQuotes.js';

/** The devnet engine's keeper as the daemon builds it: the relayer's sender on base, the threshold's attester keys. */
export function testKeeper(m: DevnetManifest, relayer: Relayer, config: Config): Keeper {
  return new Keeper({
    config, client: (c) => relayer.client(c), sender: relayer.senderFor('base'),
    attesters: m.accounts.attesters.slice(0, m.market.attesterThreshold).map((a) => new Wallet(a.privateKey)),
    prices: new PriceService(config, (c) => relayer.client(c)), events: relayer.events,
  });
}

/** Base's clock (the engine's). */
export async function baseNow(m: DevnetManifest): Promise<bigint> {
  const block = await provider(m, 'base').getBlock('latest');
  if (block === null) throw new Error('no latest block on base');
  return BigInt(block.timestamp);
}

/** Moves every devnet chain's clock `seconds` ahead (a block mined on each). */
export async function warpAll(m: DevnetManifest, seconds: number): Promise<void> {
  await Promise.all(Object.keys(m.chains).map(async (chain) => {
    await provider(m, chain).send('evm_increaseTime', [seconds]);
    await provider(m, chain).send('evm_mine', []);
  }));
}

/**
 * Trader `index` opens `legs` for `premium` (USD 1e18) on its credited position, expiring at
 * `expiry`, on a quote the devnet market maker signed; returns the position key.
 */
export async function openStrategy(m: DevnetManifest, o: { positionId: bigint; legs: readonly OptionLeg[]; premium: bigint; expiry: bigint; index?: number }): Promise<string> {
  const t = trader(m, 'base', o.index ?? 0);
  const now = await baseNow(m);
  const q = { trader: t.address, positionId: o.positionId, market: MARKET_ID, expiry: o.expiry, legs: o.legs, premium: o.premium, deadline: now + 600n, nonce: freshNonce() };
  const signature = await signQuote(q, new Wallet(m.accounts.marketMaker.privateKey), quoteDomain(CHAIN_ID.base as bigint, m.chains.base?.contracts.engine as string));
  await minedOn(m, 'base', engine(m, t).getFunction('openStrategy').send(...openArgs(q, signature)));
  return positionKeyOf(t.address, o.positionId);
}

/** The expiry of the strategy a position holds on the engine (0: none). */
export async function strategyExpiry(m: DevnetManifest, positionKey: string): Promise<bigint> {
  return ((await engine(m).getFunction('strategyOf')(positionKey)) as unknown as [string, bigint])[1];
}
