// The keeper end to end: positions indexed from engine events, prices reconciled across the three
// chains, the breached position (and only it) liquidated with an attestation, its collateral seized
// on its source chain. Every reconciliation rule alone blocks the liquidation (fail closed).
import assert from 'node:assert/strict';
import { Wallet } from 'ethers';
import type { Relayer } from '../../relayer/app/relayer.js';
import type { Config, RawConfig } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { readPositions } from '../../relayer/cli/commands/positions.js';
import { ENGINE_SIDE } from '../../relayer/liquidation/engineAccount.js';
import { Keeper } from '../../relayer/liquidation/keeper.js';
import { PriceService } from '../../relayer/oracle/priceService.js';
import type { RelayerEvent } from '../../relayer/pipeline/events.js';
import type { Store } from '../../relayer/store/store.js';
import { engine, feedOf, lock, makeRelayer, minedOn, provider, setEthUsd, setFeedAnswer, setSequencerDown, testConfig, tickUntil, tokenBalance, trader, useSharedDevnet } from '../setup/devnet.js';

const LONG = ENGINE_SIDE.long;
const ETH = 10n ** 18n;

const ALL = ['arbitrum', 'optimism', 'base'] as const;

describe('keeper: guarded liquidation', function () {
  this.timeout(180_000);
  const devnet = useSharedDevnet();

  interface Setup { relayer: Relayer; store: Store; keeper: Keeper; events: RelayerEvent[]; config: Config }

  function setup(m: DevnetManifest, patch: (raw: RawConfig) => void = () => undefined): Setup {
    const config = testConfig(m, patch);
    const { relayer, store } = makeRelayer(m, { config });
    const events: RelayerEvent[] = [];
    relayer.events.on((e) => events.push(e));
    const keeper = new Keeper({
      config, client: (c) => relayer.client(c), sender: relayer.senderFor('base'),
      attesters: m.accounts.attesters.slice(0, 2).map((a) => new Wallet(a.privateKey)),
      prices: new PriceService(config, (c) => relayer.client(c)), events: relayer.events,
    });
    return { relayer, store, keeper, events, config };
  }

  /** Trader 0: position 21 (arbitrum, LayerZero) 1 ETH long on 350 USDC — liquidation price ≈ 2792.6;
   *  position 22 (optimism, Wormhole) 0.5 ETH long on 1000 USDC — ≈ 1055. */
  async function twoPositions(m: DevnetManifest, s: Setup): Promise<void> {
    await lock(m, 'arbitrum', { amount: 350_000_000n, positionId: 21n });
    await lock(m, 'optimism', { amount: 1_000_000_000n, positionId: 22n });
    await tickUntil(s.relayer, async () => (await s.store.list({ status: 'delivered' })).length === 2);
    const e = engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base')));
    await minedOn(m, 'base', e.getFunction('increase').send(21n, m.market.id, LONG, ETH));
    await minedOn(m, 'base', e.getFunction('increase').send(22n, m.market.id, LONG, ETH / 2n));
  }

  const key = (m: DevnetManifest, positionId: bigint) => engine(m).getFunction('positionKeyOf')(m.accounts.traders[0]?.address, positionId) as Promise<string>;

  const sizeOf = async (m: DevnetManifest, positionId: bigint) =>
    ((await engine(m).getFunction('positionOf')(await key(m, positionId))) as unknown as [{ size: bigint }, bigint])[0].size;

  it('liquidates exactly the breached position, seizes its collateral on its source chain, leaves the other untouched', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await twoPositions(m, s);
    let [r] = await s.keeper.tick();
    assert.equal(s.keeper.indexed, 2);
    assert.deepEqual(r?.candidates, []);
    const other = await engine(m).getFunction('positionOf')(await key(m, 22n));

    await setEthUsd(m, ALL, 2_600n);
    [r] = await s.keeper.tick();
    assert.deepEqual(r?.liquidated, [await key(m, 21n)]);
    assert.equal(s.keeper.indexed, 1);
    assert.deepEqual(await engine(m).getFunction('positionOf')(await key(m, 22n)), other, 'the other position is untouched');
    assert.equal(await sizeOf(m, 21n), 0n);

    // The SEIZE goes back to arbitrum: its oracle agrees (2600), so it is delivered, not held. Underwater at 2600 (350 − 400 − 3), the position is closed whole: no penalty is left to take, the deficit is covered on base.
    const usdc = m.chains.arbitrum?.contracts.usdc as string;
    const before = await tokenBalance(m, 'arbitrum', usdc, m.accounts.insuranceFund.address);
    await tickUntil(s.relayer, async () => (await s.store.list({})).some((x) => x.kind === 'SEIZE' && x.status === 'delivered'));
    assert.equal(await tokenBalance(m, 'arbitrum', usdc, m.accounts.insuranceFund.address), before + 350_000_000n);
    // A second tick does not try again.
    [r] = await s.keeper.tick();
    assert.deepEqual(r?.liquidated, []);
    assert.equal(s.events.filter((e) => e.type === 'keeper.liquidation').length, 1);
  });

  it('liquidates when a source chain\'s clock runs ahead of the engine\'s: the attestation is stamped in the engine\'s clock', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await twoPositions(m, s);
    // arbitrum's clock 45 s ahead of base's: the newest reading is from base's future.
    await provider(m, 'arbitrum').send('evm_increaseTime', [45]);
    await provider(m, 'arbitrum').send('evm_mine', []);
    await setEthUsd(m, ALL, 2_600n);
    const [r] = await s.keeper.tick();
    const refused = s.events.find((e) => e.type === 'keeper.liquidation' && !e.ok);
    assert.equal(refused, undefined, `the engine refused: ${JSON.stringify(refused, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    assert.deepEqual(r?.liquidated, [await key(m, 21n)]);
    assert.equal(await sizeOf(m, 21n), 0n);
  });

  it('a liquidation the engine refuses is reported and the position stays; a restarted keeper rebuilds its index', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await twoPositions(m, s);
    // One attester key only: below the engine's threshold of two.
    const short = new Keeper({
      config: s.config, client: (c) => s.relayer.client(c), sender: s.relayer.senderFor('base'),
      attesters: [new Wallet(m.accounts.attesters[0]?.privateKey as string)],
      prices: new PriceService(s.config, (c) => s.relayer.client(c)), events: s.relayer.events,
    });
    await setEthUsd(m, ALL, 2_600n);
    const [r] = await short.tick();
    assert.equal(short.indexed, 2, 'a fresh keeper indexes every open position from the engine\'s events');
    assert.deepEqual(r?.candidates, [await key(m, 21n)]);
    assert.deepEqual(r?.liquidated, []);
    const refused = s.events.find((e) => e.type === 'keeper.liquidation');
    assert.ok(refused?.type === 'keeper.liquidation' && !refused.ok);
    assert.match(refused.reason ?? '', /^TooFewSigners\(1, 2\)$/);
    assert.equal(await sizeOf(m, 21n), ETH, 'still open');
    // The keeper with enough keys liquidates it on its next tick.
    const [again] = await s.keeper.tick();
    assert.deepEqual(again?.liquidated, [await key(m, 21n)]);
  });

  it('positions shows each position\'s margin, equity, liquidation price and health', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await twoPositions(m, s);
    await setEthUsd(m, ['base'], 2_900n);
    const rows = await readPositions(s.config, m.accounts.traders[0]?.address as string);
    const p21 = rows.find((r) => r.positionId === 21n)?.exposure;
    assert.ok(p21 !== null && p21 !== undefined);
    assert.equal(p21.side, 'long');
    assert.equal(p21.size, ETH);
    assert.equal(p21.markPrice, 2_900n * ETH);
    assert.equal(p21.margin, 347n * ETH, '350 USDC less the 3 USD opening fee');
    assert.equal(p21.equity, 247n * ETH, '347 − 100 of loss');
    assert.equal(p21.maintenanceMargin, 145n * ETH, '5 % of 2900');
    // (3000 + 3 − 350) / 0.95, rounded up (against the trader)
    assert.equal(p21.liquidationPrice, (2_653n * ETH * ETH + (95n * ETH) / 100n - 1n) / ((95n * ETH) / 100n));
    assert.equal(p21.health, (247n * ETH * ETH) / (145n * ETH));
  });

  it('a manipulated destination oracle alone cannot liquidate', async () => {
    const m = devnet().manifest;
    const s = setup(m);
    await twoPositions(m, s);
    await setEthUsd(m, ['base'], 2_000n);
    const [r] = await s.keeper.tick();
    assert.ok(r?.range !== null && r?.range !== undefined);
    assert.equal(r.range.median, 3_000n * ETH, 'base is excluded as an outlier');
    assert.deepEqual(r.range.excluded.map((e) => [e.chain, e.reason]), [['base', 'deviation']]);
    assert.deepEqual(r.liquidated, []);
  });

  // quorum 3 of 3: each rule alone removes a chain and blocks a liquidation that all three would allow.
  const cases: { name: string; breakIt: (m: DevnetManifest) => Promise<void>; reason: RegExp; patch?: (raw: RawConfig) => void }[] = [
    {
      name: 'one chain stale',
      breakIt: async (m) => {
        const now = BigInt((await provider(m, 'optimism').getBlock('latest'))?.timestamp ?? 0);
        await minedOn(m, 'optimism', feedOf(m, 'optimism', 'price').getFunction('setRound').send(1000n, 2_700n * 10n ** 8n, now - 7200n, now - 7200n, 1000n));
      },
      reason: /optimism stale/,
    },
    { name: 'one chain +30 %', breakIt: (m) => setEthUsd(m, ['optimism'], 3_510n), reason: /optimism deviation/ },
    {
      name: 'a sequencer down',
      breakIt: async (m) => {
        await setSequencerDown(m, 'arbitrum', true);
      },
      reason: /arbitrum sequencer-down/,
    },
    {
      name: 'an answer at its min bound',
      breakIt: (m) => setFeedAnswer(m, ['base'], 10n ** 6n),
      reason: /base out-of-bounds/,
    },
    {
      name: 'only two chains, and they disagree',
      patch: (raw) => {
        const market = raw.markets?.['ETH-USD'];
        if (market !== undefined) {
          delete market.feeds.base;
          market.quorum = 2;
        }
      },
      breakIt: (m) => setEthUsd(m, ['optimism'], 2_850n),
      reason: /no-agreeing-quorum|no-quorum/,
    },
  ];

  for (const c of cases) {
    it(`fail closed: ${c.name} alone blocks the liquidation`, async () => {
      const m = devnet().manifest;
      const s = setup(m, (raw) => {
        const market = raw.markets?.['ETH-USD'];
        if (market !== undefined) market.quorum = 3;
        c.patch?.(raw);
      });
      await twoPositions(m, s);
      await s.keeper.tick();
      await setEthUsd(m, ALL, 2_600n);
      await c.breakIt(m);
      const [r] = await s.keeper.tick();
      assert.equal(r?.range, null, 'no reconciled price');
      assert.deepEqual(r?.liquidated, []);
      const tick = s.events.filter((e) => e.type === 'keeper.tick').at(-1);
      assert.ok(tick?.type === 'keeper.tick' && !tick.ok);
      assert.match(tick.reason ?? '', c.reason);
      assert.equal(await sizeOf(m, 21n), ETH, 'still open');
    });
  }
});
