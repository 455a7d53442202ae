// The devnet's market maker: the engine's ETH-USD quoter key (accounts.marketMaker) pricing with
// the devnet rule, served on loopback for `isorelay option --quote-url`, or used in-process by the
// demo and the tests.
import { Wallet } from 'ethers';
import type pino from 'pino';
import { ChainClient } from '../chains/client.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { MarketMaker } from '../options/marketMaker.js';
import { serveMarketMaker, type RunningMarketMaker } from '../options/marketMakerServer.js';
import type { DevnetManifest } from './deploy.js';
import { devnetRelayerConfig } from './relayerConfig.js';

/** The market maker of a devnet, reading its destination engine (from `config`, else the devnet's own config). */
export function devnetMarketMaker(m: DevnetManifest, config?: Config): MarketMaker {
  const dst = Object.values(m.chains).find((c) => c.role === 'destination');
  if (dst?.contracts.engine === undefined) throw new Error('the manifest has no engine');
  const chains = (config ?? parseConfig(devnetRelayerConfig(m, { sqlite: ':memory:' }))).chains;
  const chain = chains[dst.name];
  if (chain === undefined) throw new Error(`no config for ${dst.name}`);
  return new MarketMaker({ key: new Wallet(m.accounts.marketMaker.privateKey), client: new ChainClient(dst.name, chain), engine: dst.contracts.engine });
}

/** The devnet market maker over HTTP on 127.0.0.1 (`port` 0: a free one). */
export function serveDevnetMarketMaker(m: DevnetManifest, o: { port?: number; config?: Config; logger?: pino.Logger } = {}): Promise<RunningMarketMaker> {
  return serveMarketMaker(devnetMarketMaker(m, o.config), { port: o.port ?? 0, ...(o.logger === undefined ? {} : { logger: o.logger }) });
}
