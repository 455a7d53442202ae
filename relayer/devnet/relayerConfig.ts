// The relayer config for a devnet manifest: every chain, one LayerZero route per source.
import { stringify } from 'yaml';
import type { RawConfig } from '../config/schema.js';
import type { DevnetManifest } from './deploy.js';

export const RELAYER_KEY_ENV = 'ISORELAY_RELAYER_KEY';
export const DVN_SIGNER_KEY_ENV = 'ISORELAY_DVN_SIGNER_KEY';

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
}

export function devnetRelayerConfig(m: DevnetManifest, o: DevnetConfigOptions): RawConfig {
  const chains: RawConfig['chains'] = {};
  for (const c of Object.values(m.chains)) {
    chains[c.name] = {
      chainId: c.chainId,
      rpcUrls: [c.rpcUrl],
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
        confirmations: 1,
      },
      wormhole: { chainId: c.wormholeChainId, core: c.wormholeCore },
      ...(c.contracts.vault === undefined ? {} : { vault: c.contracts.vault }),
      ...(c.contracts.engine === undefined ? {} : { engine: c.contracts.engine }),
      ...(o.batching === false || c.role !== 'destination' ? {} : { batcher: c.contracts.batcher }),
    };
  }
  const dst = Object.values(m.chains).find((c) => c.role === 'destination');
  const routes = Object.values(m.chains)
    .filter((c) => c.role === 'source')
    .map((c) => ({ name: `${c.name}-${dst?.name ?? 'base'}`, source: c.name, destination: dst?.name ?? 'base', transport: c.transport ?? ('layerzero' as const) }));
  return {
    chains,
    routes,
    keys: { relayer: { env: RELAYER_KEY_ENV }, dvnSigner: { env: DVN_SIGNER_KEY_ENV } },
    store: { sqlite: o.sqlite },
    ...((o.guardianUrl ?? m.wormholeApiUrl) === undefined ? {} : { wormhole: { apiUrls: [(o.guardianUrl ?? m.wormholeApiUrl) as string], timeoutMs: 2_000 } }),
    pipeline: { tickMs: 10, batchSize: 64, retryBaseMs: 250, retryMaxMs: 10_000, maxAttempts: 8 },
    ops: { host: '127.0.0.1', port: o.opsPort ?? 9464, logLevel: o.logLevel ?? 'info' },
  };
}

export function devnetRelayerYaml(m: DevnetManifest, o: DevnetConfigOptions): string {
  return `# Written by \`isorelay devnet\` for the running devnet. Keys come from the environment:\n# ${RELAYER_KEY_ENV} (gas, DVN admin) and ${DVN_SIGNER_KEY_ENV} (DVN signer).\n${stringify(devnetRelayerConfig(m, o))}`;
}
