// The data behind `isorelay status`: per route the message counts by status and the oldest
// pending message, per chain the head and the finalized head (or why the chain did not answer).
import { id, Interface } from 'ethers';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import type { Config } from '../config/schema.js';
import { errorSummary } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../messages/status.js';
import type { Store } from '../store/store.js';
import { findStuck, type StuckCount, type StuckMessage } from './stuck.js';

/** The reads the report makes of a chain: `ChainClient` fits, and so does a test double. */
export interface HeadReader {
  blockNumber(): Promise<bigint>;
  finalizedBlockNumber(head?: bigint): Promise<bigint>;
}

export interface RouteStatus {
  route: string;
  /** Null for a route that the store knows and the config no longer names. */
  source: string | null;
  destination: string | null;
  paused: boolean;
  counts: Record<MessageStatus, number>;
  total: number;
  oldestPendingAt: number | null;
  oldestPendingAgeMs: number | null;
}

export type ChainStatus =
  | { chain: string; chainId: number; reachable: true; head: bigint; finalized: bigint }
  | { chain: string; chainId: number; reachable: false; reason: string };

/** A destination engine's own state: paused or not, and the bad debt no insurance covered, per market (USD 1e18). */
export type EngineStatus =
  | { chain: string; reachable: true; paused: boolean; badDebt: Record<string, bigint> }
  | { chain: string; reachable: false; reason: string };

export interface StatusReport {
  generatedAt: number;
  routes: RouteStatus[];
  chains: ChainStatus[];
  engines?: EngineStatus[];
  /** Named leases (a shared PostgreSQL store): who scans each route, runs the keeper, holds each gas key. */
  leases?: LeaseStatus[];
  /** Messages older than their route's expected delivery time and not final: the oldest, and how many by route and reason. */
  stuck: { messages: StuckMessage[]; counts: StuckCount[] };
}

export interface LeaseStatus {
  name: string;
  owner: string;
  epoch: number;
  /** Milliseconds left; 0: expired (free to take). */
  ttlMs: number;
}

const statusEngineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);

/** Each destination engine's paused flag and bad debt per configured market, in one batched read each. */
export async function readEngineStatus(config: Config, clientOf: (chain: string) => ChainClient): Promise<EngineStatus[]> {
  const chains = Object.entries(config.chains).filter(([, c]) => c.engine !== undefined);
  const markets = Object.keys(config.markets);
  return Promise.all(chains.map(async ([chain, c]): Promise<EngineStatus> => {
    const engine = c.engine as string;
    try {
      const raws = await clientOf(chain).calls([
        { to: engine, data: statusEngineIface.encodeFunctionData('paused', []) },
        ...markets.map((m) => ({ to: engine, data: statusEngineIface.encodeFunctionData('badDebt', [id(m)]) })),
      ]);
      return {
        chain, reachable: true,
        paused: statusEngineIface.decodeFunctionResult('paused', raws[0] ?? '0x')[0] as boolean,
        badDebt: Object.fromEntries(markets.map((m, i) => [m, statusEngineIface.decodeFunctionResult('badDebt', raws[i + 1] ?? '0x')[0] as bigint])),
      };
    } catch (e) {
      return { chain, reachable: false, reason: redactText(errorSummary(e)) };
    }
  }));
}

const zeroCounts = (): Record<MessageStatus, number> =>
  Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<MessageStatus, number>; // every key is set just here

