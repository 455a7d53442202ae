// `npm run bench` (part): one price move breaches N positions (default 1,000) at once. How many
// blocks and seconds until every one is liquidated: the keeper (one attestation of the market's
// range per tick, batches to liquidateMany) against the one-per-tick way it worked before (one
// fresh attestation and one `liquidate` per position, back to back: its best case; at the default
// tick of 1 s it took a tick per position on top). Both from the same chain snapshot, same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, id, Interface, NonceManager, Wallet } from 'ethers';
import { Relayer } from '../relayer/app/relayer.js';
import { lockCollateral } from '../relayer/app/trader.js';
import { ourArtifact } from '../relayer/chains/contractsAbi.js';
import { makeProvider, waitForReceipt } from '../relayer/chains/provider.js';
import { parseConfig } from '../relayer/config/load.js';
import { DEVNET_MARKET } from '../relayer/devnet/chains.js';
import { setDevnetPrice } from '../relayer/devnet/feeds.js';
import { startDevnet } from '../relayer/devnet/network.js';
import { devnetRelayerConfig } from '../relayer/devnet/relayerConfig.js';
import { attestationDomain, signAttestation, type PriceAttestation } from '../relayer/liquidation/attestation.js';
import { positionKeyOf } from '../relayer/liquidation/engineAccount.js';
import { Keeper } from '../relayer/liquidation/keeper.js';
import { PriceService } from '../relayer/oracle/priceService.js';
import { SqliteStore } from '../relayer/store/sqlite/sqliteStore.js';

