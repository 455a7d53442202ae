// The doctor's checks of a credit route (vault → engine): over LayerZero, peers both ways, the
// vault's route and the engine's source; over Wormhole, the core, the emitter and the VAA API;
// either way, every token the vault takes is collateral on the engine.
import { toQuantity, zeroPadValue } from 'ethers';
import type { ChainClient } from '../../chains/client.js';
import type { Config } from '../../config/schema.js';
import { errorSummary } from '../../errors/base.js';
import { redactUrl } from '../../errors/redact.js';
import { VaaApi } from '../../transports/wormhole/vaaApi.js';
import { engineIface, TRANSPORT_LAYERZERO, vaultIface } from './abis.js';
import { fail, pass, samePeer, warn, type Checks } from './checks.js';

/** The Wormhole wiring of one route: the vault publishes through the core, the engine trusts it, the API answers. */
export async function checkWormholeRoute(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks, dst: Checks): Promise<void> {
  const s = config.chains[route.source];
  const d = config.chains[route.destination];
  const sc = clients.get(route.source);
  const dc = clients.get(route.destination);
  if (s?.vault === undefined || d?.engine === undefined || s.wormhole === undefined || d.wormhole === undefined || sc === undefined || dc === undefined) return;
  const { vault } = s;
  const { engine } = d;
  const whChain = s.wormhole.chainId;
  const tag = `[route ${route.name}]`;
  await src.run(`vault's route to ${route.destination} (chain id ${d.chainId}) is enabled over Wormhole ${tag}`, async () => {
    const r = await src.read(sc, vaultIface, vault, 'routes', [d.chainId]);
    if (!(r.getValue('enabled') as boolean)) return fail(`the vault's route for chain id ${d.chainId} is disabled or not set`);
    if ((r.getValue('transport') as bigint) !== 2n) return fail(`the vault's route uses transport ${r.getValue('transport')}, not Wormhole (2)`);
    return pass(`consistency level ${r.getValue('wormholeConsistency')}`);
  });
  await src.run(`vault publishes through the configured Wormhole core ${tag}`, async () => {
    const core = (await src.read(sc, vaultIface, vault, 'wormhole'))[0] as string;
    return core.toLowerCase() === s.wormhole?.core.toLowerCase() ? pass(core) : fail(`the vault uses core ${core}, the config says ${s.wormhole?.core}: call setWormhole`);
  });
  await dst.run(`engine trusts the vault as Wormhole emitter of chain ${whChain} ${tag}`, async () => {
    const emitter = (await src.read(dc, engineIface, engine, 'wormholeEmitters', [whChain]))[0] as string;
    return samePeer(emitter, vault) ? pass(vault) : fail(`the engine's emitter for Wormhole chain ${whChain} is ${emitter}, not the vault: call registerWormholeSource`);
  });
  await dst.run(`engine verifies VAAs with the configured Wormhole core ${tag}`, async () => {
    const core = (await src.read(dc, engineIface, engine, 'wormhole'))[0] as string;
    return core.toLowerCase() === d.wormhole?.core.toLowerCase() ? pass(core) : fail(`the engine uses core ${core}, the config says ${d.wormhole?.core}: call setWormhole`);
  });
  await dst.run(`signed-VAA API answers ${tag}`, async () => {
    const api = new VaaApi({ urls: config.wormhole?.apiUrls ?? [], timeoutMs: config.wormhole?.timeoutMs ?? 5_000 });
    try {
      // A sequence nobody published: "not found" is the healthy answer.
      await api.signedVaa(whChain, zeroPadValue(vault, 32).slice(2), 2n ** 63n);
      return pass((config.wormhole?.apiUrls ?? []).map(redactUrl).join(', '));
    } catch (e) {
      return fail(errorSummary(e));
    }
  });
}

