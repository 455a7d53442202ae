// The relayer config for a devnet manifest: every chain, a credit route per source and a settle
// route back to it, the ETH-USD market's feeds on every chain, and the keeper (when asked for).
import { stringify } from 'yaml';
import type { RawConfig } from '../config/schema.js';
import { DEVNET_SEQUENCER_GRACE_SECONDS, type DevnetManifest } from './deploy.js';

export const RELAYER_KEY_ENV = 'ISORELAY_RELAYER_KEY';
export const DVN_SIGNER_KEY_ENV = 'ISORELAY_DVN_SIGNER_KEY';
/** The second DVN's signer: a key of its own, reading its own provider of each source. */
export const SECOND_DVN_SIGNER_KEY_ENV = 'ISORELAY_DVN2_SIGNER_KEY';
/** The attester keys the devnet keeper signs with (the threshold's worth): ISORELAY_ATTESTER_KEY_1, _2. */
export const attesterKeyEnv = (i: number): string => `ISORELAY_ATTESTER_KEY_${i + 1}`;

export interface DevnetConfigOptions {
  sqlite: string;
  opsPort?: number;
  /** Devnet blocks come every ~200 ms: poll at that pace, never at ethers' 4 s. */
  pollMs?: number;
  confirmations?: number;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The devnet guardian's signed-VAA API, for the Wormhole route. */
  guardianUrl?: string;
  /** Deliver through the RelayBatcher (default) or one transaction per step. */
  batching?: boolean;
  /** Run the liquidation keeper (off by default). */
  keeper?: boolean;
}

export function devnetRelayerConfig(m: DevnetManifest, o: DevnetConfigOptions): RawConfig {
  const chains: RawConfig['chains'] = {};
  for (const c of Object.values(m.chains)) {
    chains[c.name] = {
      chainId: c.chainId,
      rpcUrls: [c.rpcUrl],
      // Two independent providers (the node and the devnet's forwarder) must serve every message alike.
      ...(c.secondRpcUrl === undefined
        ? { verifyQuorum: 1 }
        : { providers: { node: [c.rpcUrl], forwarder: [c.secondRpcUrl] }, verifyQuorum: 2 }),
      finality: { confirmations: o.confirmations ?? 2 },
      pollMs: o.pollMs ?? 50,
      rpcTimeoutMs: 5000,
      maxBlockRange: 2000,
      stuckTxMs: 15_000,
      layerzero: {
        eid: c.lzEid,
        endpoint: c.layerzero.endpoint,
        receiveUln302: c.layerzero.receiveUln302,
        sendUln302: c.layerzero.sendUln302,
        dvn: c.layerzero.dvn,
        // Two DVNs, two keys, two providers of each source: neither signs from the other's RPC.
        ...(c.secondRpcUrl === undefined || c.layerzero.dvns[1] === undefined
          ? {}
          : { dvnProviders: ['node'], moreDvns: [{ address: c.layerzero.dvns[1], signer: 'second', providers: ['forwarder'] }] }),
        confirmations: 1,
      },
      wormhole: { chainId: c.wormholeChainId, core: c.wormholeCore },
      ...(c.contracts.vault === undefined ? {} : { vault: c.contracts.vault }),
      ...(c.contracts.engine === undefined ? {} : { engine: c.contracts.engine }),
      ...(c.contracts.attestations === undefined ? {} : { attestations: c.contracts.attestations }),
      ...(o.batching === false || c.role !== 'destination' ? {} : { batcher: c.contracts.batcher }),
    };
  }
  const dst = Object.values(m.chains).find((c) => c.role === 'destination');
  const routes = Object.values(m.chains)
    .filter((c) => c.role === 'source')
    .flatMap((c) => {
      const d = dst?.name ?? 'base';
      const transport = c.transport ?? ('layerzero' as const);
      return [
        { name: `${c.name}-${d}`, source: c.name, destination: d, transport, direction: 'credit' as const },
        { name: `${d}-${c.name}`, source: d, destination: c.name, transport, direction: 'settle' as const },
      ];
    });
  const feeds: NonNullable<RawConfig['markets']>[string]['feeds'] = {};
  for (const c of Object.values(m.chains)) {
    feeds[c.name] = {
      aggregator: c.contracts.ethUsdFeed,
      heartbeatSeconds: m.market.heartbeat,
      // Base plays the destination without a sequencer feed of its own in the devnet's reconciliation.
      ...(c.role === 'source' ? { sequencerFeed: c.contracts.sequencerFeed, sequencerGraceSeconds: DEVNET_SEQUENCER_GRACE_SECONDS } : {}),
    };
  }
  return {
    chains,
    routes,
    keys: {
      relayer: { env: RELAYER_KEY_ENV },
      dvnSigner: { env: DVN_SIGNER_KEY_ENV },
      dvnSigners: { second: { env: SECOND_DVN_SIGNER_KEY_ENV } },
      attesters: Array.from({ length: m.market.attesterThreshold }, (_, i) => ({ env: attesterKeyEnv(i) })),
    },
    store: { sqlite: o.sqlite },
    markets: { [m.market.name]: { quorum: 2, maxDeviationBps: m.market.maxDeviationBps, markEmaBps: 5_000, feeds } },
    ...(dst === undefined ? {} : { keeper: { enabled: o.keeper ?? false, chain: dst.name, tickMs: 250, attestationTtlSeconds: 60 } }),
    ...((o.guardianUrl ?? m.wormholeApiUrl) === undefined ? {} : { wormhole: { apiUrls: [(o.guardianUrl ?? m.wormholeApiUrl) as string], timeoutMs: 2_000 } }),
    pipeline: { tickMs: 10, batchSize: 64, retryBaseMs: 250, retryMaxMs: 10_000, maxAttempts: 8, stallAfterMs: 30_000 },
    ops: { host: '127.0.0.1', port: o.opsPort ?? 9464, logLevel: o.logLevel ?? 'info' },
  };
}

