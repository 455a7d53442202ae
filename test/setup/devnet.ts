// One devnet for the whole test run (started on first use, stopped by the root hook), with
// snapshot/revert of all three chains around each test, and small fixture helpers.
import { Contract, Interface, Wallet, ZeroHash, hexlify, randomBytes, type JsonRpcProvider } from 'ethers';
import { Relayer } from '../../relayer/app/relayer.js';
import { lockCollateral, type LockResult } from '../../relayer/app/trader.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { makeProvider } from '../../relayer/chains/provider.js';
import { parseConfig } from '../../relayer/config/load.js';
import type { Config, RawConfig } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { startDevnet, type Devnet } from '../../relayer/devnet/network.js';
import { devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { Store } from '../../relayer/store/store.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { devnetFeed, setDevnetAnswer, setDevnetPrice, setDevnetSequencer } from '../../relayer/devnet/feeds.js';

let shared: Promise<Devnet> | undefined;

export function sharedDevnet(): Promise<Devnet> {
  shared ??= startDevnet();
  return shared;
}

export async function stopSharedDevnet(): Promise<void> {
  if (shared !== undefined) await (await shared).stop();
  shared = undefined;
}

const id = (ids: readonly (readonly [string, string])[], name: string) => ids.find(([n]) => n === name)?.[1] ?? '?';

const providers = new Map<string, JsonRpcProvider>();
export function provider(m: DevnetManifest, chain: string): JsonRpcProvider {
  const c = m.chains[chain];
  if (c === undefined) throw new Error(`no chain ${chain}`);
  let p = providers.get(c.rpcUrl);
  if (p === undefined) {
    p = makeProvider(c.rpcUrl, c.chainId, 20);
    providers.set(c.rpcUrl, p);
  }
  return p;
}

/**
 * Snapshots every chain; the returned function reverts them all. anvil's evm_revert also sets
 * the chain's clock back to the snapshot's block, so after a run of tests every chain would
 * lag the wall clock (and the others) by a different sum of test durations: the revert puts
 * each clock back on the wall clock, as real chains keep it.
 */
export async function snapshot(m: DevnetManifest): Promise<() => Promise<void>> {
  const ids = await Promise.all(Object.keys(m.chains).map(async (name) => [name, (await provider(m, name).send('evm_snapshot', [])) as string] as const));
  return async () => {
    const reverted = await Promise.all(ids.map(async ([name, id]) => [name, (await provider(m, name).send('evm_revert', [id])) as boolean] as const));
    for (const [name, ok] of reverted) if (!ok) throw new Error(`evm_revert of ${name} to snapshot ${id(ids, name)} failed: the next test would see this one's state`);
    await Promise.all(ids.map(([name]) => alignClock(provider(m, name))));
  };
}

/** Sets a devnet chain's clock to the wall clock (never behind its latest block). */
async function alignClock(p: JsonRpcProvider): Promise<void> {
  const head = (await p.send('eth_getBlockByNumber', ['latest', false])) as { timestamp: string };
  const wall = BigInt(Math.floor(Date.now() / 1000));
  const last = BigInt(head.timestamp);
  await p.send('evm_setTime', [Number(wall > last ? wall : last)]);
}

/**
 * Registers the hooks of a file that uses the shared devnet: started before, every chain
 * snapshotted before each test and reverted after it. Returns a getter for the devnet.
 */
export function useSharedDevnet(): () => Devnet {
  let devnet: Devnet | undefined;
  let revert: (() => Promise<void>) | undefined;
  before(async function () {
    this.timeout(120_000);
    devnet = await sharedDevnet();
  });
  beforeEach(async () => {
    revert = await snapshot((devnet as Devnet).manifest);
  });
  afterEach(async () => {
    await revert?.();
    revert = undefined;
  });
  return () => {
    if (devnet === undefined) throw new Error('the shared devnet is not started yet (use it inside a test)');
    return devnet;
  };
}

export function testConfig(m: DevnetManifest, patch: (raw: RawConfig) => void = () => undefined, o: { batching?: boolean } = {}): Config {
  const raw = devnetRelayerConfig(m, { sqlite: ':memory:', opsPort: 0, logLevel: 'silent', batching: o.batching ?? true });
  patch(raw);
  return parseConfig(raw, 'test config');
}

export function makeRelayer(m: DevnetManifest, o: { config?: Config; store?: Store } = {}): { relayer: Relayer; store: Store; config: Config } {
  const config = o.config ?? testConfig(m);
  const store = o.store ?? SqliteStore.open(':memory:');
  const relayer = Relayer.create({
    config, store, relayerKey: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
    dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
  });
  return { relayer, store, config };
}

export function trader(m: DevnetManifest, chain: string, index = 0): Wallet {
  const t = m.accounts.traders[index];
  if (t === undefined) throw new Error(`no trader ${index}`);
  return new Wallet(t.privateKey, provider(m, chain));
}

export async function lock(m: DevnetManifest, chain: string, o: { amount?: bigint; positionId?: bigint; asset?: 'usdc' | 'weth'; trader?: number } = {}): Promise<LockResult> {
  const c = m.chains[chain];
  const token = o.asset === 'weth' ? c?.contracts.weth : c?.contracts.usdc;
  if (c?.contracts.vault === undefined || token === undefined) throw new Error(`${chain} is not a source`);
  return lockCollateral({
    trader: trader(m, chain, o.trader ?? 0), vault: c.contracts.vault, token, amount: o.amount ?? 1_000_000n, dstChainId: 8453n, positionId: o.positionId ?? 1n,
  });
}

/** Lets the vault pull the trader's tokens (lock() does it too; tests that rewind chains need it apart). */
export async function approveVault(m: DevnetManifest, chain: string, index = 0): Promise<void> {
  const c = m.chains[chain];
  const t = trader(m, chain, index);
  for (const token of [c?.contracts.usdc, c?.contracts.weth]) {
    if (token === undefined || c?.contracts.vault === undefined) throw new Error(`${chain} is not a source`);
    const erc20 = new Contract(token, ourArtifact('TestToken').abi, t);
    const tx = await erc20.getFunction('approve').send(c.contracts.vault, 2n ** 255n);
    await waitForReceipt(provider(m, chain), tx.hash);
  }
}

/**
 * An owner action on the engine (or another contract the timelock owns), as operators make it:
 * scheduled on the admin timelock, the delay waited out (the chain's clock moved), then executed.
 */
export async function asAdmin(m: DevnetManifest, method: string, args: unknown[], target = m.chains.base?.contracts.engine as string, abi = ourArtifact('IsolatedMarginEngine').abi): Promise<void> {
  const base = provider(m, 'base');
  const timelock = new Contract(m.chains.base?.contracts.timelock as string, ourArtifact('AdminTimelock').abi, new Wallet(m.accounts.deployer.privateKey, base));
  const data = new Interface(abi).encodeFunctionData(method, args);
  const salt = hexlify(randomBytes(32));
  const delay = (await timelock.getFunction('getMinDelay')()) as bigint;
  await minedOn(m, 'base', timelock.getFunction('schedule').send(target, 0n, data, ZeroHash, salt, delay));
  await base.send('evm_increaseTime', [Number(delay)]);
  await base.send('evm_mine', []);
  await minedOn(m, 'base', timelock.getFunction('execute').send(target, 0n, data, ZeroHash, salt));
}

export function engine(m: DevnetManifest, signer?: Wallet): Contract {
  const address = m.chains.base?.contracts.engine;
  if (address === undefined) throw new Error('no engine');
  return new Contract(address, ourArtifact('IsolatedMarginEngine').abi, signer ?? provider(m, 'base'));
}

/** How many PositionCredited events the engine emitted for a lockId: the ground truth of "exactly once". */
export async function creditCount(m: DevnetManifest, lockId: string): Promise<number> {
  const e = engine(m);
  const logs = await e.queryFilter(e.filters.PositionCredited?.(lockId) ?? 'PositionCredited', 0, 'latest');
  return logs.length;
}

/**
 * Ticks the relayer until `done` holds or the time runs out. A timeout names what the relayer
 * last did (its events, without the per-tick head and empty-range noise), so that a failure
 * on a loaded CI machine can be read from the log alone.
 */
export async function tickUntil(relayer: Relayer, done: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const started = Date.now();
  const recent: string[] = [];
  const off = relayer.events.on((e) => {
    if (e.type === 'chain.head' || (e.type === 'scan.range' && e.logs === 0)) return;
    recent.push(`+${Date.now() - started}ms ${JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    if (recent.length > 20) recent.shift();
  });
  try {
    for (let ticks = 1; ; ticks++) {
      await relayer.tick();
      if (await done()) return;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for the relayer after ${ticks} ticks in ${Date.now() - started} ms; its last events:\n${recent.join('\n') || '(none)'}`);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  } finally {
    off();
  }
}

export async function nonceOf(m: DevnetManifest, chain: string, address: string): Promise<number> {
  return provider(m, chain).getTransactionCount(address, 'latest');
}

/** Waits for a transaction on a devnet chain and requires it to succeed. */
export async function minedOn(m: DevnetManifest, chain: string, tx: Promise<{ hash: string }>): Promise<void> {
  const r = await waitForReceipt(provider(m, chain), (await tx).hash);
  if (r.status !== 1) throw new Error(`a transaction on ${chain} reverted (${r.hash})`);
}

/** ETH-USD at `usd` whole dollars on each of `chains` (the devnet feeds, moved by their owner). */
export function setEthUsd(m: DevnetManifest, chains: readonly string[], usd: bigint): Promise<void> {
  return setDevnetPrice(m, chains, usd, (c) => provider(m, c));
}

/** The raw answer (8 decimals) of the ETH-USD feed on each of `chains`. */
export function setFeedAnswer(m: DevnetManifest, chains: readonly string[], answer8: bigint): Promise<void> {
  return setDevnetAnswer(m, chains, answer8, (c) => provider(m, c));
}

export function setSequencerDown(m: DevnetManifest, chain: string, down: boolean): Promise<void> {
  return setDevnetSequencer(m, chain, down, (c) => provider(m, c));
}

/** A chain's feed (price or sequencer), signed by its owner, for the less common moves (setRound). */
export function feedOf(m: DevnetManifest, chain: string, kind: 'price' | 'sequencer'): Contract {
  return devnetFeed(m, chain, kind, (c) => provider(m, c));
}

export async function tokenBalance(m: DevnetManifest, chain: string, token: string, who: string): Promise<bigint> {
  return (await new Contract(token, ourArtifact('TestToken').abi, provider(m, chain)).getFunction('balanceOf')(who)) as bigint;
}