/** The LayerZero wiring of one route: peers both ways, the vault's route, the engine's source. */
export async function checkRoute(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks, dst: Checks): Promise<void> {
  const s = config.chains[route.source];
  const d = config.chains[route.destination];
  const sc = clients.get(route.source);
  const dc = clients.get(route.destination);
  if (s?.vault === undefined || d?.engine === undefined || s.layerzero === undefined || d.layerzero === undefined || sc === undefined || dc === undefined) return;
  const vault = s.vault;
  const engine = d.engine;
  const dstEid = d.layerzero.eid;
  const srcEid = s.layerzero.eid;
  const tag = `[route ${route.name}]`;
  await src.run(`vault's peer for ${route.destination} (eid ${dstEid}) is the engine ${tag}`, async () => {
    const peer = (await src.read(sc, vaultIface, vault, 'peers', [dstEid]))[0] as string;
    return samePeer(peer, engine) ? pass(engine) : fail(`the vault's peer for eid ${dstEid} is ${peer}, not the engine ${engine}: call setPeer on the vault`);
  });
  await src.run(`vault's route to ${route.destination} (chain id ${d.chainId}) is enabled ${tag}`, async () => {
    const r = await src.read(sc, vaultIface, vault, 'routes', [d.chainId]);
    const [transport, eid, gas, enabled] = [r.getValue('transport') as bigint, r.getValue('lzEid') as bigint, r.getValue('lzReceiveGas') as bigint, r.getValue('enabled') as boolean];
    if (!enabled) return fail(`the vault's route for chain id ${d.chainId} is disabled or not set: locks to ${route.destination} revert`);
    if (transport !== TRANSPORT_LAYERZERO) return fail(`the vault's route uses transport ${transport}, not LayerZero (1)`);
    if (eid !== BigInt(dstEid)) return fail(`the vault's route sends to eid ${eid}, the config says ${route.destination} is eid ${dstEid}`);
    return pass(`LayerZero eid ${eid}, lzReceive gas ${gas}`);
  });
  await dst.run(`engine's peer for ${route.source} (eid ${srcEid}) is the vault ${tag}`, async () => {
    const peer = (await src.read(dc, engineIface, engine, 'peers', [srcEid]))[0] as string;
    return samePeer(peer, vault) ? pass(vault) : fail(`the engine's peer for eid ${srcEid} is ${peer}, not the vault ${vault}: call registerSource on the engine`);
  });
  await dst.run(`engine maps eid ${srcEid} to chain id ${s.chainId} ${tag}`, async () => {
    const id = (await src.read(dc, engineIface, engine, 'chainIdOfEid', [srcEid]))[0] as bigint;
    return id === BigInt(s.chainId) ? pass(`chain id ${id}`) : fail(`the engine maps eid ${srcEid} to chain id ${id}, the config says ${s.chainId}`);
  });
}

/** The tokens a vault allows, from its TokenAllowedSet events (the last word per token wins). */
async function vaultTokens(client: ChainClient, vault: string): Promise<string[]> {
  const topic = vaultIface.getEvent('TokenAllowedSet')?.topicHash as string;
  const head = await client.blockNumber();
  const step = BigInt(client.config.maxBlockRange);
  const allowed = new Map<string, boolean>();
  for (let from = BigInt(client.config.startBlock); from <= head; from += step) {
    const to = from + step - 1n < head ? from + step - 1n : head;
    const logs = await client.rpc.call<{ topics: string[]; data: string }[]>('eth_getLogs', [{ address: vault, topics: [topic], fromBlock: toQuantity(from), toBlock: toQuantity(to) }]);
    for (const l of logs) {
      const parsed = vaultIface.parseLog(l);
      if (parsed !== null) allowed.set((parsed.args[0] as string).toLowerCase(), parsed.args[1] as boolean);
    }
  }
  return [...allowed].filter(([, ok]) => ok).map(([t]) => t);
}

/** One story of which tokens are allowed where: every token the vault takes, the engine credits (else it refunds every lock of it). */
export async function checkTokens(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks): Promise<void> {
  const s = config.chains[route.source];
  const d = config.chains[route.destination];
  const sc = clients.get(route.source);
  const dc = clients.get(route.destination);
  if (s?.vault === undefined || d?.engine === undefined || sc === undefined || dc === undefined) return;
  const { vault } = s;
  const { engine } = d;
  await src.run(`tokens the vault takes are collateral on the engine [route ${route.name}]`, async () => {
    src.absent.require(sc.name, vault);
    const tokens = await vaultTokens(sc, vault);
    if (tokens.length === 0) return warn('the vault allows no token: every lock reverts');
    const refused: string[] = [];
    for (const t of tokens) {
      const cfg = await src.read(dc, engineIface, engine, 'collateralConfig', [s.chainId, t]);
      if (!(cfg.getValue('allowed') as boolean)) refused.push(t);
    }
    return refused.length === 0
      ? pass(`${tokens.length} token(s): ${tokens.join(', ')}`)
      : warn(`the engine does not accept ${refused.join(', ')} from ${route.source}: every lock of it is refunded (a RELEASE back) instead of credited; allow it on the engine (setCollateral) or stop it on the vault (setTokenAllowed false)`);
  });
}
