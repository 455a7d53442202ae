// Runs the relayer as a daemon: config and keys loaded once, the store opened (one process per
// file), logs, metrics and the ops HTTP server started, and SIGINT/SIGTERM stopping it cleanly.
import type { Wallet } from 'ethers';
import type pino from 'pino';
import type { Config } from '../config/schema.js';
import { loadWallet } from '../config/secrets.js';
import { EventBus } from '../pipeline/events.js';
import { startOpsServer, type OpsServer } from '../ops/httpServer.js';
import { createLogger, logEvents } from '../ops/logger.js';
import { createMetrics } from '../ops/metrics.js';
import { SqliteStore } from '../store/sqlite/sqliteStore.js';
import type { Store } from '../store/store.js';
import { Relayer } from './relayer.js';

export interface RunningDaemon {
  relayer: Relayer;
  store: Store;
  ops: OpsServer;
  logger: pino.Logger;
  /** Stops the loops, the server and the store; idempotent. */
  stop(): Promise<void>;
}

export interface StartDaemonOptions {
  config: Config;
  env?: NodeJS.ProcessEnv;
  logger?: pino.Logger;
  /** Pre-loaded keys (the devnet); otherwise read from the config's secret references. */
  keys?: { relayer: Wallet; dvnSigner?: Wallet };
}

export async function startDaemon(o: StartDaemonOptions): Promise<RunningDaemon> {
  const { config } = o;
  const logger = o.logger ?? createLogger({ level: config.ops.logLevel });
  const relayerKey = o.keys?.relayer ?? (await loadWallet('relayer', config.keys.relayer, o.env));
  const dvnRef = config.keys.dvnSigner;
  const dvnSigner = o.keys?.dvnSigner ?? (dvnRef === undefined ? undefined : await loadWallet('DVN signer', dvnRef, o.env));
  const store = SqliteStore.open(config.store.sqlite);
  const events = new EventBus();
  const unlog = logEvents(events, logger);
  const metrics = createMetrics(events);
  metrics.observeStore(store);
  const relayer = Relayer.create({ config, store, relayerKey, ...(dvnSigner === undefined ? {} : { dvnSigner }), events });
  let ops: OpsServer | undefined;
  try {
    await relayer.start();
    ops = await startOpsServer({
      host: config.ops.host,
      port: config.ops.port,
      registry: metrics.registry,
      health: () => relayer.health(),
      status: () => ({ routes: store.countsByRoute(), chains: relayer.chainViews(), halted: Object.fromEntries(relayer.haltedRoutes) }),
      logger,
    });
  } catch (e) {
    await relayer.stop();
    unlog();
    metrics.dispose();
    store.close();
    throw e;
  }
  logger.info({ routes: config.routes.map((r) => r.name), ops: ops.url, relayer: relayerKey.address }, 'isorelay started');
  const server = ops;
  let stopping: Promise<void> | undefined;
  return {
    relayer,
    store,
    ops: server,
    logger,
    stop: () =>
      (stopping ??= (async () => {
        await relayer.stop();
        await server.close();
        unlog();
        metrics.dispose();
        store.close();
        logger.info('isorelay stopped');
      })()),
  };
}

/** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