const N = Number(process.env.BENCH_CASCADE_POSITIONS ?? 1_000);
const TICK_MS = 1_000; // keeper.tickMs's default
const WAD = 10n ** 18n;
const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  process.stdout.write(`isorelay bench: liquidation cascade, ${N} positions breached by one price move\n`);
  const devnet = await startDevnet({ blockTimeSeconds: 0.2 });
  const m = devnet.manifest;
  const dir = mkdtempSync(join(tmpdir(), 'isorelay-cascade-'));
  const config = parseConfig(devnetRelayerConfig(m, { sqlite: join(dir, 'x.sqlite'), pollMs: 20, confirmations: 0, logLevel: 'silent', batching: true, keeper: true }));
  const store = SqliteStore.open(join(dir, 'relayer.sqlite'));
  const relayer = Relayer.create({
    config, store, relayerKey: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
    dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
  });
  const base = makeProvider(m.chains.base?.rpcUrl ?? '', m.chains.base?.chainId ?? 0, 20);
  const engineAddress = m.chains.base?.contracts.engine as string;
  const engine = new Contract(engineAddress, engineIface, base);
  const providers = Object.values(m.chains).map((c) => makeProvider(c.rpcUrl, c.chainId, 20));
  try {
    // N positions of 100 USDC, credited through the relayer from both sources, each opened 0.3 ETH long at 3 000.
    const started = Date.now();
    await relayer.start();
    const sources = Object.values(m.chains).filter((c) => c.role === 'source');
    const t = m.accounts.traders[0] as { privateKey: string; address: string };
    await Promise.all(sources.map(async (c, si) => {
      const w = new Wallet(t.privateKey, makeProvider(c.rpcUrl, c.chainId, 5));
      for (let i = si; i < N; i += sources.length) {
        await lockCollateral({ trader: w, vault: c.contracts.vault as string, token: c.contracts.usdc as string, amount: 100_000_000n, dstChainId: 8453n, positionId: BigInt(i + 1) });
      }
    }));
    const creditedAll = async () => (await engine.queryFilter('PositionCredited', 0, 'latest')).length >= N;
    for (let i = 0; !(await creditedAll()); i++) {
      if (i > 3_000) throw new Error('the credits did not arrive');
      await sleep(100);
    }
    await relayer.stop();
    const asTrader = new Contract(engineAddress, engineIface, new NonceManager(new Wallet(t.privateKey, base)));
    for (let i = 0; i < N; i += 50) {
      const txs = [];
      for (let j = i; j < Math.min(N, i + 50); j++) txs.push(await asTrader.getFunction('increase').send(BigInt(j + 1), id(DEVNET_MARKET), 0, (3n * WAD) / 10n));
      for (const tx of txs) if ((await waitForReceipt(base, tx.hash)).status !== 1) throw new Error('increase reverted');
    }
    process.stdout.write(`  set up ${N} positions (credited through the relayer, opened at 3000) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

    const keys = Array.from({ length: N }, (_, i) => positionKeyOf(t.address, BigInt(i + 1)));
    const open = async (): Promise<number> => {
      let n = 0;
      for (let i = 0; i < keys.length; i += 200) {
        const sizes = await Promise.all(keys.slice(i, i + 200).map(async (k) => ((await engine.getFunction('positionOf')(k)) as [{ size: bigint }])[0].size));
        n += sizes.filter((s) => s > 0n).length;
      }
      return n;
    };
    const snapshot = await Promise.all(providers.map((p) => p.send('evm_snapshot', []) as Promise<string>));
    const results: { name: string; blocks: bigint; seconds: number; transactions: number }[] = [];

    // The keeper as it is: ticks until nothing is left.
    {
      await setDevnetPrice(m, Object.keys(m.chains), 2_500n, (c) => makeProvider(m.chains[c]?.rpcUrl ?? '', m.chains[c]?.chainId ?? 0, 20));
      const r2 = Relayer.create({ config, store, relayerKey: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey), dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) } });
      const keeper = new Keeper({
        config, client: (c) => r2.client(c), sender: r2.senderFor('base'),
        attesters: m.accounts.attesters.slice(0, 2).map((a) => new Wallet(a.privateKey)),
        prices: new PriceService(config, (c) => r2.client(c)), events: r2.events,
      });
      const hashes = new Set<string>();
      const off = r2.events.on((e) => {
        if ((e.type === 'keeper.liquidation' || e.type === 'keeper.settlementSent') && e.tx !== undefined) hashes.add(e.tx);
      });
      // r2 is not started: the lease on its gas key, which every send is guarded by, is taken and kept here.
      await r2.book.heartbeat();
      const beat = setInterval(() => void r2.book.heartbeat(), r2.book.heartbeatMs);
      const from = BigInt(await base.getBlockNumber());
      const t0 = performance.now();
      try {
        for (let tick = 0; (await open()) > 0; tick++) {
          if (tick > 50) throw new Error('the keeper did not clear the cascade in 50 ticks');
          await keeper.tick();
        }
      } finally {
        clearInterval(beat);
      }
      const seconds = (performance.now() - t0) / 1000;
      off();
      results.push({ name: 'keeper (batched)', blocks: BigInt(await base.getBlockNumber()) - from, seconds, transactions: hashes.size });
    }
    await Promise.all(providers.map((p, i) => p.send('evm_revert', [snapshot[i]])));

    // One fresh attestation and one liquidate per position, back to back (the former keeper's best case).
    {
      await setDevnetPrice(m, Object.keys(m.chains), 2_500n, (c) => makeProvider(m.chains[c]?.rpcUrl ?? '', m.chains[c]?.chainId ?? 0, 20));
      const keeperKey = new NonceManager(new Wallet(m.accounts.relayer.privateKey, base));
      const asKeeper = new Contract(engineAddress, engineIface, keeperKey);
      const signers = m.accounts.attesters.slice(0, 2).map((a) => new Wallet(a.privateKey));
      const domain = attestationDomain(BigInt(m.chains.base?.chainId ?? 0), m.chains.base?.contracts.attestations as string);
      const chains = Object.values(m.chains).map((c) => BigInt(c.chainId)).sort((a, b) => (a < b ? -1 : 1));
      const from = BigInt(await base.getBlockNumber());
      const t0 = performance.now();
      for (const key of keys) {
        const now = BigInt((await base.getBlock('latest'))?.timestamp ?? 0);
        const a: PriceAttestation = { market: id(DEVNET_MARKET), low: 2_500n * WAD, high: 2_500n * WAD, median: 2_500n * WAD, timestamp: now, chains, deadline: now + 60n };
        const tx = await asKeeper.getFunction('liquidate').send(key, { ...a, chains: [...a.chains] }, await signAttestation(a, signers, domain));
        if ((await waitForReceipt(base, tx.hash)).status !== 1) throw new Error('liquidate reverted');
      }
      const seconds = (performance.now() - t0) / 1000;
      if ((await open()) !== 0) throw new Error('positions left open');
      results.push({ name: 'one per tick', blocks: BigInt(await base.getBlockNumber()) - from, seconds, transactions: N });
    }

    const [batched, single] = results as [typeof results[number], typeof results[number]];
    for (const r of results) process.stdout.write(`  ${r.name.padEnd(17)} ${N} liquidated in ${r.blocks} blocks, ${r.seconds.toFixed(1)} s, ${r.transactions} transactions (the keeper's include sending the SEIZEs)\n`);
    process.stdout.write(`  one per tick at the default tick (${TICK_MS} ms): at least ${((N * TICK_MS) / 1000).toFixed(0)} s\n`);
    process.stdout.write(`  ratio: ${(single.seconds / batched.seconds).toFixed(1)}× faster (back to back), ${((N * TICK_MS) / 1000 / batched.seconds).toFixed(0)}× against one per tick; ${(Number(single.blocks) / Math.max(1, Number(batched.blocks))).toFixed(1)}× fewer blocks\n`);
  } finally {
    await store.close();
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
