// Starts the devnet's three anvil chains, deploys onto them and starts the devnet guardian; stops them again.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAnvil, type AnvilNode } from './anvil.js';
import { DEVNET_CHAINS } from './chains.js';
import { deployDevnet, type DevnetManifest } from './deploy.js';
import { startGuardian, type GuardianService } from './guardian.js';
import { assertPortsFree, type DevnetPort } from './ports.js';
import { devnetInstanceYaml, devnetRelayerYaml, type DevnetConfigOptions } from './relayerConfig.js';
import { startRpcForwarder, type RpcForwarder } from './rpcForwarder.js';

export interface Devnet {
  manifest: DevnetManifest;
  nodes: Record<string, AnvilNode>;
  /** The devnet guardian (signs and serves VAAs); part of the devnet, not of the relayer. */
  guardian: GuardianService;
  stop(): Promise<void>;
}

export interface StartDevnetOptions {
  /** Interval mining on top of automine, so that confirmations advance. */
  blockTimeSeconds?: number;
  /** Fixed ports (8545, 8546, 8547 …) or free ones. */
  basePort?: number;
  /** Where to write manifest.json and relayer.yaml; nothing is written without it. */
  dir?: string;
  config?: Omit<DevnetConfigOptions, 'sqlite'>;
  onProgress?: (line: string) => void;
  /** The guardian API's port; free by default. */
  guardianPort?: number;
  /** Where the chains, their second providers and the guardian listen: 127.0.0.1 by default, 0.0.0.0 in a container. */
  host?: string;
  /**
   * The host name others reach the devnet by (e.g. its service name in a compose file): the URLs
   * in the files written to `dir` name it. The returned manifest keeps this process's own URLs.
   */
  advertiseHost?: string;
  /**
   * Also write relayer-1.yaml … relayer-N.yaml to `dir` for N relayer instances sharing the devnet,
   * each with a gas key of its own (set up by the deployment), the store's URL from `storeUrlEnv`.
   */
  instances?: { count: number; storeUrlEnv?: string; opsHost?: string };
  /**
   * A devnet that runs for a day or more: its nodes keep the states of the last
   * LONG_RUNNING_HISTORY.keepStates blocks, so that a read at `latest` a new block overtakes still
   * answers, and the transactions (receipts, logs, traces) of the last keepTransactionBlocks blocks,
   * four hours of idle blocks, for `isorelay positions`, `message` and `doctor`; they mine idle blocks
   * every LONG_RUNNING_BLOCK_SECONDS (transactions are still mined at once; see startAnvil's
   * idleBlocksFromHere). `anvil_reorg` and reads further back than keepStates blocks are unavailable.
   * Measured on anvil 1.7.1, three nodes (bench/soak.ts --keep-states --keep-tx-blocks, one session):
   * idle, flat (+3 MB / 10 min; 0 states and 64 blocks of transactions: −2); under the soak's traffic,
   * a lock every 0.25 s, 223 MB / 10 min against 69 with 0 states and 64 blocks (where 9 of 2,422
   * locks hit BlockOutOfRangeError and were tried again): ~64 KB more a lock, kept until its blocks
   * age out, so this levels off after keepTransactionBlocks blocks (about 2 hours at that traffic,
   * whose transactions add blocks). Transaction history costs per transaction, nothing per idle block.
   */
  longRunning?: boolean;
  /** With longRunning: what the nodes keep instead of LONG_RUNNING_HISTORY (the soak compares settings). */
  history?: NodeHistory;
  /**
   * Fixed ports the caller will listen on besides the devnet's own (the relayer's ops server, the
   * market maker): checked free with the devnet's before anything is started or `dir` touched.
   */
  alsoListens?: DevnetPort[];
}

/** What a node keeps in memory (StartAnvilOptions.keepStates and keepTransactionBlocks). */
export interface NodeHistory {
  keepStates: number;
  keepTransactionBlocks: number;
}

export const LONG_RUNNING_BLOCK_SECONDS = 0.5;
export const LONG_RUNNING_HISTORY: NodeHistory = Object.freeze({ keepStates: 8, keepTransactionBlocks: 28_800 });

