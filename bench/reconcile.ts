// Reconciliation benchmark (DESIGN.md target: a reconciliation across three chains ≤ 1.5× a single
// RPC round trip — one read per chain, chains in parallel).
//
//   npx tsx bench/reconcile.ts          # env: BENCH_RECONCILE_ITERS (200)
//
// On a fresh devnet, times N full PriceService.reconcile('ETH-USD') calls (three chains: feed,
// bounds, sequencer feed and block time in one FeedSnapshot eth_call each, then reconcilePrices) against N
// single round trips (one eth_call of latestRoundData to one chain through the same ChainClient
// and RpcClient), interleaved so that both see the same machine, after a warm-up of both.
import { Interface } from 'ethers';
import { ChainClient } from '../relayer/chains/client.js';
import { parseConfig } from '../relayer/config/load.js';
import { startDevnet } from '../relayer/devnet/network.js';
import { devnetRelayerConfig } from '../relayer/devnet/relayerConfig.js';
import { PriceService } from '../relayer/oracle/priceService.js';

const N = Number(process.env.BENCH_RECONCILE_ITERS ?? 200);
const WARMUP = 20;
const MARKET = 'ETH-USD';
const TARGET = 1.5;
const LATEST_ROUND_DATA = new Interface(['function latestRoundData() view returns (uint80, int256, uint256, uint256, uint80)']).encodeFunctionData('latestRoundData');

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const ms = (x: number): string => x.toFixed(2);

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const devnet = await startDevnet();
  try {
    const config = parseConfig(devnetRelayerConfig(devnet.manifest, { sqlite: ':memory:', logLevel: 'silent' }));
    const market = config.markets[MARKET];
    if (market === undefined) throw new Error(`the devnet config has no ${MARKET} market`);
    const clients = new Map(Object.entries(config.chains).map(([name, c]) => [name, new ChainClient(name, c)]));
    const clientOf = (chain: string): ChainClient => clients.get(chain) ?? (() => { throw new Error(`no chain ${chain}`); })();
    const chains = Object.keys(market.feeds);

    const service = new PriceService(config, clientOf);
    const single = chains[0] ?? 'arbitrum';
    const singleClient = clientOf(single);
    const singleFeed = market.feeds[single]?.aggregator ?? '';
    const reconcile = async () => {
      const p = await service.reconcile(MARKET);
      if (!p.result.ok) throw new Error(`reconciliation failed: ${p.result.reason} (${p.result.detail}); excluded ${JSON.stringify(p.result.excluded)}`);
    };
    const roundTrip = () => singleClient.call(singleFeed, LATEST_ROUND_DATA);
    // Context, not the target: the same single call to every chain at once, i.e. the floor that
    // parallel requests to three nodes sharing this machine's cores put under any reconciliation.
    const fanOut = () => Promise.all(chains.map((c) => clientOf(c).call(market.feeds[c]?.aggregator ?? '', LATEST_ROUND_DATA)));

    console.log(
      `reconcile benchmark: ${MARKET} across ${chains.length} chains (${chains.join(', ')}), ${N} iterations (+${WARMUP} warm-up), interleaved with ` +
        `single round trips (eth_call latestRoundData on ${single}), node ${process.version}`,
    );
    for (let i = 0; i < WARMUP; i++) {
      await reconcile();
      await roundTrip();
      await fanOut();
    }
    const rec: number[] = [];
    const one: number[] = [];
    const fan: number[] = [];
    for (let i = 0; i < N; i++) {
      // Alternate which goes first, so that neither always follows the other's I/O.
      if (i % 2 === 0) {
        rec.push(await timed(reconcile));
        one.push(await timed(roundTrip));
      } else {
        one.push(await timed(roundTrip));
        rec.push(await timed(reconcile));
      }
      fan.push(await timed(fanOut));
    }
    const [r50, r99, o50, o99] = [pct(rec, 0.5), pct(rec, 0.99), pct(one, 0.5), pct(one, 0.99)];
    console.log(`reconcile:  p50 ${ms(r50)} ms, p99 ${ms(r99)} ms, max ${ms(Math.max(...rec))} ms (${chains.length} FeedSnapshot eth_calls in parallel + reconcilePrices, every one ok)`);
    console.log(`single RPC: p50 ${ms(o50)} ms, p99 ${ms(o99)} ms, max ${ms(Math.max(...one))} ms (one eth_call)`);
    console.log(`context:    ${chains.length} single eth_calls, one per chain in parallel: p50 ${ms(pct(fan, 0.5))} ms (${(pct(fan, 0.5) / o50).toFixed(2)}× single) — the floor for ${chains.length} chains on this machine`);
    console.log(`ratio reconcile/single: p50 ${(r50 / o50).toFixed(2)}× (target ≤ ${TARGET}×), p99 ${(r99 / o99).toFixed(2)}×`);
  } finally {
    await devnet.stop();
  }
}

await main();
