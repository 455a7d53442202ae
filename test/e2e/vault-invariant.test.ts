// The vault's invariant under random sequences of locks, withdrawals, closes and liquidations (whole
// and partial, the keeper claiming its rewards), and defined-risk options strategies opened on signed
// quotes that expire and are settled by the keeper, end to end through the relayer: its balance of a
// token never falls below what is still locked (outstanding), every RELEASE/SEIZE executes once,
// at the end locked = released + seized + outstanding, to the unit; and no close ever pays a trader
// more than its settlement (collateral + realized PnL − fees), in collateral and pool profit together.
import assert from 'node:assert/strict';
import { Contract, Wallet } from 'ethers';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import type { OptionLeg } from '../../relayer/margin/options.js';
import { engine, lock, makeRelayer, minedOn, provider, setEthUsd, testConfig, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';
import { prng } from '../setup/prng.js';
import { FEES } from '../setup/engineCalls.js';
import { call, put } from '../setup/optionQuotes.js';
import { baseNow, openStrategy, strategyExpiry, testKeeper, warpAll } from '../setup/strategies.js';

const SOURCES = ['arbitrum', 'optimism'] as const;
const ETH = 10n ** 18n;
const USDC_SCALE = 10n ** 12n;

/**
 * A defined-risk strategy around `price` (whole dollars) and its premium (USD 1e18), drawn from
 * `rand`: an iron condor (wings 200 wide, 1 ETH, for a credit of 20–150) or a call spread 200 wide
 * bought for 20–150. Its maximum loss is at most 180 USD.
 */
function randomStrategy(rand: () => number, price: bigint): { legs: OptionLeg[]; premium: bigint } {
  const at = (price / 10n) * 10n;
  const amount = BigInt(20 + Math.floor(rand() * 131)) * ETH;
  if (rand() < 0.6) return { legs: [put('long', at - 400n), put('short', at - 200n), call('short', at + 200n), call('long', at + 400n)], premium: -amount };
  return { legs: [call('long', at), call('short', at + 200n)], premium: amount };
}


describe('vault invariant: balance ≥ outstanding under random locks, closes, liquidations and options strategies settled by the keeper', function () {
  this.timeout(300_000);
  const devnet = useSharedDevnet();

  for (const seed of (process.env.VAULT_SEEDS ?? '12,28,37').split(',').map(Number)) {
    it(`holds for the random sequence of seed ${seed}`, async () => {
      const m = devnet().manifest;
      const rand = prng(seed);
      const config = testConfig(m);
      const { relayer, store } = makeRelayer(m, { config });
      const keeper = testKeeper(m, relayer, config);
      const e = engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base')));
      const usdc = (chain: string) => new Contract(m.chains[chain]?.contracts.usdc as string, ourArtifact('TestToken').abi, provider(m, chain));
      const vault = (chain: string) => new Contract(m.chains[chain]?.contracts.vault as string, ourArtifact('CollateralVault').abi, provider(m, chain));
      const locked: Record<string, bigint> = { arbitrum: 0n, optimism: 0n };
      const open: { id: bigint; chain: string }[] = [];
      /** Positions holding a strategy, until the keeper settles it. */
      let strategies: { key: string; expiry: bigint }[] = [];
      let price = 3_000n;
      let nextId = 100n;
      const done = { locks: 0, closes: 0, liquidations: 0, partial: 0, withdrawals: 0, refusedWithdrawals: 0, keeperClaims: 0, strategies: 0, settledByKeeper: 0 };
      /** A keeper tick's settlements, checked against the engine: settled strategies are gone from it. */
      const countSettled = async (settled: readonly string[]) => {
        for (const key of settled) assert.equal(await strategyExpiry(m, key), 0n, `seed ${seed}: ${key} settled`);
        strategies = strategies.filter((x) => !settled.includes(x.key));
        done.settledByKeeper += settled.length;
      };

      const setPrice = async (usd: bigint) => {
        await setEthUsd(m, Object.keys(m.chains), usd);
        price = usd;
      };
      const settleAll = () => tickUntil(relayer, async () => (await store.list({})).every((r) => r.status === 'delivered'), 60_000);
      const checkInvariant = async (when: string) => {
        for (const chain of SOURCES) {
          const token = m.chains[chain]?.contracts.usdc as string;
          const [balance, outstanding] = [(await usdc(chain).getFunction('balanceOf')(vault(chain).target)) as bigint, (await vault(chain).getFunction('outstanding')(token)) as bigint];
          assert.ok(balance >= outstanding, `${when}: ${chain} vault holds ${balance} < outstanding ${outstanding}`);
        }
      };

      for (let step = 0; step < 14; step++) {
        const r = rand();
        if (r < 0.3 || open.length === 0) {
          // Lock 400–1400 USDC on a random source and open a long of 1 ETH on it.
          const chain = SOURCES[Math.floor(rand() * 2)] as string;
          const amount = BigInt(400 + Math.floor(rand() * 1000)) * 10n ** 6n;
          const id = nextId++;
          await lock(m, chain, { amount, positionId: id });
          locked[chain] = (locked[chain] ?? 0n) + amount;
          await settleAll();
          await minedOn(m, 'base', e.getFunction('increase').send(id, m.market.id, 0, ETH));
          open.push({ id, chain });
          done.locks++;
        } else if (r < 0.42) {
          // Withdraw a random part of a position's collateral; the engine refuses what is not free.
          const p = open[Math.floor(rand() * open.length)] as { id: bigint; chain: string };
          const amount = BigInt(1 + Math.floor(rand() * 600)) * 10n ** 6n;
          try {
            await e.getFunction('withdraw').staticCall(p.id, amount, FEES);
            await minedOn(m, 'base', e.getFunction('withdraw').send(p.id, amount, FEES));
            done.withdrawals++;
          } catch {
            done.refusedWithdrawals++;
          }
        } else if (r < 0.57) {
          // Close a random position at a price moved by up to ±8 %.
          const [p] = open.splice(Math.floor(rand() * open.length), 1);
          await setPrice((price * BigInt(92 + Math.floor(rand() * 17))) / 100n);
          const receipt = await (await e.getFunction('close').send((p as { id: bigint }).id, FEES)).wait();
          assert.equal(receipt?.status, 1);
          // No close pays more than the settlement: released collateral (scaled to USD) + profit ≤ max(settled, 0).
          for (const l of receipt?.logs ?? []) {
            const parsed = e.interface.parseLog(l);
            if (parsed?.name !== 'PositionClosed') continue;
            const [, settled, released, , profit] = [...parsed.args] as [string, bigint, bigint, bigint, bigint];
            const paid = released * USDC_SCALE + profit * USDC_SCALE;
            assert.ok(paid <= (settled > 0n ? settled : 0n), `seed ${seed}: close paid ${paid} for a settlement of ${settled}`);
          }
          done.closes++;
        } else if (r < 0.72) {
          // A fall of 15–35 %: the keeper liquidates whatever breaches (and settles what expired).
          await setPrice((price * BigInt(65 + Math.floor(rand() * 21))) / 100n);
          const [tick] = await keeper.tick();
          await countSettled(tick?.options?.settled ?? []);
          done.partial += tick?.reduced?.length ?? 0;
          for (const k of tick?.liquidated ?? []) {
            const idx = await Promise.all(open.map(async (o) => (await e.getFunction('positionKeyOf')(m.accounts.traders[0]?.address, o.id)) as string));
            open.splice(idx.indexOf(k), 1);
            done.liquidations++;
          }
          // The SEIZE is relayed while the sources still agree with the price; then the price comes back.
          await settleAll();
          await setPrice(3_000n);
        } else if (r < 0.86) {
          // Lock 200–700 USDC and open a defined-risk strategy on it, expiring in 30–150 s, on the market maker's quote.
          const chain = SOURCES[Math.floor(rand() * 2)] as string;
          const amount = BigInt(200 + Math.floor(rand() * 501)) * 10n ** 6n;
          const id = nextId++;
          await lock(m, chain, { amount, positionId: id });
          locked[chain] = (locked[chain] ?? 0n) + amount;
          await settleAll();
          const expiry = (await baseNow(m)) + BigInt(30 + Math.floor(rand() * 121));
          strategies.push({ key: await openStrategy(m, { positionId: id, ...randomStrategy(rand, price), expiry }), expiry });
          done.strategies++;
        } else {
          // A minute or two passes, with a move of up to ±5 %: the keeper settles what expired.
          await warpAll(m, 30 + Math.floor(rand() * 91));
          await setPrice((price * BigInt(95 + Math.floor(rand() * 11))) / 100n);
          const [tick] = await keeper.tick();
          await countSettled(tick?.options?.settled ?? []);
        }
        await settleAll();
        await checkInvariant(`seed ${seed} step ${step}`);
      }

      // Every strategy left expires and the keeper settles it (late ones too: its key is the vol updater).
      if (strategies.length > 0) {
        const last = strategies.reduce((t, x) => (x.expiry > t ? x.expiry : t), 0n);
        const now = await baseNow(m);
        if (last >= now) await warpAll(m, Number(last - now) + 2);
        await setPrice(price);
        for (let i = 0; i < 5 && strategies.length > 0; i++) await countSettled((await keeper.tick())[0]?.options?.settled ?? []);
        assert.deepEqual(strategies, [], `seed ${seed}: every expired strategy settled by the keeper`);
        await settleAll();
        await checkInvariant(`seed ${seed} after the strategies' settlements`);
      }

      // The keeper claims its penalty shares: RELEASEs to it on each source, paid by it.
      const asKeeper = engine(m, new Wallet(m.accounts.relayer.privateKey, provider(m, 'base')));
      for (const chain of SOURCES) {
        const token = m.chains[chain]?.contracts.usdc as string;
        const chainId = BigInt(m.chains[chain]?.chainId ?? 0);
        if (((await asKeeper.getFunction('keeperRewards')(m.accounts.relayer.address, chainId, token)) as bigint) === 0n) continue;
        await minedOn(m, 'base', asKeeper.getFunction('claimKeeperReward').send(chainId, token, FEES));
        done.keeperClaims++;
      }
      await settleAll();
      await checkInvariant(`seed ${seed} after the keeper's claims`);

      if (process.env.VAULT_VERBOSE !== undefined) process.stdout.write(`      seed ${seed}: ${JSON.stringify(done)}\n`);
      // The seeds are chosen so that every kind of step happens.
      assert.ok(done.locks > 0 && done.closes > 0 && done.liquidations > 0 && done.withdrawals > 0 && done.keeperClaims > 0 && done.strategies > 0, `seed ${seed} ran ${JSON.stringify(done)}`);
      assert.equal(done.settledByKeeper, done.strategies, `seed ${seed}: every strategy settled by the keeper`);
      // Conservation: every unit locked is released, seized or still outstanding; each message executed once.
      for (const chain of SOURCES) {
        const logs = await vault(chain).queryFilter('SettlementExecuted', 0, 'latest');
        const ids = logs.map((l) => vault(chain).interface.parseLog(l)?.args[0] as string);
        assert.equal(new Set(ids).size, ids.length, `${chain}: a RELEASE/SEIZE executed twice`);
        const moved = logs.reduce((s, l) => s + (vault(chain).interface.parseLog(l)?.args[5] as bigint), 0n);
        const outstanding = (await vault(chain).getFunction('outstanding')(m.chains[chain]?.contracts.usdc)) as bigint;
        assert.equal(moved + outstanding, locked[chain], `${chain}: locked = moved back + outstanding`);
      }
      await store.close();
    });
  }
});