/** The gas key of relayer instance `i` (1-based) of a devnet shared by several: ISORELAY_RELAYER_KEY_1, _2 … */
export const instanceRelayerKeyEnv = (i: number): string => `${RELAYER_KEY_ENV}_${i}`;

export interface DevnetInstanceOptions {
  /** 1-based: instance 1 pays gas with the manifest's relayer key, instance i with moreRelayers[i - 2]. */
  instance: number;
  /** The store's database URL comes from this environment variable (PostgreSQL, shared by the instances); without it, each instance has its own SQLite file. */
  storeUrlEnv?: string;
  sqlite: string;
  opsHost?: string;
  opsPort?: number;
  logLevel?: DevnetConfigOptions['logLevel'];
}

/**
 * The config of one of several relayer instances on one devnet (e.g. containers sharing a
 * database): its own gas key and name, no keeper (one per devnet would need attester keys).
 */
export function devnetInstanceConfig(m: DevnetManifest, o: DevnetInstanceOptions): RawConfig {
  const base = devnetRelayerConfig(m, { sqlite: o.sqlite, keeper: false, ...(o.opsPort === undefined ? {} : { opsPort: o.opsPort }), ...(o.logLevel === undefined ? {} : { logLevel: o.logLevel }) });
  const { attesters: _attesters, ...keys } = base.keys;
  return {
    ...base,
    keys: { ...keys, relayer: { env: instanceRelayerKeyEnv(o.instance) } },
    store: o.storeUrlEnv === undefined ? { sqlite: o.sqlite } : { postgres: { urlEnv: o.storeUrlEnv } },
    instance: { name: `relayer-${o.instance}` },
    ops: { ...base.ops, host: o.opsHost ?? '127.0.0.1' },
  };
}

export function devnetInstanceYaml(m: DevnetManifest, o: DevnetInstanceOptions): string {
  const key = o.instance === 1 ? m.accounts.relayer : m.accounts.moreRelayers?.[o.instance - 2];
  if (key === undefined) throw new Error(`the devnet has no gas key for relayer instance ${o.instance}`);
  return `# Written by \`isorelay devnet\`: relayer instance ${o.instance} of the running devnet. Keys come from the environment:\n# ${instanceRelayerKeyEnv(o.instance)} (gas, DVN admin: the devnet account ${key.address}), ${DVN_SIGNER_KEY_ENV} and ${SECOND_DVN_SIGNER_KEY_ENV}${o.storeUrlEnv === undefined ? '' : `, and the store's URL ${o.storeUrlEnv}`}.\n${stringify(devnetInstanceConfig(m, o))}`;
}

export function devnetRelayerYaml(m: DevnetManifest, o: DevnetConfigOptions): string {
  return `# Written by \`isorelay devnet\` for the running devnet. Keys come from the environment:\n# ${RELAYER_KEY_ENV} (gas, DVN admin), ${DVN_SIGNER_KEY_ENV} and ${SECOND_DVN_SIGNER_KEY_ENV} (the two DVNs' signers).\n${stringify(devnetRelayerConfig(m, o))}`;
}
