// The doctor's checks of a settle route (engine → vault): the vault trusts the engine and guards a
// SEIZE with its own oracle, a guardian and an insurance fund; the engine sends back and quotes.
import { id } from 'ethers';
import type { ChainClient } from '../../chains/client.js';
import type { Config } from '../../config/schema.js';
import { engineIface, TRANSPORT_LAYERZERO, vaultIface } from './abis.js';
import { fail, pass, warn, type Checks } from './checks.js';

/** A settle route (engine → vault): the vault trusts the engine, the engine sends back over this transport and can pay for it. */
export async function checkSettleRoute(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks, dst: Checks): Promise<void> {
  const engineChain = config.chains[route.source];
  const vaultChain = config.chains[route.destination];
  const ec = clients.get(route.source);
  const vc = clients.get(route.destination);
  if (engineChain?.engine === undefined || vaultChain?.vault === undefined || ec === undefined || vc === undefined) return;
  const { engine } = engineChain;
  const { vault } = vaultChain;
  const tag = `[route ${route.name}]`;
  await dst.run(`vault takes RELEASE/SEIZE only from the engine on ${route.source} ${tag}`, async () => {
    const [trusted, chainId] = [(await src.read(vc, vaultIface, vault, 'engine'))[0] as string, (await src.read(vc, vaultIface, vault, 'engineChainId'))[0] as bigint];
    if (trusted.toLowerCase() !== engine.toLowerCase() || chainId !== BigInt(engineChain.chainId))
      return fail(`the vault trusts ${trusted} on chain ${chainId}, not the engine ${engine} on ${engineChain.chainId}: call setEngine on the vault`);
    return pass(engine);
  });
  for (const market of Object.keys(config.markets)) {
    await dst.run(`vault checks a ${market} SEIZE against its own oracle ${tag}`, async () => {
      const g = await src.read(vc, vaultIface, vault, 'seizeGuards', [id(market)]);
      const feed = g.getValue('feed') as string;
      if (BigInt(feed) === 0n) return fail(`no SEIZE guard for ${market} on the vault: every ${market} SEIZE is parked there (setSeizeGuard)`);
      const own = config.markets[market]?.feeds[route.destination]?.aggregator;
      if (own !== undefined && own.toLowerCase() !== feed.toLowerCase()) return warn(`the vault checks against feed ${feed}, the relayer's config reads ${own}: the two guards may disagree`);
      return pass(`feed ${feed}, within ${g.getValue('maxDeviationBps')} bps`);
    });
  }
  await dst.run(`vault has a guardian to release a parked SEIZE ${tag}`, async () => {
    const guardian = (await src.read(vc, vaultIface, vault, 'guardian'))[0] as string;
    return BigInt(guardian) === 0n ? warn('no guardian: a parked SEIZE executes only once the vault\'s oracle agrees (setGuardian)') : pass(guardian);
  });
  await dst.run(`vault has an insurance fund for SEIZE ${tag}`, async () => {
    const fund = (await src.read(vc, vaultIface, vault, 'insuranceFund'))[0] as string;
    return BigInt(fund) === 0n ? fail('no insurance fund: every SEIZE would revert; call setInsuranceFund on the vault') : pass(fund);
  });
  await src.run(`engine sends back to ${route.destination} over ${route.transport} ${tag}`, async () => {
    const r = await src.read(ec, engineIface, engine, 'returnRoutes', [vaultChain.chainId]);
    const transport = r.getValue('transport') as bigint;
    const want = route.transport === 'wormhole' ? 2n : TRANSPORT_LAYERZERO;
    return transport === want ? pass(`transport ${transport}`) : fail(`the engine's return route to chain id ${vaultChain.chainId} is transport ${transport}, the config says ${route.transport}: call setReturnRoute`);
  });
  await src.run(`engine quotes the messaging fee of a RELEASE/SEIZE ${tag}`, async () => {
    // Whoever asks for a message pays it (msg.value): a quote that reverts means no caller can.
    const [fee] = await src.read(ec, engineIface, engine, 'quoteSettlement', [vaultChain.chainId]);
    return pass(`${fee as bigint} wei per message, paid by its caller (the engine holds no balance)`);
  });
}
