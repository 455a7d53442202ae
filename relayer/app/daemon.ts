// Runs the relayer as a daemon: config and keys loaded once, the ops HTTP server bound first (a
// port in use fails before any work), then the store opened, the relayer and the keeper (when
// enabled) started; SIGINT/SIGTERM stop it cleanly.
import type { Wallet } from 'ethers';
import type pino from 'pino';
import type { Config } from '../config/schema.js';
import { assertKeysSeparated, loadWallet } from '../config/secrets.js';
import { EventBus } from '../pipeline/events.js';
import { startOpsServer, type OpsServer, type OpsServerOptions } from '../ops/httpServer.js';
import { createLogger, logEvents } from '../ops/logger.js';
import { createMetrics } from '../ops/metrics.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { ErrorCode, errorSummary, isIsorelayError, IsorelayError } from '../errors/base.js';
import { findStuck } from './stuck.js';
import { Keeper } from '../liquidation/keeper.js';
import { PriceService } from '../oracle/priceService.js';
import { explainMessage } from './explorer.js';
import { buildOverview } from './overview.js';
import { actOn, OPERATOR_ACTIONS, type OperatorAction } from './operatorActions.js';
import { Relayer } from './relayer.js';

export interface RunningDaemon {
  relayer: Relayer;
  /** The liquidation keeper, when the config enables it. */
  keeper?: Keeper;
  store: Store;
  ops: OpsServer;
  logger: pino.Logger;
  /** Stops the loops, the server and the store; idempotent. */
  stop(): Promise<void>;
}

/** The lease by which one instance at a time runs the keeper. */
export const KEEPER_LEASE = 'keeper';

/**
 * Runs keeper ticks one after another, `tickMs` apart, while this instance holds the keeper's
 * lease (one keeper among instances); a failed tick is logged and the next one runs.
 */
class KeeperLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  constructor(readonly keeper: Keeper, private readonly tickMs: number, private readonly holds: () => boolean, private readonly onError: (e: unknown) => void) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          if (this.holds()) await this.keeper.tick();
        } catch (e) {
          this.onError(e);
        }
        await new Promise((r) => setTimeout(r, this.tickMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

export interface StartDaemonOptions {
  config: Config;
  env?: NodeJS.ProcessEnv;
  logger?: pino.Logger;
  /** Pre-loaded keys (the devnet); otherwise read from the config's secret references. */
  keys?: { relayer: Wallet; dvnSigner?: Wallet; dvnSigners?: Record<string, Wallet>; attesters?: Wallet[] };
}

export async function startDaemon(o: StartDaemonOptions): Promise<RunningDaemon> {
  const { config } = o;
  const logger = o.logger ?? createLogger({ level: config.ops.logLevel });
  const relayerKey = o.keys?.relayer ?? (await loadWallet('relayer', config.keys.relayer, o.env));
  const dvnRef = config.keys.dvnSigner;
  const dvnSigner = o.keys?.dvnSigner ?? (dvnRef === undefined ? undefined : await loadWallet('DVN signer', dvnRef, o.env));
  const dvnSigners = o.keys?.dvnSigners ?? Object.fromEntries(
    await Promise.all(Object.entries(config.keys.dvnSigners).map(async ([name, ref]) => [name, await loadWallet(`DVN signer "${name}"`, ref, o.env)] as const)),
  );
  const keeperOn = config.keeper?.enabled === true;
  const attesters = !keeperOn
    ? []
    : (o.keys?.attesters ?? (await Promise.all((config.keys.attesters ?? []).map((ref, i) => loadWallet(`attester ${i + 1}`, ref, o.env)))));
  assertKeysSeparated([
    { role: 'relayer (gas)', address: relayerKey.address },
    ...(dvnSigner === undefined ? [] : [{ role: 'DVN signer', address: dvnSigner.address }]),
    ...Object.entries(dvnSigners).map(([name, w]) => ({ role: `DVN signer "${name}"`, address: w.address })),
    ...attesters.map((a, i) => ({ role: `attester ${i + 1}`, address: a.address })),
  ]);
  const events = new EventBus();
  const unlog = logEvents(events, logger);
  const metrics = createMetrics(events);
  // The port first: one in use stops the daemon before it relays anything. Until the relayer has
  // started, /readyz says why it is not ready and /status that it is starting.
  let relayer: Relayer | undefined;
  let store: Store | undefined;
  let starting = 'opening the store';
  let keeper: KeeperLoop | undefined;
  let ops: OpsServer;
  try {
    ops = await bindOpsServer(config, {
      registry: metrics.registry,
      health: () => relayer?.health() ?? { ready: false, checks: { started: { ok: false, detail: starting } } },
      status: async () =>
        relayer === undefined || store === undefined
          ? { starting }
          : {
              routes: await store.countsByRoute(), chains: relayer.chainViews(), halted: Object.fromEntries(relayer.haltedRoutes),
              instance: relayer.book.state(), leases: await store.leases(),
            },
      ...operatorActions(config, o.env ?? process.env, () => store),
      // The status page's data (GET /overview; the page itself at GET /).
      overview: async () => {
        const [r, st] = [relayer, store];
        if (r === undefined || st === undefined) return { starting };
        const k = keeper;
        return buildOverview({
          config, store: st, relayer: r, actions: config.ops.actionTokenEnv !== undefined,
          ...(k === undefined ? {} : { keeper: { running: r.holdsKey() && r.book.held(KEEPER_LEASE) !== undefined, lastTick: () => k.keeper.lastTick() } }),
        });
      },
      // The explorer: a message by any of its ids, its history, the chains re-read.
      messages: async (key) => {
        const [r, st] = [relayer, store];
        return r === undefined || st === undefined ? [] : explainMessage(st, key, { config, client: (c) => r.client(c) });
      },
      logger,
    });
  } catch (e) {
    unlog();
    metrics.dispose();
    throw e;
  }
  try {
    store = await openWhenReachable(config, o.env ?? process.env, logger);
    metrics.observeStore(store);
    const counted = store;
    metrics.observeStuck(async () => (await findStuck(counted, config, Date.now(), 0)).counts);
    starting = 'starting the relayer: chain ids, leases, transactions in flight';
    const r = Relayer.create({ config, store, relayerKey, ...(dvnSigner === undefined ? {} : { dvnSigner }), dvnSigners, events });
    relayer = r;
    metrics.observeInstance(() => r.book.state());
    if (keeperOn) r.book.want(KEEPER_LEASE);
    keeper = keeperOn && config.keeper !== undefined
      ? new KeeperLoop(new Keeper({
          config, client: (c) => r.client(c), sender: r.senderFor(config.keeper.chain), attesters,
          remoteAttesters: config.keeper.remoteAttesters.map((ra) => ({ url: ra.url, ...(ra.tokenEnv === undefined ? {} : { token: (o.env ?? process.env)[ra.tokenEnv] ?? '' }) })),
          prices: new PriceService(config, (c) => r.client(c)), events, lease: KEEPER_LEASE,
        }), config.keeper.tickMs, () => r.holdsKey() && r.book.held(KEEPER_LEASE) !== undefined, (e) => logger.warn({ err: e }, `keeper tick failed: ${errorSummary(e)}`))
      : undefined;
    await r.start();
    keeper?.start();
  } catch (e) {
    await keeper?.stop();
    await relayer?.stop();
    await ops.close();
    unlog();
    metrics.dispose();
    await store?.close();
    throw e;
  }
  const running = relayer;
  const opened = store;
  logger.info({ routes: config.routes.map((r) => r.name), ops: ops.url, relayer: relayerKey.address }, 'isorelay started');
  const server = ops;
  const keeperLoop = keeper;
  let stopping: Promise<void> | undefined;
  return {
    relayer: running,
    ...(keeperLoop === undefined ? {} : { keeper: keeperLoop.keeper }),
    store: opened,
    ops: server,
    logger,
    stop: () =>
      (stopping ??= (async () => {
        await keeperLoop?.stop();
        await running.stop();
        await server.close();
        unlog();
        metrics.dispose();
        await opened.close();
        logger.info('isorelay stopped');
      })()),
  };
}

/**
 * Binds the ops server on the config's host and port; a port in use (or a host that cannot be
 * bound) is a start-up error that names the port and what to do, not a raw socket error.
 */
async function bindOpsServer(config: Config, o: Omit<OpsServerOptions, 'host' | 'port'>): Promise<OpsServer> {
  const { host, port } = config.ops;
  try {
    return await startOpsServer({ ...o, host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL' && code !== 'EACCES') throw e;
    const why = code === 'EADDRINUSE' ? 'is in use by another process' : code === 'EACCES' ? 'may not be bound by this user' : `is not an address of this machine`;
    throw new IsorelayError(ErrorCode.CONFIG_INVALID, `cannot bind the ops server to ${host}:${port} (${code}): the port ${port} ${why}; nothing was started`, {
      guidance: [
        code === 'EADDRINUSE'
          ? `Another isorelay (or another program) listens on port ${port}: stop it, or give this instance its own ops.port in the config (0 picks a free one).`
          : `Set ops.host and ops.port in the config to an address and port this process may bind.`,
      ],
      cause: e,
    });
  }
}

/**
 * Opens the store; a PostgreSQL database that cannot be reached yet (it starts after this
 * process, or is failing over) is waited for, with backoff up to 10 s, each failure logged.
 */
async function openWhenReachable(config: Config, env: NodeJS.ProcessEnv, logger: pino.Logger): Promise<Store> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openStore(config.store, { env });
    } catch (e) {
      if (!isIsorelayError(e, ErrorCode.STORE_UNAVAILABLE)) throw e;
      logger.warn(`${errorSummary(e)}; trying again (attempt ${attempt})`);
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt)));
    }
  }
}

/**
 * The operator's actions over HTTP, when `ops.actionTokenEnv` names a variable holding a token of
 * at least 16 characters (a shorter one is refused at start); without it the server is read-only.
 */
function operatorActions(config: Config, env: NodeJS.ProcessEnv, store: () => Store | undefined): Pick<OpsServerOptions, 'actions'> {
  const name = config.ops.actionTokenEnv;
  if (name === undefined) return {};
  const token = env[name] ?? '';
  if (token.length < 16)
    throw new IsorelayError(ErrorCode.SECRET_MISSING, `ops.actionTokenEnv names ${name}, which holds no token of at least 16 characters`, {
      guidance: [`export ${name}=$(openssl rand -hex 24)`, 'or leave ops.actionTokenEnv out: the ops server is then read-only'],
    });
  return {
    actions: {
      token,
      run: async (id, action, reason) => {
        const s = store();
        if (s === undefined) throw new IsorelayError(ErrorCode.USAGE, 'the relayer is still starting');
        if (!(OPERATOR_ACTIONS as readonly string[]).includes(action)) throw new IsorelayError(ErrorCode.USAGE, `no action ${action}`);
        return actOn(s, id, action as OperatorAction, reason);
      },
    },
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