export async function buildStatusReport(
  config: Config,
  store: Pick<Store, 'countsByRoute' | 'leases' | 'unfinished'>,
  clients: ReadonlyMap<string, HeadReader>,
  now: () => number = Date.now,
): Promise<StatusReport> {
  const stored = new Map((await store.countsByRoute()).map((r) => [r.route, r]));
  const names = [...config.routes.map((r) => r.name), ...[...stored.keys()].filter((n) => !config.routes.some((r) => r.name === n))];
  const at = now();
  const routes = names.map((name): RouteStatus => {
    const cfg = config.routes.find((r) => r.name === name);
    const row = stored.get(name);
    const counts = zeroCounts();
    for (const s of MESSAGE_STATUSES) counts[s] = row?.counts[s] ?? 0;
    const oldest = row?.oldestPendingAt ?? null;
    return {
      route: name,
      source: cfg?.source ?? null,
      destination: cfg?.destination ?? null,
      paused: cfg?.paused ?? false,
      counts,
      total: MESSAGE_STATUSES.reduce((sum, s) => sum + counts[s], 0),
      oldestPendingAt: oldest,
      oldestPendingAgeMs: oldest === null ? null : Math.max(0, at - oldest),
    };
  });
  const chains = await Promise.all(
    Object.entries(config.chains).map(async ([chain, c]): Promise<ChainStatus> => {
      const client = clients.get(chain);
      if (client === undefined) return { chain, chainId: c.chainId, reachable: false, reason: 'no client for this chain' };
      try {
        const head = await client.blockNumber();
        const finalized = await client.finalizedBlockNumber(head);
        return { chain, chainId: c.chainId, reachable: true, head, finalized };
      } catch (e) {
        return { chain, chainId: c.chainId, reachable: false, reason: redactText(errorSummary(e)) };
      }
    }),
  );
  const leases = (await store.leases()).map(({ name, owner, epoch, ttlMs }) => ({ name, owner, epoch, ttlMs }));
  const stuck = await findStuck(store, config, at, 10);
  return { generatedAt: at, routes, chains, ...(leases.length === 0 ? {} : { leases }), stuck };
}

/** `1h 02m`, `3m 05s`, `12s`: the age of the oldest pending message. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** Left-aligned columns separated by two spaces: the layout of the CLI's tables. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatStatusReport(r: StatusReport): string {
  const routeRows = r.routes.map((x) => [
    x.route + (x.paused ? ' (paused)' : '') + (x.source === null ? ' (not in config)' : ''),
    ...MESSAGE_STATUSES.map((s) => String(x.counts[s])),
    String(x.total),
    x.oldestPendingAgeMs === null ? '-' : formatAge(x.oldestPendingAgeMs),
  ]);
  const chainRows = r.chains.map((c) =>
    c.reachable
      ? [c.chain, String(c.chainId), c.head.toString(), c.finalized < 0n ? 'none yet' : c.finalized.toString(), 'ok']
      : [c.chain, String(c.chainId), '-', '-', `unreachable: ${c.reason}`],
  );
  const usd = (x: bigint) => (Number(x / 10n ** 12n) / 1e6).toFixed(2);
  const engineRows = (r.engines ?? []).map((e) =>
    e.reachable
      ? [e.chain, e.paused ? 'PAUSED' : 'no', Object.entries(e.badDebt).map(([m, v]) => `${m} ${usd(v)} USD`).join(', ') || 'none']
      : [e.chain, '-', `unreachable: ${e.reason}`],
  );
  return [
    'routes',
    formatTable(['route', ...MESSAGE_STATUSES, 'total', 'oldest pending'], routeRows),
    '',
    'chains',
    formatTable(['chain', 'chain id', 'head', 'finalized', 'rpc'], chainRows),
    ...(engineRows.length === 0 ? [] : ['', 'engines', formatTable(['engine on', 'paused', 'bad debt (uncovered)'], engineRows)]),
    ...(r.stuck.messages.length === 0 ? [] : [
      '', `stuck (older than their route's expected delivery time): ${r.stuck.counts.map((c) => `${c.route} ${c.reason} ${c.n}`).join(', ')}`,
      formatTable(['message', 'route', 'status', 'reason', 'age', 'detail'], r.stuck.messages.map((m) => [m.id, m.route, m.status, m.reason, formatAge(m.ageMs), (m.detail ?? '').slice(0, 100)])),
      'see `isorelay message ID` for one message\'s whole story',
    ]),
    ...(r.leases === undefined ? [] : ['', 'leases', formatTable(['lease', 'held by', 'epoch', 'expires in'], r.leases.map((l) => [l.name, l.owner, String(l.epoch), l.ttlMs > 0 ? formatAge(l.ttlMs) : 'expired']))]),
  ].join('\n');
}

/** JSON with bigints as decimal strings. */
export function statusReportJson(r: StatusReport): string {
  return JSON.stringify(r, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
