// `isorelay doctor` as a library: checks the config against the chains (RPCs, chain ids, code,
// peers, routes, DVN roles, gas, attesters, markets and their feeds) and returns one line per
// check, grouped per chain; a contract found missing skips the checks that read it.
import { formatEther, formatUnits, id, Interface, isAddress, keccak256, toQuantity, toUtf8Bytes, zeroPadValue, type Result, type Wallet } from 'ethers';
import { boundedText } from '../chains/boundedText.js';
import { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { isExecutionFailure, RpcClient, RpcResponseError } from '../chains/rpc.js';
import { DEFAULT_VERIFY_QUORUM, type ChainConfig, type Config, type MarketConfig, type SecretRef } from '../config/schema.js';
import { providersOf } from '../chains/providers.js';
import { VaaApi } from '../transports/wormhole/vaaApi.js';
import { assertKeysSeparated, loadWallet } from '../config/secrets.js';
import { errorSummary, IsorelayError } from '../errors/base.js';
import { redactText, redactUrl } from '../errors/redact.js';
import { layerZeroAbi } from '../transports/layerzero/artifacts.js';
import { readChainFeeds } from '../oracle/readFeeds.js';
import { chainFeedsOf, policyOf } from '../oracle/priceService.js';
import { reconcilePrices, type Exclusion, type ExclusionReason, type FeedReading } from '../oracle/reconcile.js';

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

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const timelockIface = new Interface(ourArtifact('AdminTimelock').abi);
const attestationsIface = new Interface(ourArtifact('PriceAttestations').abi);
const dvnIface = new Interface(layerZeroAbi('DVN'));
const ADMIN_ROLE = keccak256(toUtf8Bytes('ADMIN_ROLE'));
const TRANSPORT_LAYERZERO = 1n;
/** A head older than this is reported as not moving (a warning: some chains are quiet). */
const STALE_HEAD_MS = 5 * 60_000;

type Outcome = { severity: CheckSeverity; detail: string };
const pass = (detail: string): Outcome => ({ severity: 'ok', detail });
const fail = (detail: string): Outcome => ({ severity: 'fail', detail });
const warn = (detail: string): Outcome => ({ severity: 'warn', detail });

/**
 * The contracts a check found missing on a chain (no code): every later check that reads one is
 * skipped and counted, so one wrong address is one failure, not a cascade of undecodable reads.
 */
class Absent {
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

class Checks {
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

const samePeer = (peer: string, address: string) => peer.toLowerCase() === zeroPadValue(address, 32).toLowerCase();

/** The endpoint's own error under the client's "no RPC endpoint answered" wrapper, with the socket's code. */
function endpointFailure(e: unknown): string {
  const inner = e instanceof IsorelayError && e.cause instanceof IsorelayError ? e.cause : e;
  const code = inner instanceof IsorelayError && inner.cause instanceof Error ? ` (${inner.cause.message})` : '';
  return redactText(`${inner instanceof Error ? inner.message : String(inner)}${code}`);
}

/** Each URL on its own (failover would hide a dead one); true when at least one answered. */
async function checkRpcs(name: string, c: ChainConfig, out: Checks): Promise<boolean> {
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

async function checkChain(name: string, client: ChainClient, out: Checks): Promise<void> {
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

interface Keys { relayer: Wallet | null; dvnSigner: Wallet | null; dvnSigners: Record<string, Wallet | null>; attesters: (Wallet | null)[] }

async function loadKey(role: string, ref: SecretRef, env: NodeJS.ProcessEnv, out: Checks): Promise<Wallet | null> {
  const where = 'env' in ref ? `environment variable ${ref.env}` : `keystore ${ref.keystore}`;
  try {
    const w = await loadWallet(role, ref, env);
    out.add(`${role} key`, pass(`${w.address} (from ${where})`));
    return w;
  } catch (e) {
    out.add(`${role} key`, fail(errorSummary(e)));
    return null;
  }
}

/** The Wormhole wiring of one route: the vault publishes through the core, the engine trusts it, the API answers. */
async function checkWormholeRoute(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks, dst: Checks): Promise<void> {
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
async function checkRoute(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks, dst: Checks): Promise<void> {
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

/** The providers a source chain's messages are verified against: each answers for the right chain; a quorum of one is a warning. */
async function checkProviders(name: string, c: ChainConfig, out: Checks): Promise<void> {
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
async function checkTokens(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks): Promise<void> {
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

/** A settle route (engine → vault): the vault trusts the engine, the engine sends back over this transport and can pay for it. */
async function checkSettleRoute(config: Config, route: Config['routes'][number], clients: Map<string, ChainClient>, src: Checks, dst: Checks): Promise<void> {
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

/** What the relayer needs on a destination: DVN admin and signer, the DVN's quorum, gas. */
async function checkDestination(client: ChainClient, keys: Keys, out: Checks): Promise<void> {
  const lz = client.config.layerzero;
  if (lz !== undefined) {
    const dvn = lz.dvn;
    if (keys.relayer !== null) {
      const relayer = keys.relayer.address;
      await out.run('relayer key is a DVN admin', async () =>
        ((await out.read(client, dvnIface, dvn, 'hasRole', [ADMIN_ROLE, relayer]))[0] as boolean)
          ? pass(`${relayer} has ADMIN_ROLE on DVN ${dvn}`)
          : fail(`${relayer} lacks ADMIN_ROLE on DVN ${dvn}: it cannot submit verifications (grantRole(ADMIN_ROLE, ${relayer}))`),
      );
    }
    if (keys.dvnSigner !== null) {
      const signer = keys.dvnSigner.address;
      await out.run('DVN signer key is a DVN signer', async () =>
        ((await out.read(client, dvnIface, dvn, 'signers', [signer]))[0] as boolean)
          ? pass(`${signer} is a signer of DVN ${dvn}`)
          : fail(`${signer} is not a signer of DVN ${dvn}: its signatures will be refused (setSigner)`),
      );
    }
    for (const more of lz.moreDvns) {
      if (keys.relayer !== null) {
        const relayer = keys.relayer.address;
        await out.run(`relayer key is an admin of DVN ${more.address}`, async () =>
          ((await out.read(client, dvnIface, more.address, 'hasRole', [ADMIN_ROLE, relayer]))[0] as boolean)
            ? pass(`${relayer} has ADMIN_ROLE`)
            : fail(`${relayer} lacks ADMIN_ROLE on DVN ${more.address}: it cannot submit its verifications`),
        );
      }
      const signer = keys.dvnSigners[more.signer];
      if (signer !== null && signer !== undefined) {
        await out.run(`DVN signer "${more.signer}" is a signer of DVN ${more.address}`, async () =>
          ((await out.read(client, dvnIface, more.address, 'signers', [signer.address]))[0] as boolean)
            ? pass(signer.address)
            : fail(`${signer.address} is not a signer of DVN ${more.address}: its signatures will be refused`),
        );
      }
    }
    await out.run('DVN quorum', async () => {
      const quorum = (await out.read(client, dvnIface, dvn, 'quorum'))[0] as bigint;
      if (quorum === 0n) return fail('the DVN quorum is 0');
      return quorum === 1n ? pass('quorum 1: our signer alone verifies') : warn(`quorum ${quorum}: our signer alone cannot verify; ${quorum - 1n} other signer(s) must sign each verification`);
    });
  }
  const engine = client.config.engine;
  if (engine !== undefined && keys.relayer !== null) {
    const executor = client.config.batcher ?? keys.relayer.address;
    await out.run('the relayer may execute CREDITs on the engine', async () =>
      ((await out.read(client, engineIface, engine, 'executors', [executor]))[0] as boolean)
        ? pass(`${executor} is an executor`)
        : fail(`${executor} is not an executor of the engine: every CREDIT it delivers reverts (setExecutor)`),
    );
  }
  if (engine !== undefined) await checkEngineRoles(client, engine, out);
  if (keys.relayer !== null) {
    const relayer = keys.relayer.address;
    await out.run('relayer has gas', async () => {
      const balance = BigInt(await client.rpc.call<string>('eth_getBalance', [relayer, 'latest']));
      return balance > 0n ? pass(`${relayer} holds ${formatEther(balance)} native`) : fail(`${relayer} holds no native token on ${client.name}: it cannot pay for deliveries`);
    });
  }
}

/** Who holds each of the engine's roles: the owner (a timelock, and its delay), the pauser, and whether it is paused. */
async function checkEngineRoles(client: ChainClient, engine: string, out: Checks): Promise<void> {
  await out.run('engine owner is a timelock', async () => {
    const owner = (await out.read(client, engineIface, engine, 'owner'))[0] as string;
    try {
      const [delay] = await out.read(client, timelockIface, owner, 'getMinDelay');
      const seconds = delay as bigint;
      // The delay is the operator's choice (hours in production, seconds on a devnet); none is no timelock.
      return seconds > 0n ? pass(`${owner}: every admin action waits ${seconds} s`) : warn(`${owner} is a timelock with no delay: admin actions land at once`);
    } catch {
      return warn(`${owner} is not a timelock: markets, collateral and sources change at once (docs/operations.md)`);
    }
  });
  await out.run('engine pause role', async () => {
    const [pauser] = await out.read(client, engineIface, engine, 'pauser');
    const [paused] = await out.read(client, engineIface, engine, 'paused');
    if (paused === true) return warn(`paused by ${pauser as string}: credits wait and no position opens until setPaused(false)`);
    return BigInt(pauser as string) === 0n ? warn('no pauser: only the owner (through its timelock) can pause') : pass(`${pauser as string} can pause at once`);
  });
}

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
async function checkAttesters(config: Config, keys: Keys, clients: Map<string, ChainClient>, out: Checks): Promise<void> {
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
}

/** Why a feed reading is out, as the doctor grades it: a setup mistake fails; market weather warns unless the market has no price. */
const SETUP_EXCLUSIONS: ReadonlySet<ExclusionReason> = new Set<ExclusionReason>(['read-failed', 'no-policy', 'duplicate-chain', 'sequencer-unknown']);

/** One chain's feed of a market: read, with sane decimals, and used in the price or why not. */
function feedOutcome(r: FeedReading, feed: MarketConfig['feeds'][string], now: bigint, excluded: Exclusion | undefined, marketOk: boolean): Outcome {
  if (r.error !== undefined) return fail(`${feed.aggregator}: ${r.error}`);
  if (r.decimals < 1 || r.decimals > 18) return fail(`${feed.aggregator} has ${r.decimals} decimals: not a price feed's (Chainlink's use 8 or 18); wrong address?`);
  const age = (r.blockTimestamp ?? now) - r.updatedAt;
  const what = `${formatUnits(r.answer, r.decimals)} (${r.decimals} decimals), updated ${age} s ago, heartbeat ${feed.heartbeatSeconds} s`;
  if (excluded === undefined) return pass(what);
  const why = `${what}: left out of the price, ${excluded.reason}: ${excluded.detail}`;
  return SETUP_EXCLUSIONS.has(excluded.reason) || !marketOk ? fail(why) : warn(why);
}

/**
 * Every configured feed of every market answers, with sane decimals and a fresh round, and the
 * market reconciles to a price; each engine trades the market on its own feed.
 */
async function checkMarkets(config: Config, clients: Map<string, ChainClient>, group: (name: string) => Checks, markets: Checks): Promise<void> {
  for (const [name, market] of Object.entries(config.markets)) {
    const readings = await Promise.all(
      Object.entries(market.feeds).map(async ([chain, feed]): Promise<FeedReading> => {
        const client = clients.get(chain);
        if (client === undefined)
          return { chain, answer: 0n, decimals: 0, roundId: 0n, answeredInRound: 0n, startedAt: 0n, updatedAt: 0n, minAnswer: 0n, maxAnswer: 0n, error: 'no RPC URL of the chain answered' };
        return readChainFeeds(client, chainFeedsOf(feed));
      }),
    );
    const now = readings.reduce((t, r) => (r.blockTimestamp !== undefined && r.blockTimestamp > t ? r.blockTimestamp : t), 0n);
    const result = reconcilePrices(readings, policyOf(market), now);
    for (const r of readings) {
      const feed = market.feeds[r.chain];
      if (feed === undefined || !clients.has(r.chain)) continue;
      group(r.chain).add(`${name} feed`, feedOutcome(r, feed, now, result.excluded.find((e) => e.chain === r.chain), result.ok));
    }
    markets.add(
      `${name} reconciles to a price`,
      result.ok
        ? pass(`median ${formatUnits(result.median, 18)} from ${result.sources.length} of ${readings.length} chains (quorum ${market.quorum}), spread ${result.spreadBps} bps`)
        : fail(`no price (${result.reason}): ${result.detail}; the keeper cannot liquidate in ${name}`),
    );
    for (const [chain, c] of Object.entries(config.chains)) {
      const client = clients.get(chain);
      const { engine } = c;
      if (client === undefined || engine === undefined) continue;
      const out = group(chain);
      await out.run(`engine trades ${name}`, async () => {
        const m = (await out.read(client, engineIface, engine, 'marketOf', [id(name)]))[0] as Result;
        if (m.getValue('enabled') !== true) return warn(`the engine does not trade ${name}: the keeper skips it`);
        const own = m.getValue('priceFeed') as string;
        const configured = market.feeds[chain]?.aggregator;
        if (configured !== undefined && configured.toLowerCase() !== own.toLowerCase())
          return warn(`the engine checks prices against feed ${own}, the config reads ${configured} on ${chain}: the two may disagree`);
        return pass(`on its own feed ${own}`);
      });
    }
  }
}

export async function runDoctor(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const absent = new Absent();
  const keyChecks = new Checks('keys', absent);
  const keeperOn = config.keeper?.enabled === true;
  const keys: Keys = {
    relayer: await loadKey('relayer', config.keys.relayer, env, keyChecks),
    dvnSigner: config.keys.dvnSigner === undefined ? null : await loadKey('DVN signer', config.keys.dvnSigner, env, keyChecks),
    dvnSigners: {},
    attesters: [],
  };
  for (const [name, ref] of Object.entries(config.keys.dvnSigners)) keys.dvnSigners[name] = await loadKey(`DVN signer "${name}"`, ref, env, keyChecks);
  // The daemon loads attester keys only for the keeper; without it they need not be set.
  if (keeperOn) for (const [i, ref] of (config.keys.attesters ?? []).entries()) keys.attesters.push(await loadKey(`attester ${i + 1}`, ref, env, keyChecks));
  const loaded = [
    ...(keys.relayer === null ? [] : [{ role: 'relayer (gas)', address: keys.relayer.address }]),
    ...(keys.dvnSigner === null ? [] : [{ role: 'DVN signer', address: keys.dvnSigner.address }]),
    ...Object.entries(keys.dvnSigners).flatMap(([name, w]) => (w === null ? [] : [{ role: `DVN signer "${name}"`, address: w.address }])),
    ...keys.attesters.flatMap((w, i) => (w === null ? [] : [{ role: `attester ${i + 1}`, address: w.address }])),
  ];
  try {
    assertKeysSeparated(loaded);
    keyChecks.add('every role has its own key', pass(`${loaded.length} keys`));
  } catch (e) {
    keyChecks.add('every role has its own key', fail(errorSummary(e)));
  }

  const groups = new Map(Object.keys(config.chains).map((name) => [name, new Checks(name, absent)]));
  const group = (name: string) => groups.get(name) as Checks; // every chain has a group, made just above
  const clients = new Map<string, ChainClient>();
  await Promise.all(
    Object.entries(config.chains).map(async ([name, c]) => {
      if (!(await checkRpcs(name, c, group(name)))) {
        group(name).add('other checks', fail('skipped: no RPC URL of this chain answered'));
        return;
      }
      const client = new ChainClient(name, c);
      clients.set(name, client);
      await checkChain(name, client, group(name));
    }),
  );
  for (const name of new Set(config.routes.map((r) => r.source))) {
    const c = config.chains[name];
    if (c !== undefined && clients.has(name)) await checkProviders(name, c, group(name));
  }
  // Route checks read two chains; run them after the chains' own checks so each group reads in order.
  for (const route of config.routes) {
    const check = route.direction === 'settle' ? checkSettleRoute : route.transport === 'wormhole' ? checkWormholeRoute : checkRoute;
    await check(config, route, clients, group(route.source), group(route.destination));
    if (route.direction === 'credit') await checkTokens(config, route, clients, group(route.source));
  }
  for (const dst of new Set(config.routes.map((r) => r.destination))) {
    const client = clients.get(dst);
    if (client !== undefined) await checkDestination(client, keys, group(dst));
  }
  if (config.keeper !== undefined && groups.has(config.keeper.chain)) await checkAttesters(config, keys, clients, group(config.keeper.chain));
  const markets = new Checks('markets', absent);
  await checkMarkets(config, clients, group, markets);
  for (const s of absent.summaries()) (s.group === 'markets' ? markets : group(s.group)).add(s.name, fail(s.detail));

  const checks = [...keyChecks.list, ...[...groups.values()].flatMap((g) => g.list), ...markets.list];
  return { ok: checks.every((c) => c.ok), checks };
}
