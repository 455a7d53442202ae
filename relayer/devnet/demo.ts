// The scripted devnet demo: a trader locks collateral on both sources, the relayer credits the
// isolated positions on base, and the demo checks from the engine's own logs that every lock was
// credited exactly once, printing one row per lock.
import { Interface, Wallet } from 'ethers';
import { lockCollateral, type LockResult } from '../app/trader.js';
import { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { makeProvider } from '../chains/provider.js';
import { parseConfig } from '../config/load.js';
import type { Store } from '../store/store.js';
import type { DevnetManifest } from './deploy.js';
import { devnetRelayerConfig } from './relayerConfig.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const CREDITED_TOPIC = engineIface.getEvent('PositionCredited')?.topicHash as string;

export interface DemoLock {
  chain: string;
  asset: 'USDC' | 'WETH';
  amount: bigint;
  positionId: bigint;
}

export interface DemoRow {
  chain: string;
  via: string;
  asset: string;
  amount: bigint;
  lockId: string;
  sourceTx: string;
  messageId: string;
  latencyMs: number | null;
  destinationTx: string | null;
  credits: number;
  status: string;
}

export const DEFAULT_DEMO_LOCKS: readonly DemoLock[] = [
  { chain: 'arbitrum', asset: 'USDC', amount: 2_500n * 10n ** 6n, positionId: 1n },
  { chain: 'arbitrum', asset: 'WETH', amount: 10n ** 18n, positionId: 2n },
  { chain: 'optimism', asset: 'USDC', amount: 1_000n * 10n ** 6n, positionId: 3n },
  { chain: 'optimism', asset: 'WETH', amount: 5n * 10n ** 17n, positionId: 4n },
];

/** Locks on the sources, waits for the credits (or the timeout) and reports each lock. */
export async function runDemo(m: DevnetManifest, store: Store, o: { timeoutMs?: number; locks?: readonly DemoLock[] } = {}): Promise<DemoRow[]> {
  const dst = Object.values(m.chains).find((c) => c.role === 'destination');
  if (dst?.contracts.engine === undefined) throw new Error('the manifest has no engine');
  const engine = dst.contracts.engine;
  const config = parseConfig(devnetRelayerConfig(m, { sqlite: ':memory:' }));
  const base = new ChainClient(dst.name, config.chains[dst.name] ?? (() => { throw new Error('no destination config'); })());
  const fromBlock = await base.blockNumber();
  const trader = m.accounts.traders[0];
  if (trader === undefined) throw new Error('the manifest has no trader');

  const locks = o.locks ?? DEFAULT_DEMO_LOCKS;
  const results: { lock: DemoLock; result: LockResult }[] = [];
  // Locks on different chains go in parallel; on one chain they share the trader's nonce.
  const byChain = new Map<string, DemoLock[]>();
  for (const l of locks) byChain.set(l.chain, [...(byChain.get(l.chain) ?? []), l]);
  await Promise.all(
    [...byChain].map(async ([chain, list]) => {
      const c = m.chains[chain];
      if (c?.contracts.vault === undefined) throw new Error(`${chain} has no vault`);
      const provider = makeProvider(c.rpcUrl, c.chainId, 25);
      const wallet = new Wallet(trader.privateKey, provider);
      for (const lock of list) {
        const token = lock.asset === 'USDC' ? c.contracts.usdc : c.contracts.weth;
        if (token === undefined) throw new Error(`${chain} has no ${lock.asset}`);
        const result = await lockCollateral({ trader: wallet, vault: c.contracts.vault, token, amount: lock.amount, dstChainId: BigInt(dst.chainId), positionId: lock.positionId });
        results.push({ lock, result });
      }
      provider.destroy();
    }),
  );

  const seen = new Map<string, { at: number; tx: string; count: number }>();
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let scanned = fromBlock;
  while (Date.now() < deadline) {
    const head = await base.blockNumber();
    if (head > scanned) {
      const { logs } = await base.logsWithBounds({ address: engine, topics: [CREDITED_TOPIC] }, scanned + 1n, head);
      const now = Date.now();
      for (const log of logs) {
        const lockId = log.topics[1] as string;
        const prev = seen.get(lockId);
        seen.set(lockId, prev === undefined ? { at: now, tx: log.transactionHash, count: 1 } : { ...prev, count: prev.count + 1 });
      }
      scanned = head;
    }
    const delivered = new Set((await store.list({ status: 'delivered', limit: 10_000 })).map((r) => r.messageId));
    if (results.every((r) => seen.has(r.result.lockId) && delivered.has(r.result.lockId))) {
      // Let a few more blocks pass: a duplicate credit would show up here.
      if (Date.now() > deadline || (await settle(base, head))) break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  results.sort((a, b) => locks.indexOf(a.lock) - locks.indexOf(b.lock));
  const rows = await store.list({ limit: 10_000 });
  return results.map(({ lock, result }) => {
    const credit = seen.get(result.lockId);
    const row = rows.find((r) => r.messageId === result.lockId);
    return {
      chain: lock.chain,
      via: m.chains[lock.chain]?.transport ?? 'layerzero',
      asset: lock.asset,
      amount: lock.amount,
      lockId: result.lockId,
      sourceTx: result.txHash,
      messageId: result.transportId,
      latencyMs: credit === undefined ? null : credit.at - result.minedAtMs,
      destinationTx: credit?.tx ?? null,
      credits: credit?.count ?? 0,
      status: row?.status ?? 'unseen',
    };
  });
}

async function settle(client: ChainClient, head: bigint): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 300));
  return (await client.blockNumber()) > head;
}

const short = (h: string) => `${h.slice(0, 10)}…${h.slice(-4)}`;

export function formatDemoTable(rows: readonly DemoRow[]): string {
  const header = ['source', 'via', 'asset', 'source tx', 'message id (guid / VAA)', 'latency', 'destination tx', 'credits', 'status'];
  const body = rows.map((r) => [
    r.chain, r.via, r.asset, short(r.sourceTx), short(r.messageId), r.latencyMs === null ? '—' : `${r.latencyMs} ms`,
    r.destinationTx === null ? '—' : short(r.destinationTx), String(r.credits), r.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Exactly once: every lock credited by one event, and its message delivered. */
export function demoPassed(rows: readonly DemoRow[]): boolean {
  return rows.every((r) => r.credits === 1 && r.status === 'delivered');
}
