// `isorelay prices MARKET -c FILE [--json]`: reads the market's feed on every configured chain
// (one request per chain), reconciles them, and prints per chain what was read and whether it
// counted, then the price or "NO PRICE" (exit code 1).
import { formatTable } from '../../app/statusReport.js';
import { ChainClient } from '../../chains/client.js';
import { loadConfig } from '../../config/load.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { PriceService, type MarketPrices } from '../../oracle/priceService.js';
import { normalizeTo1e18, WAD, type ExclusionReason, type FeedReading, type ReconcilePolicy } from '../../oracle/reconcile.js';

export interface PricesOptions {
  config: string;
  json?: boolean;
}

export type SequencerState = 'up' | 'down' | 'grace' | 'none';

export interface ChainPriceRow {
  chain: string;
  /** The answer at 1e18; null when the read failed. */
  price: bigint | null;
  /** now − updatedAt (seconds); null when the read failed. */
  ageSeconds: bigint | null;
  /** null when the read failed. */
  sequencer: SequencerState | null;
  /** Seconds of the grace period still to run (sequencer 'grace' only). */
  graceLeftSeconds?: bigint;
  /** Whether reconciliation used the reading; when out, its reason and detail. */
  status: 'in' | 'out';
  reason?: ExclusionReason;
  detail?: string;
}

/** A 1e18 value as an exact decimal with at least two decimals: 3000.00, 0.000123, -1.50. */
export function formatPrice(wad: bigint): string {
  const sign = wad < 0n ? '-' : '';
  const abs = wad < 0n ? -wad : wad;
  const fraction = (abs % WAD).toString().padStart(18, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${abs / WAD}.${fraction}`;
}

function sequencerOf(r: FeedReading, policy: ReconcilePolicy, now: bigint): Pick<ChainPriceRow, 'sequencer' | 'graceLeftSeconds'> {
  if (r.error !== undefined) return { sequencer: null };
  if (r.sequencer === undefined || r.sequencer === null) return { sequencer: 'none' };
  if (r.sequencer.down) return { sequencer: 'down' };
  const grace = policy.chains[r.chain]?.sequencerGraceSeconds ?? null;
  const left = grace === null ? 0n : r.sequencer.startedAt + BigInt(grace) - now;
  return left > 0n ? { sequencer: 'grace', graceLeftSeconds: left } : { sequencer: 'up' };
}

/** One row per reading: what was read, and whether reconciliation used it (and why not). */
export function priceRows(prices: MarketPrices, policy: ReconcilePolicy): ChainPriceRow[] {
  const { readings, result, now } = prices;
  return readings.map((r) => {
    const read = r.error === undefined;
    // One reading per chain (the config's feeds are keyed by chain), each a source or excluded once.
    const excluded = result.excluded.find((e) => e.chain === r.chain);
    return {
      chain: r.chain,
      price: read ? normalizeTo1e18(r.answer, r.decimals) : null,
      ageSeconds: read ? now - r.updatedAt : null,
      ...sequencerOf(r, policy, now),
      ...(excluded === undefined ? { status: 'in' as const } : { status: 'out' as const, reason: excluded.reason, detail: excluded.detail }),
    };
  });
}

function sequencerLabel(row: ChainPriceRow): string {
  if (row.sequencer === null) return '-';
  return row.sequencer === 'grace' ? `grace ${row.graceLeftSeconds}s` : row.sequencer;
}

export function formatPrices(prices: MarketPrices, rows: readonly ChainPriceRow[]): string {
  const table = formatTable(
    ['chain', 'price', 'age', 'sequencer', 'status'],
    rows.map((r) => [
      r.chain,
      r.price === null ? '-' : formatPrice(r.price),
      r.ageSeconds === null ? '-' : `${r.ageSeconds}s`,
      sequencerLabel(r),
      r.status === 'in' ? 'in' : `out: ${r.reason} (${r.detail})`,
    ]),
  );
  const res = prices.result;
  const summary = res.ok
    ? `median ${formatPrice(res.median)}  low ${formatPrice(res.low)}  high ${formatPrice(res.high)}  spread ${res.spreadBps} bps  sources ${res.sources.map((s) => s.chain).join(', ')}`
    : `NO PRICE: ${res.reason} (${res.detail})`;
  return `${prices.market} at block time ${prices.now}\n${table}\n${summary}`;
}

export function pricesJson(prices: MarketPrices, rows: readonly ChainPriceRow[]): string {
  const out = {
    market: prices.market,
    now: prices.now,
    chains: rows.map(({ chain, price, ...rest }) => ({ chain, price, priceFormatted: price === null ? null : formatPrice(price), ...rest })),
    result: prices.result,
  };
  return JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

export async function pricesCommand(market: string, opts: PricesOptions): Promise<void> {
  const config = loadConfig(opts.config);
  if (!Object.hasOwn(config.markets, market)) {
    const names = Object.keys(config.markets);
    throw new IsorelayError(ErrorCode.USAGE, `unknown market "${market}"`, {
      guidance: [names.length === 0 ? `${opts.config} has no markets section.` : `Markets in ${opts.config}: ${names.join(', ')}.`],
    });
  }
  const service = new PriceService(config, (chain) => {
    const c = config.chains[chain];
    if (c === undefined) throw new Error(`no chain "${chain}" in the config`); // the schema checks every market chain exists
    return new ChainClient(chain, c);
  });
  const prices = await service.reconcile(market);
  const rows = priceRows(prices, service.policy(market));
  process.stdout.write(`${opts.json === true ? pricesJson(prices, rows) : formatPrices(prices, rows)}\n`);
  if (!prices.result.ok) process.exitCode = 1;
}