export async function startDevnet(o: StartDevnetOptions = {}): Promise<Devnet> {
  const say = o.onProgress ?? (() => undefined);
  // Another devnet on these ports must not lose its manifest, nor get a second copy of every contract.
  await assertPortsFree([...devnetPorts(o), ...(o.alsoListens ?? [])], o.dir === undefined ? undefined : `${o.dir} is as it was`);
  // manifest.json is written last, once the devnet runs: one left from an earlier run must not say it does.
  if (o.dir !== undefined) rmSync(join(o.dir, 'manifest.json'), { force: true });
  say(`starting ${DEVNET_CHAINS.length} anvil chains`);
  const nodes: Record<string, AnvilNode> = {};
  let guardian: GuardianService | undefined;
  const forwarders: RpcForwarder[] = [];
  const closeForwarders = async () => {
    await Promise.allSettled(forwarders.map((f) => f.close()));
  };
  try {
    await Promise.all(
      DEVNET_CHAINS.map(async (c, i) => {
        nodes[c.name] = await startAnvil({
          chainId: c.chainId,
          ...(o.basePort === undefined ? {} : { port: o.basePort + i }),
          ...(o.host === undefined ? {} : { host: o.host }),
          blockTimeSeconds: o.blockTimeSeconds ?? (o.longRunning === true ? LONG_RUNNING_BLOCK_SECONDS : 0.2),
          mixedMining: true,
          ...(o.longRunning === true ? { ...(o.history ?? LONG_RUNNING_HISTORY) } : {}),
        });
      }),
    );
    say('deploying LayerZero v2, tokens, feeds, vaults and the engine');
    const manifest = await deployDevnet(
      Object.fromEntries(Object.entries(nodes).map(([k, n]) => [k, n.url])),
      o.instances === undefined ? {} : { relayerInstances: Math.max(1, o.instances.count) },
    );
    // Each chain's second provider: the relayer verifies every message on both (verifyQuorum 2).
    for (const c of Object.values(manifest.chains)) {
      const f = await startRpcForwarder(c.rpcUrl, o.basePort === undefined ? 0 : o.basePort + 10 + DEVNET_CHAINS.findIndex((d) => d.name === c.name), o.host);
      forwarders.push(f);
      c.secondRpcUrl = f.url;
    }
    say('starting the devnet guardian');
    guardian = await startGuardian({
      chains: Object.values(manifest.chains).map((c) => ({ name: c.name, wormholeChainId: c.wormholeChainId, rpcUrl: c.rpcUrl, evmChainId: c.chainId, core: c.wormholeCore, pollMs: 50 })),
      guardianKeys: manifest.accounts.guardians.map((g) => g.privateKey),
      ...(o.guardianPort === undefined ? {} : { port: o.guardianPort }),
      ...(o.host === undefined ? {} : { host: o.host }),
    });
    manifest.wormholeApiUrl = guardian.url;
    if (o.dir !== undefined) writeDevnetFiles(o.dir, o.advertiseHost === undefined ? manifest : advertisedManifest(manifest, o.advertiseHost), o);
    const g = guardian;
    return { manifest, nodes, guardian: g, stop: async () => { await g.stop(); await closeForwarders(); await stopAll(nodes); } };
  } catch (e) {
    await guardian?.stop();
    await closeForwarders();
    await stopAll(nodes);
    throw e;
  }
}

/** The fixed ports the devnet listens on: each chain's node and second RPC endpoint, the guardian. */
function devnetPorts(o: StartDevnetOptions): DevnetPort[] {
  const host = o.host ?? '127.0.0.1';
  const base = o.basePort;
  return [
    ...(base === undefined ? [] : DEVNET_CHAINS.map((c, i) => ({ port: base + i, what: `${c.name}'s RPC`, flag: '--port', host }))),
    ...(base === undefined ? [] : DEVNET_CHAINS.map((c, i) => ({ port: base + 10 + i, what: `${c.name}'s second RPC endpoint`, flag: '--port', host }))),
    ...(o.guardianPort === undefined ? [] : [{ port: o.guardianPort, what: 'the devnet guardian', flag: '--guardian-port', host }]),
  ];
}

/** manifest.json, relayer.yaml and each instance's relayer-N.yaml; the manifest last (its presence says the devnet is up). */
function writeDevnetFiles(dir: string, manifest: DevnetManifest, o: StartDevnetOptions): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'relayer.yaml'), devnetRelayerYaml(manifest, { ...o.config, sqlite: join(dir, 'relayer.sqlite') }));
  for (let i = 1; i <= (o.instances?.count ?? 0); i++) {
    const { storeUrlEnv, opsHost } = o.instances ?? {};
    writeFileSync(
      join(dir, `relayer-${i}.yaml`),
      devnetInstanceYaml(manifest, {
        instance: i,
        sqlite: join(dir, `relayer-${i}.sqlite`),
        ...(storeUrlEnv === undefined ? {} : { storeUrlEnv }),
        ...(opsHost === undefined ? {} : { opsHost }),
        ...(o.config?.logLevel === undefined ? {} : { logLevel: o.config.logLevel }),
      }),
    );
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

/** The manifest as others reach the devnet: every URL names `host` instead of this machine. */
function advertisedManifest(m: DevnetManifest, host: string): DevnetManifest {
  const at = (url: string): string => {
    const u = new URL(url);
    u.hostname = host;
    return u.origin + (u.pathname === '/' ? '' : u.pathname);
  };
  const chains = Object.fromEntries(
    Object.entries(m.chains).map(([name, c]) => [name, { ...c, rpcUrl: at(c.rpcUrl), ...(c.secondRpcUrl === undefined ? {} : { secondRpcUrl: at(c.secondRpcUrl) }) }]),
  );
  return { ...m, chains, ...(m.wormholeApiUrl === undefined ? {} : { wormholeApiUrl: at(m.wormholeApiUrl) }) };
}

async function stopAll(nodes: Record<string, AnvilNode>): Promise<void> {
  await Promise.allSettled(Object.values(nodes).map((n) => n.stop()));
}
