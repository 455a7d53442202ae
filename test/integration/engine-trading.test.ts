// Trading on the engine (base) with collateral credited from the sources: open, grow, shrink,
// withdraw and close at the engine's own oracle price, checked against relayer/margin's maths;
// RELEASE and SEIZE back to the source; collateral that cannot be traded or does not belong.
import assert from 'node:assert/strict';
import { Contract, getAddress, id, Interface, MaxUint256, Wallet, ZeroHash, type LogDescription } from 'ethers';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { DEVNET_MARKET_PARAMS, devnetMarketConfig, type DevnetManifest } from '../../relayer/devnet/deploy.js';
import {
  CollateralKind, Rounding, Side, WAD, equity, freeCollateral, initialMargin, mulDiv, pnl, type IsolatedAccount, type Position,
} from '../../relayer/margin/index.js';
import { MessageKind, messageId } from '../../relayer/messages/codec.js';
import { asAdmin, engine, lock, makeRelayer, provider, setFeedAnswer, setSequencerDown, snapshot, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';
import { CHAIN_ID, LONG, MARKET_ID, mined, outboundMessage, paying, reverted, settlementFee, SHORT, usdc } from '../setup/engineCalls.js';
import { positionKeyOf } from '../../relayer/liquidation/engineAccount.js';

const ZERO_MARKET = '0x' + '0'.repeat(64);
const MARKET = MARKET_ID;
const { base: BASE, arbitrum: ARBITRUM, optimism: OPTIMISM } = CHAIN_ID as Record<'base' | 'arbitrum' | 'optimism', bigint>;
/** USDC has 6 decimals: one unit is 1e12 in the engine's 1e18 USD. */
const USDC_SCALE = 10n ** 12n;
/** A feed answer (8 decimals) as the engine's 1e18 price. */
const price = (answer8: bigint): bigint => answer8 * 10n ** 10n;
const P3000 = price(3_000_00000000n);
const { imr, feeRate } = DEVNET_MARKET_PARAMS;

const keyOf = positionKeyOf;

/** feeRate·q·P rounded up, as the engine charges it. */
const feeOf = (size: bigint, p: bigint): bigint => mulDiv(size * p, feeRate, WAD * WAD, Rounding.Up);

interface PositionState {
  market: string;
  srcChainId: bigint;
  token: string;
  side: number;
  size: bigint;
  entryPrice: bigint;
  fees: bigint;
  realizedPnl: bigint;
  collateral: bigint;
}

async function stateOf(m: DevnetManifest, traderAddress: string, positionId: bigint): Promise<PositionState> {
  const [p, collateral] = (await engine(m).getFunction('positionOf')(keyOf(traderAddress, positionId))) as [Record<string, unknown>, bigint];
  return {
    market: p.market as string, srcChainId: p.srcChainId as bigint, token: p.token as string, side: Number(p.side), size: p.size as bigint,
    entryPrice: p.entryPrice as bigint, fees: p.fees as bigint, realizedPnl: p.realizedPnl as bigint, collateral,
  };
}

/** The margin account of a USDC-margined position as the engine's accountOf builds it. */
function accountOf(s: PositionState): IsolatedAccount {
  const realized = s.realizedPnl;
  return {
    position: { side: s.side === LONG ? Side.Long : Side.Short, size: s.size, entryPrice: s.entryPrice },
    collateral: { kind: CollateralKind.Stable, amount: s.collateral * USDC_SCALE + (realized > 0n ? realized : 0n) },
    fees: s.fees + (realized < 0n ? -realized : 0n),
  };
}

const named = (logs: readonly LogDescription[], name: string): LogDescription[] => logs.filter((l) => l.name === name);
/** The settlement token on base, read-only or signed by `signer` (e.g. the pool, to change its allowance). */
const settlementToken = (m: DevnetManifest, signer?: Wallet): Contract =>
  new Contract(m.chains.base?.contracts.settlementToken as string, ourArtifact('TestToken').abi, signer ?? provider(m, 'base'));
const argsOf = (l: LogDescription | undefined): unknown[] => [...(l?.args ?? [])];


describe('trading on the engine (base), margined by collateral credited from the sources', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  let undoCredits: (() => Promise<void>) | undefined;
  let t0: string;
  let arbUsdc: string;
  let arbWeth: string;

  // Credited once for the file (every test starts from here and is reverted to it):
  // trader 0's position 1: 10 000 USDC, 2: 1 000 USDC, 3: 1 WETH (from arbitrum), 4: 100 USDC (from optimism).
  before(async function () {
    this.timeout(60_000);
    const m = devnet().manifest;
    t0 = getAddress(m.accounts.traders[0]?.address ?? '');
    arbUsdc = getAddress(m.chains.arbitrum?.contracts.usdc ?? '');
    arbWeth = getAddress(m.chains.arbitrum?.contracts.weth ?? '');
    undoCredits = await snapshot(m);
    const { relayer, store } = makeRelayer(m);
    await lock(m, 'arbitrum', { amount: usdc(10_000n), positionId: 1n });
    await lock(m, 'arbitrum', { amount: usdc(1_000n), positionId: 2n });
    await lock(m, 'arbitrum', { amount: WAD, positionId: 3n, asset: 'weth' });
    await lock(m, 'optimism', { amount: usdc(100n), positionId: 4n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 4);
    await store.close();
  });

  after(async () => {
    await undoCredits?.();
  });

  const asTrader = (): Contract => engine(devnet().manifest, trader(devnet().manifest, 'base', 0));
  /** Position 2 (1 000 USDC) opened 1 ETH long at 3 000 and closed at 2 900: flat, 100 of realized loss, 5.9 of fees. */
  const flatAtALoss = async (m: DevnetManifest, c: Contract): Promise<PositionState> => {
    await mined(m, c, 'increase', 2n, MARKET, LONG, WAD);
    await setFeedAnswer(m, ['base'], 2_900_00000000n);
    await mined(m, c, 'decrease', 2n, WAD);
    return stateOf(m, t0, 2n);
  };

  it('opens a long at the oracle price, charging feeRate·q·P rounded up', async () => {
    const m = devnet().manifest;
    const at = price(3_000_00000001n);
    await setFeedAnswer(m, ['base'], 3_000_00000001n);
    const q = 2n * WAD + 1n;
    const logs = await mined(m, asTrader(), 'increase', 1n, MARKET, LONG, q);
    const fee = feeOf(q, at);
    assert.notEqual((q * at * feeRate) % (WAD * WAD), 0n, 'the exact fee has a fraction of a wei');
    assert.equal(fee, 6_000_000_000_020_000_004n, 'and the trader pays the whole wei');
    assert.deepEqual(logs.map((l) => l.name), ['PositionTraded', 'PositionChanged']);
    assert.deepEqual(argsOf(logs[0]), [keyOf(t0, 1n), true, q, at, fee]);
    assert.deepEqual(argsOf(logs[1]), [keyOf(t0, 1n), t0, 1n, MARKET]);
    assert.deepEqual(await stateOf(m, t0, 1n), {
      market: MARKET, srcChainId: ARBITRUM, token: arbUsdc, side: LONG, size: q, entryPrice: at, fees: fee, realizedPnl: 0n, collateral: usdc(10_000n),
    });
  });

  it('grows a long at the size-weighted entry rounded up, a short at one rounded down; the side is kept', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    await mined(m, c, 'increase', 1n, MARKET, LONG, WAD);
    await mined(m, c, 'increase', 2n, MARKET, SHORT, WAD / 10n);
    const p3001 = price(3_001_00000000n);
    await setFeedAnswer(m, ['base'], 3_001_00000000n);
    await mined(m, c, 'increase', 1n, MARKET, LONG, 2n * WAD);
    await mined(m, c, 'increase', 2n, MARKET, SHORT, WAD / 5n);

    const long = await stateOf(m, t0, 1n);
    assert.equal(long.size, 3n * WAD);
    assert.equal(long.entryPrice, mulDiv(WAD * P3000 + 2n * WAD * p3001, 1n, 3n * WAD, Rounding.Up));
    assert.equal(long.entryPrice, 3_000_666_666_666_666_666_667n);
    assert.equal(long.fees, feeOf(WAD, P3000) + feeOf(2n * WAD, p3001));
    const short = await stateOf(m, t0, 2n);
    assert.equal(short.size, (3n * WAD) / 10n);
    assert.equal(short.entryPrice, mulDiv((WAD / 10n) * P3000 + (WAD / 5n) * p3001, 1n, (3n * WAD) / 10n, Rounding.Down));
    assert.equal(short.entryPrice, 3_000_666_666_666_666_666_666n);

    assert.equal((await reverted(c, 'increase', 1n, MARKET, SHORT, WAD)).name, 'WrongSide');
    assert.equal((await reverted(c, 'increase', 1n, id('BTC-USD'), LONG, WAD)).name, 'MarketDisabled');
  });

  it('shrinks a position: the PnL of the part closed is realized rounded against the trader, and the fee charged', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    await mined(m, c, 'increase', 1n, MARKET, LONG, 3n * WAD);
    const d = 1_234_567_890_123_456_789n;
    const opened: Position = { side: Side.Long, size: d, entryPrice: P3000 };

    // One feed step down, then one up: d·1e-8 USD = 12 345 678 901.23… wei, a loss rounded up, a gain down.
    const down = price(2_999_99999999n);
    await setFeedAnswer(m, ['base'], 2_999_99999999n);
    const logs = await mined(m, c, 'decrease', 1n, d);
    assert.deepEqual(argsOf(named(logs, 'PositionTraded')[0]), [keyOf(t0, 1n), false, d, down, feeOf(d, down)]);
    assert.equal(named(logs, 'PositionChanged').length, 1);
    const lossPnl = pnl(opened, down);
    assert.equal(lossPnl, -12_345_678_902n);
    assert.equal((await stateOf(m, t0, 1n)).realizedPnl, lossPnl);

    const up = price(3_000_00000001n);
    await setFeedAnswer(m, ['base'], 3_000_00000001n);
    await mined(m, c, 'decrease', 1n, d);
    const gainPnl = pnl(opened, up);
    assert.equal(gainPnl, 12_345_678_901n);

    const s = await stateOf(m, t0, 1n);
    assert.equal(s.size, 3n * WAD - 2n * d);
    assert.equal(s.entryPrice, P3000, 'the entry of what is left does not move');
    assert.equal(s.realizedPnl, -1n, 'the same move down and up costs the trader a wei');
    assert.equal(s.fees, feeOf(3n * WAD, P3000) + feeOf(d, down) + feeOf(d, up));
    assert.equal(s.collateral, usdc(10_000n), 'nothing is settled before the close');

    const tooMuch = await reverted(c, 'decrease', 1n, 3n * WAD);
    assert.equal(tooMuch.name, 'SizeTooLarge');
    assert.deepEqual([...tooMuch.args], [3n * WAD, s.size]);
  });

  it('withdraws free collateral down to the initial margin and no further, as a RELEASE to the source', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    const e = engine(m);
    await mined(m, c, 'increase', 1n, MARKET, LONG, 2n * WAD);
    const s = await stateOf(m, t0, 1n);
    const im = initialMargin(accountOf(s).position, imr, P3000);
    const free = freeCollateral(accountOf(s), imr, P3000) / USDC_SCALE;
    assert.equal(free, usdc(10_000n - 6n - 600n), 'collateral − fee − 10 % of 6 000');

    const over = await reverted(c, 'withdraw', 1n, free + 1n, await paying(c, ARBITRUM, 1n));
    assert.equal(over.name, 'InsufficientMargin');
    assert.deepEqual([...over.args], [freeCollateral(accountOf({ ...s, collateral: s.collateral - free - 1n }), imr, P3000), im]);
    assert.equal((await reverted(c, 'withdraw', 1n, usdc(10_000n) + 1n)).name, 'SizeTooLarge');

    const nonce = (await e.getFunction('outboundNonce')(ARBITRUM)) as bigint;
    const logs = await mined(m, c, 'withdraw', 1n, free, await paying(c, ARBITRUM, 1n));
    assert.deepEqual(logs.map((l) => l.name), ['SettlementSent', 'CollateralWithdrawn', 'PositionChanged']);
    const [sent] = logs;
    const engineAddress = await e.getAddress();
    assert.deepEqual(argsOf(sent).slice(0, 7), [messageId(BASE, engineAddress, nonce + 1n), ARBITRUM, BigInt(MessageKind.RELEASE), t0, 1n, arbUsdc, free]);
    assert.notEqual(sent?.args.getValue('transportId'), `0x${'0'.repeat(64)}`, 'sent through LayerZero');
    assert.deepEqual(argsOf(logs[1]), [keyOf(t0, 1n), free]);
    assert.equal((await e.getFunction('outboundNonce')(ARBITRUM)) as bigint, nonce + 1n);
    assert.equal((await stateOf(m, t0, 1n)).collateral, usdc(606n));
  });

  it('without exposure, withdraws what a realized loss and the fees leave, and no more', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    const s = await flatAtALoss(m, c);
    assert.equal(s.realizedPnl, -100n * WAD);
    assert.equal(s.fees, (59n * WAD) / 10n, '3 + 2.9');
    const left = usdc(1_000n) - (s.fees - s.realizedPnl) / USDC_SCALE;
    assert.equal(left, 894_100_000n);

    const over = await reverted(c, 'withdraw', 2n, left + 1n, await paying(c, ARBITRUM, 1n));
    assert.equal(over.name, 'InsufficientMargin');
    assert.deepEqual([...over.args], [-USDC_SCALE, 0n], 'one USDC unit short of the fees and the loss');
    const logs = await mined(m, c, 'withdraw', 2n, left, await paying(c, ARBITRUM, 1n));
    assert.equal(named(logs, 'SettlementSent')[0]?.args.getValue('amount'), left);

    // Closing the flat position SEIZEs exactly what covers the loss and the fees.
    const closed = await mined(m, c, 'close', 2n, await paying(c, ARBITRUM));
    const sent = named(closed, 'SettlementSent');
    assert.deepEqual(sent.map((l) => [l.args.getValue('kind'), l.args.getValue('amount')]), [[BigInt(MessageKind.SEIZE), usdc(1_000n) - left]]);
    assert.deepEqual(argsOf(named(closed, 'PositionClosed')[0]), [keyOf(t0, 2n), 0n, 0n, usdc(1_000n) - left, 0n]);
  });

  it('refuses to open with too little margin (InsufficientMargin) and leaves the position flat', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    // 1 000 USDC: q·3 000·(10 % + 0.1 %) must fit, i.e. q ≤ 3.3003…
    const q = (34n * WAD) / 10n;
    const fee = feeOf(q, P3000);
    const would: IsolatedAccount = { position: { side: Side.Long, size: q, entryPrice: P3000 }, collateral: { kind: CollateralKind.Stable, amount: usdc(1_000n) * USDC_SCALE }, fees: fee };
    const r = await reverted(c, 'increase', 2n, MARKET, LONG, q);
    assert.equal(r.name, 'InsufficientMargin');
    assert.deepEqual([...r.args], [freeCollateral(would, imr, P3000), initialMargin(would.position, imr, P3000)]);
    assert.deepEqual([...r.args], [(9898n * WAD) / 10n - 1_020n * WAD, 1_020n * WAD]);
    assert.equal((await stateOf(m, t0, 2n)).size, 0n);

    await mined(m, c, 'increase', 2n, MARKET, LONG, (33n * WAD) / 10n);
    assert.equal((await stateOf(m, t0, 2n)).size, (33n * WAD) / 10n, '3.3 fits: 990.1 of equity for 990 of margin');
  });

  it('closes a short at a loss: RELEASEs the settled value rounded down and SEIZEs the rest of the collateral', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    const e = engine(m);
    const q = 5n * WAD + 123_456_789n;
    await mined(m, c, 'increase', 1n, MARKET, SHORT, q);
    const at = price(3_412_34567891n);
    await setFeedAnswer(m, ['base'], 3_412_34567891n);
    const before = await stateOf(m, t0, 1n);

    const pnlUsd = pnl({ side: Side.Short, size: q, entryPrice: P3000 }, at);
    const settled = usdc(10_000n) * USDC_SCALE + pnlUsd - (before.fees + feeOf(q, at));
    assert.ok(settled > 0n && settled < usdc(10_000n) * USDC_SCALE, 'a partial loss');
    const released = settled / USDC_SCALE;
    const seized = usdc(10_000n) - released;
    assert.ok(settled % USDC_SCALE !== 0n, 'the case exercises the rounding');

    const nonce = (await e.getFunction('outboundNonce')(ARBITRUM)) as bigint;
    const logs = await mined(m, c, 'close', 1n, await paying(c, ARBITRUM));
    assert.deepEqual(logs.map((l) => l.name), ['SettlementSent', 'SettlementSent', 'PositionClosed', 'PositionChanged']);
    const engineAddress = await e.getAddress();
    const [release, seize] = named(logs, 'SettlementSent');
    assert.deepEqual(argsOf(release).slice(0, 7), [messageId(BASE, engineAddress, nonce + 1n), ARBITRUM, BigInt(MessageKind.RELEASE), t0, 1n, arbUsdc, released]);
    assert.deepEqual(argsOf(seize).slice(0, 7), [messageId(BASE, engineAddress, nonce + 2n), ARBITRUM, BigInt(MessageKind.SEIZE), t0, 1n, arbUsdc, seized]);
    assert.deepEqual(argsOf(named(logs, 'PositionClosed')[0]), [keyOf(t0, 1n), settled, released, seized, 0n]);
    const sent = await outboundMessage(m, ARBITRUM, nonce + 2n);
    assert.deepEqual([sent.market, sent.price], [MARKET, at], 'the SEIZE carries the price it was decided at');
    const releaseSent = await outboundMessage(m, ARBITRUM, nonce + 1n);
    assert.deepEqual([releaseSent.market, releaseSent.price], [ZERO_MARKET, 0n], 'a RELEASE carries none');

    const after = await stateOf(m, t0, 1n);
    assert.equal(after.size, 0n);
    assert.equal(after.collateral, 0n);
    assert.equal(after.srcChainId, 0n, 'the position is free to be bound again');
  });

  it('closes in profit beyond the collateral: RELEASEs all of it and pays the rest from the settlement pool on base', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    await mined(m, c, 'increase', 2n, MARKET, LONG, 3n * WAD);
    await setFeedAnswer(m, ['base'], 3_500_00000000n);
    const token = settlementToken(m);
    const balance = (a: string) => token.getFunction('balanceOf')(a) as Promise<bigint>;
    const pool = m.accounts.settlementPool.address;
    const [traderBefore, poolBefore] = [await balance(t0), await balance(pool)];

    const logs = await mined(m, c, 'close', 2n, await paying(c, ARBITRUM));
    // 1 000 + 3·500 − (9 + 10.5) = 2 480.5 settled: 1 000 USDC back on arbitrum, 1 480.5 here.
    const profit = 1_480_500_000n;
    const sent = named(logs, 'SettlementSent');
    assert.deepEqual(sent.map((l) => [l.args.getValue('kind'), l.args.getValue('dstChainId'), l.args.getValue('amount')]), [[BigInt(MessageKind.RELEASE), ARBITRUM, usdc(1_000n)]]);
    assert.deepEqual(argsOf(named(logs, 'PositionClosed')[0]), [keyOf(t0, 2n), 2_480_500_000_000_000_000_000n, usdc(1_000n), 0n, profit]);
    assert.equal(await balance(t0), traderBefore + profit);
    assert.equal(await balance(pool), poolBefore - profit);
  });

  it('never traps a trader behind a short settlement pool: it pays what it can, owes the rest, and pays it when it can', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    await mined(m, c, 'increase', 2n, MARKET, LONG, 3n * WAD);
    await setFeedAnswer(m, ['base'], 3_500_00000000n);
    const pool = m.accounts.settlementPool;
    const token = settlementToken(m, new Wallet(pool.privateKey, provider(m, 'base')));
    // The pool lets the engine take only 1 000 USDC of the 1 480.5 of profit.
    await (await token.getFunction('approve').send(await engine(m).getAddress(), usdc(1_000n))).wait();
    const logs = await mined(m, c, 'close', 2n, await paying(c, ARBITRUM));
    assert.deepEqual(argsOf(named(logs, 'ProfitOwed')[0]), [t0, usdc(1_000n), 480_500_000n]);
    assert.equal(await engine(m).getFunction('profitOwed')(t0), 480_500_000n);
    await (await token.getFunction('approve').send(await engine(m).getAddress(), MaxUint256)).wait();
    const claimed = await mined(m, c, 'claimProfit');
    assert.deepEqual(named(claimed, 'ProfitOwed'), [], 'paid in full');
    assert.equal(await engine(m).getFunction('profitOwed')(t0), 0n);
    assert.equal((await reverted(c, 'claimProfit')).name, 'NothingToSettle');
  });

  it('reserves realized profit from the pool at once: a pool drained later still pays it; what later losses undo goes back', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    const e = engine(m);
    const pool = m.accounts.settlementPool;
    const token = settlementToken(m, new Wallet(pool.privateKey, provider(m, 'base')));
    const balance = (a: string) => token.getFunction('balanceOf')(a) as Promise<bigint>;
    // Position 1: 10 000 USDC, 3 ETH long at 3 000; 2 ETH closed at 3 500 realize 1 000 USD of profit.
    await mined(m, c, 'increase', 1n, MARKET, LONG, 3n * WAD);
    await setFeedAnswer(m, ['base'], 3_500_00000000n);
    const poolBefore = await balance(pool.address);
    const logs = await mined(m, c, 'decrease', 1n, 2n * WAD);
    assert.deepEqual(argsOf(named(logs, 'ProfitReserved')[0]), [keyOf(t0, 1n), usdc(1_000n)]);
    assert.equal(await balance(pool.address), poolBefore - usdc(1_000n));
    assert.equal(await e.getFunction('profitEscrow')(keyOf(t0, 1n)), usdc(1_000n));
    // The pool lets nothing more go (drained); the last ETH is closed back at 3 000, flat: the 1 000 are still paid.
    await (await token.getFunction('approve').send(await e.getAddress(), 0n)).wait();
    await setFeedAnswer(m, ['base'], 3_000_00000000n);
    const traderBefore = await balance(t0);
    const closed = await mined(m, c, 'close', 1n, await paying(c, ARBITRUM));
    const [, settled, , , profit] = argsOf(named(closed, 'PositionClosed')[0]) as [string, bigint, bigint, bigint, bigint];
    assert.equal(profit, settled / USDC_SCALE - usdc(10_000n), 'the profit beyond the collateral (1 000 less the fees)');
    assert.equal(await balance(t0), traderBefore + profit, 'paid from what was reserved, although the pool allows nothing now');
    assert.deepEqual(named(closed, 'ProfitOwed'), []);
    assert.equal(await balance(pool.address), poolBefore - profit, 'the fees\' part of the reserve went back to the pool');
    assert.equal(await e.getFunction('profitEscrow')(keyOf(t0, 1n)), 0n);
  });

  it('a trader\'s own close below zero is a deficit too: covered into the pool by the destination insurance', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    // 1 000 USDC, 3 ETH long at 3 000; at 2 600 the loss (1 200) and fees are beyond the collateral.
    await mined(m, c, 'increase', 2n, MARKET, LONG, 3n * WAD);
    await setFeedAnswer(m, ['base'], 2_600_00000000n);
    const logs = await mined(m, c, 'close', 2n, await paying(c, ARBITRUM));
    const [, settled] = argsOf(named(logs, 'PositionClosed')[0]) as [string, bigint];
    assert.ok(settled < 0n);
    const covered = (-settled + USDC_SCALE - 1n) / USDC_SCALE;
    assert.deepEqual(argsOf(named(logs, 'BadDebt')[0]), [keyOf(t0, 2n), MARKET, -settled, covered, 0n]);
  });

  it('credits WETH but never trades on it (CollateralNotTradable); it is still withdrawn and closed', async () => {
    const m = devnet().manifest;
    const c = asTrader();
    const r = await reverted(c, 'increase', 3n, MARKET, LONG, WAD / 100n);
    assert.equal(r.name, 'CollateralNotTradable');
    assert.deepEqual([...r.args], [ARBITRUM, arbWeth]);

    const withdrawn = await mined(m, c, 'withdraw', 3n, WAD / 4n, await paying(c, ARBITRUM, 1n));
    const closed = await mined(m, c, 'close', 3n, await paying(c, ARBITRUM));
    const released = [...named(withdrawn, 'SettlementSent'), ...named(closed, 'SettlementSent')];
    assert.deepEqual(released.map((l) => [l.args.getValue('kind'), l.args.getValue('token'), l.args.getValue('amount')]), [
      [BigInt(MessageKind.RELEASE), arbWeth, WAD / 4n],
      [BigInt(MessageKind.RELEASE), arbWeth, (3n * WAD) / 4n],
    ]);
  });

  it('RELEASEs straight back to its source a credit of another source or another token to a bound position', async () => {
    const m = devnet().manifest;
    const e = engine(m);
    const opUsdc = getAddress(m.chains.optimism?.contracts.usdc ?? '');
    const opWeth = getAddress(m.chains.optimism?.contracts.weth ?? '');
    const from = await provider(m, 'base').getBlockNumber();
    const { relayer, store } = makeRelayer(m);
    const locks = [
      await lock(m, 'optimism', { amount: usdc(5n), positionId: 1n }), // position 1 holds arbitrum USDC
      await lock(m, 'optimism', { amount: 2n * WAD, positionId: 4n, asset: 'weth' }), // position 4 holds optimism USDC
    ];
    const ids = new Set(locks.map((l) => l.lockId));
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).filter((r) => r.messageId !== null && ids.has(r.messageId)).length === 2);
    await store.close();

    const credited = await e.queryFilter('PositionCredited', from + 1, 'latest');
    assert.deepEqual(credited.map((l) => (l as { args: unknown[] }).args[0]).sort(), [...ids].sort(), 'both credits were accepted');
    // Nobody pays a fee inside a credit: the RELEASEs are queued, and anyone sends them paying it.
    assert.deepEqual(await e.queryFilter('SettlementSent', from + 1, 'latest'), []);
    const queued = (await e.queryFilter('SettlementQueued', from + 1, 'latest')).map((l) => (l as unknown as { args: [bigint, bigint, unknown[]] }).args);
    assert.deepEqual(queued.map(([, chain, s]) => [chain, ...[...s].slice(1, 6)]).sort((a, b) => Number((a[3] as bigint) - (b[3] as bigint))), [
      [OPTIMISM, BigInt(MessageKind.RELEASE), t0, 1n, opUsdc, usdc(5n)],
      [OPTIMISM, BigInt(MessageKind.RELEASE), t0, 4n, opWeth, 2n * WAD],
    ]);
    const stranger = engine(m, trader(m, 'base', 1));
    const [firstId, first] = [queued[0]?.[0] as bigint, [...(queued[0]?.[2] ?? [])]];
    const forged = [...first];
    forged[5] = (forged[5] as bigint) + 1n;
    assert.equal((await reverted(stranger, 'sendQueued', firstId, forged, await paying(stranger, OPTIMISM, 1n))).name, 'NotQueued', 'only what was queued');
    // One sent alone first (a front-run of a batch): the batch skips it and sends the rest, once.
    const [firstQ, ...restQ] = queued;
    await mined(m, stranger, 'sendQueued', firstQ?.[0], [...(firstQ?.[2] ?? [])], await paying(stranger, OPTIMISM, 1n));
    const batch = await mined(m, stranger, 'sendQueuedMany', queued.map(([qid]) => qid), queued.map(([, , q]) => [...q]), await paying(stranger, OPTIMISM, 2n));
    assert.equal(batch.filter((l) => l.name === 'SettlementSent').length, restQ.length);
    assert.equal((await reverted(stranger, 'sendQueued', firstId, first, await paying(stranger, OPTIMISM, 1n))).name, 'NotQueued', 'sent once');
    const one = await stateOf(m, t0, 1n);
    assert.deepEqual([one.srcChainId, one.token, one.collateral], [ARBITRUM, arbUsdc, usdc(10_000n)], 'still bound to arbitrum USDC, unchanged');
    const four = await stateOf(m, t0, 4n);
    assert.deepEqual([four.srcChainId, four.token, four.collateral], [OPTIMISM, opUsdc, usdc(100n)], 'still bound to optimism USDC, unchanged');
    assert.equal(await e.getFunction('collateralOf')(t0, 1n, OPTIMISM, opUsdc), 0n);
    assert.equal(await e.getFunction('collateralOf')(t0, 4n, OPTIMISM, opWeth), 0n);
  });

  describe('what the adversarial review found (issue 10)', () => {
    it('no free option: unrealized profit never backs a withdrawal or more size, and the margin is taken at today\'s price', async () => {
      const m = devnet().manifest;
      const c = asTrader();
      // Position 2: 1 000 USDC, 3 ETH long at 3 000 (margin 900 + fee 9). The price rises to 3 400.
      await mined(m, c, 'increase', 2n, MARKET, LONG, 3n * WAD);
      await setFeedAnswer(m, ['base'], 3_400_00000000n);
      const s = await stateOf(m, t0, 2n);
      const P3400 = price(3_400_00000000n);
      assert.ok(equity(accountOf(s), P3400) > 2_000n * WAD, 'the position is 1 200 USD in profit');
      // The review's withdrawal: all 1 000 USDC while the 3 ETH stay open. Refused, as is any part of it:
      // 1 000 − 9 − 10 % of 3·3 400 is below zero.
      for (const amount of [usdc(1_000n), usdc(1n)]) {
        const r = await reverted(c, 'withdraw', 2n, amount, await paying(c, ARBITRUM, 1n));
        assert.equal(r.name, 'InsufficientMargin', `withdraw ${amount}`);
      }
      const r = await reverted(c, 'withdraw', 2n, usdc(1n), await paying(c, ARBITRUM, 1n));
      assert.deepEqual([...r.args], [freeCollateral(accountOf({ ...s, collateral: s.collateral - usdc(1n) }), imr, P3400), 1_020n * WAD]);
      // The profit does not back more size either.
      assert.equal((await reverted(c, 'increase', 2n, MARKET, LONG, WAD / 10n)).name, 'InsufficientMargin');
      // At a loss the loss counts: back at 2 950, free = 1 000 − 9 − 150 − 885 < 0.
      await setFeedAnswer(m, ['base'], 2_950_00000000n);
      assert.equal((await reverted(c, 'withdraw', 2n, usdc(1n), await paying(c, ARBITRUM, 1n))).name, 'InsufficientMargin');
      // Closing settles what the position really made: the trader gets no more than collateral + realized profit.
      await setFeedAnswer(m, ['base'], 3_400_00000000n);
      const closed = await mined(m, c, 'close', 2n, await paying(c, ARBITRUM));
      const [, settled, released, seized, profit] = argsOf(named(closed, 'PositionClosed')[0]) as bigint[];
      assert.equal(released, usdc(1_000n));
      assert.equal(seized, 0n);
      assert.equal(settled, usdc(1_000n) * USDC_SCALE + 1_200n * WAD - s.fees - feeOf(3n * WAD, P3400));
      assert.equal(profit, settled / USDC_SCALE - usdc(1_000n));
    });

    it('an open position never withdraws all its collateral, whatever its margin rates', async () => {
      const m = devnet().manifest;
      const c = asTrader();
      await mined(m, c, 'increase', 1n, MARKET, LONG, WAD / 1000n);
      const r = await reverted(c, 'withdraw', 1n, usdc(10_000n), await paying(c, ARBITRUM, 1n));
      assert.equal(r.name, 'InsufficientMargin');
    });

    it('the caller pays every message: no fee, no withdrawal; what is left is refunded; the engine takes no plain ETH', async () => {
      const m = devnet().manifest;
      const c = asTrader();
      const e = engine(m);
      // Position 1's collateral is on arbitrum, whose return route is LayerZero (a non-zero fee on the devnet).
      const fee = await settlementFee(c, ARBITRUM);
      assert.ok(fee > 0n);
      const r = await reverted(c, 'withdraw', 1n, usdc(10n), { value: fee - 1n });
      assert.equal(r.name, 'FeeNotPaid');
      assert.deepEqual([...r.args], [1n]);
      const base = provider(m, 'base');
      const who = trader(m, 'base', 0);
      const engineAddress = await e.getAddress();
      const before = await base.getBalance(engineAddress);
      const balance = await base.getBalance(who.address);
      const tx = await c.getFunction('withdraw').send(1n, usdc(10n), { value: fee * 5n });
      const receipt = await tx.wait();
      assert.equal(receipt?.status, 1);
      const gas = (receipt?.gasUsed ?? 0n) * (receipt?.gasPrice ?? 0n);
      assert.equal(await base.getBalance(who.address), balance - gas - fee, 'paid exactly one fee; the rest came back');
      assert.equal(await base.getBalance(engineAddress), before, 'the engine keeps nothing');
      await assert.rejects(who.sendTransaction({ to: engineAddress, value: 1n }).then((t) => t.wait()), 'plain ETH is refused');
    });

    it('a lock below the vault\'s minimum is refused on the source: no dust for relayers to deliver', async () => {
      const m = devnet().manifest;
      const c = m.chains.arbitrum as DevnetManifest['chains'][string];
      const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
      const asOwner = new Contract(c.contracts.vault as string, vaultIface, new Wallet(m.accounts.deployer.privateKey, provider(m, 'arbitrum')));
      await (await asOwner.getFunction('setMinLock').send(c.contracts.usdc, usdc(1n))).wait();
      const asTraderVault = new Contract(c.contracts.vault as string, vaultIface, trader(m, 'arbitrum', 0));
      let data: string | undefined;
      try {
        await asTraderVault.getFunction('lock').staticCall(c.contracts.usdc, usdc(1n) - 1n, BASE, 9n, { value: 10n ** 16n });
      } catch (e) {
        data = (e as { data?: string }).data;
      }
      const parsed = vaultIface.parseError(data ?? '0x');
      assert.deepEqual([parsed?.name, ...(parsed?.args ?? [])], ['LockBelowMinimum', getAddress(c.contracts.usdc as string), usdc(1n) - 1n, usdc(1n)]);
    });

    it('the pause role stops new positions and credits at once, exits go on, and a paused CREDIT waits to be credited after', async () => {
      const m = devnet().manifest;
      const c = asTrader();
      const pauser = engine(m, new Wallet(m.accounts.deployer.privateKey, provider(m, 'base')));
      assert.equal((await reverted(engine(m, trader(m, 'base', 1)), 'setPaused', true)).name, 'NotPauser');
      await mined(m, pauser, 'setPaused', true);
      assert.equal((await reverted(c, 'increase', 1n, MARKET, LONG, WAD)).name, 'EnginePaused');
      await mined(m, c, 'withdraw', 1n, usdc(1n), await paying(c, ARBITRUM, 1n)); // exits go on
      const { relayer, store } = makeRelayer(m);
      const l = await lock(m, 'arbitrum', { amount: usdc(7n), positionId: 1n });
      const row = async () => (await store.list({})).find((r) => r.messageId === l.lockId);
      await tickUntil(relayer, async () => ((await row())?.lastError ?? '').includes('paused'));
      assert.notEqual((await row())?.status, 'dead', 'waiting, not given up');
      assert.equal(await engine(m).getFunction('processed')(l.lockId), false);
      await mined(m, pauser, 'setPaused', false);
      await tickUntil(relayer, async () => (await row())?.status === 'delivered');
      assert.equal(await engine(m).getFunction('processed')(l.lockId), true);
      await store.close();
    });

    it('admin actions go through the timelock: not by the deployer directly, and not before the delay', async () => {
      const m = devnet().manifest;
      const deployer = new Wallet(m.accounts.deployer.privateKey, provider(m, 'base'));
      assert.equal(await engine(m).getFunction('owner')(), m.chains.base?.contracts.timelock);
      const direct = await reverted(engine(m, deployer), 'setMinWithdraw', ARBITRUM, arbUsdc, 1n);
      assert.equal(direct.name, 'OwnableUnauthorizedAccount');
      const timelock = new Contract(m.chains.base?.contracts.timelock as string, ourArtifact('AdminTimelock').abi, deployer);
      const data = engine(m).interface.encodeFunctionData('setMinWithdraw', [ARBITRUM, arbUsdc, 1n]);
      const salt = id('early');
      await (await timelock.getFunction('schedule').send(await engine(m).getAddress(), 0n, data, ZeroHash, salt, await timelock.getFunction('getMinDelay')())).wait();
      await assert.rejects(timelock.getFunction('execute').staticCall(await engine(m).getAddress(), 0n, data, ZeroHash, salt), 'not before its delay');
      await asAdmin(m, 'setMinWithdraw', [ARBITRUM, arbUsdc, 1n]);
      assert.equal(await engine(m).getFunction('minWithdraw')(ARBITRUM, arbUsdc), 1n);
      // The LayerZero delegate (libraries, DVN configuration, clear/burn) is the timelock's too.
      const endpoint = new Contract(m.chains.base?.layerzero.endpoint as string, ['function delegates(address) view returns (address)'], provider(m, 'base'));
      assert.equal(await endpoint.getFunction('delegates')(await engine(m).getAddress()), m.chains.base?.contracts.timelock);
    });

    it('a withdrawal below the collateral\'s minimum is refused, unless it takes everything', async () => {
      const m = devnet().manifest;
      const c = asTrader();
      const opUsdc = getAddress(m.chains.optimism?.contracts.usdc ?? '');
      // An owner action: through the admin timelock, its delay waited out.
      await asAdmin(m, 'setMinWithdraw', [OPTIMISM, opUsdc, usdc(5n)]);
      await setFeedAnswer(m, ['base'], 3_000_00000000n); // fresh again after the wait
      const r = await reverted(c, 'withdraw', 4n, usdc(5n) - 1n, await paying(c, OPTIMISM, 1n));
      assert.equal(r.name, 'BelowMinimum');
      assert.deepEqual([...r.args], [usdc(5n) - 1n, usdc(5n)]);
      await mined(m, c, 'withdraw', 4n, usdc(5n), await paying(c, OPTIMISM, 1n));
      await mined(m, c, 'withdraw', 4n, usdc(95n), await paying(c, OPTIMISM, 1n));
      assert.equal((await stateOf(m, t0, 4n)).collateral, 0n);
    });

    it('anyone settles a flat position whose realized loss its trader leaves open: SEIZE the loss, RELEASE the rest', async () => {
      const m = devnet().manifest;
      const c = asTrader();
      const s = await flatAtALoss(m, c);
      const owed = (s.fees - s.realizedPnl) / USDC_SCALE; // 100 of loss + 5.9 of fees
      assert.equal(owed, 105_900_000n);
      const stranger = engine(m, trader(m, 'base', 1));
      const logs = await mined(m, stranger, 'settle', keyOf(t0, 2n), await paying(stranger, ARBITRUM));
      const sent = named(logs, 'SettlementSent').map((l) => [l.args.getValue('kind'), l.args.getValue('trader'), l.args.getValue('amount')]);
      assert.deepEqual(sent, [[BigInt(MessageKind.RELEASE), t0, usdc(1_000n) - owed], [BigInt(MessageKind.SEIZE), t0, owed]], 'the trader gets the rest, the fund the loss');
      assert.equal((await stateOf(m, t0, 2n)).srcChainId, 0n);
      // Nothing to settle: a flat position with fees but no realized loss, an open position, or a flat one in profit.
      await mined(m, c, 'increase', 4n, MARKET, LONG, WAD / 100n);
      await mined(m, c, 'decrease', 4n, WAD / 100n);
      assert.equal((await reverted(stranger, 'settle', keyOf(t0, 4n), await paying(stranger, OPTIMISM))).name, 'NothingToSettle');
      await mined(m, c, 'increase', 1n, MARKET, LONG, WAD);
      assert.equal((await reverted(stranger, 'settle', keyOf(t0, 1n), await paying(stranger, ARBITRUM))).name, 'NothingToSettle');
      assert.equal((await reverted(stranger, 'settle', keyOf(t0, 3n), await paying(stranger, ARBITRUM))).name, 'NothingToSettle');
    });

    describe('trading price protection on chain', () => {
      const setMarket = async (m: DevnetManifest, o: Parameters<typeof devnetMarketConfig>[2] & { minPrice?: bigint; maxPrice?: bigint } = {}) => {
        const base = m.chains.base as DevnetManifest['chains'][string];
        await asAdmin(m, 'setMarket', [MARKET, { ...devnetMarketConfig(base.contracts.ethUsdFeed, base.contracts.sequencerFeed, o), ...(o.minPrice === undefined ? {} : { minPrice: o.minPrice }), ...(o.maxPrice === undefined ? {} : { maxPrice: o.maxPrice }) }]);
      };

      it('refuses to trade while base\'s sequencer is down, and for its grace period after it is back', async () => {
        const m = devnet().manifest;
        const c = asTrader();
        await setSequencerDown(m, 'base', true);
        assert.equal((await reverted(c, 'increase', 1n, MARKET, LONG, WAD)).name, 'SequencerDown');
        await setSequencerDown(m, 'base', false);
        assert.equal((await reverted(c, 'increase', 1n, MARKET, LONG, WAD)).name, 'SequencerGracePeriod');
        await provider(m, 'base').send('evm_increaseTime', [61]);
        await provider(m, 'base').send('evm_mine', []);
        await setFeedAnswer(m, ['base'], 3_000_00000000n); // fresh after the jump
        await mined(m, c, 'increase', 1n, MARKET, LONG, WAD);
      });

      it('refuses an answer outside the market\'s bounds (a feed pinned at its floor)', async () => {
        const m = devnet().manifest;
        const c = asTrader();
        await setMarket(m, { minPrice: 100n * WAD, maxPrice: 10_000n * WAD });
        await setFeedAnswer(m, ['base'], 99_00000000n);
        const low = await reverted(c, 'increase', 1n, MARKET, LONG, WAD);
        assert.deepEqual([low.name, ...low.args], ['OracleOutOfBounds', 99n * WAD, 100n * WAD, 10_000n * WAD]);
        await setFeedAnswer(m, ['base'], 10_001_00000000n);
        assert.equal((await reverted(c, 'increase', 1n, MARKET, LONG, WAD)).name, 'OracleOutOfBounds');
      });

      it('caps the open interest of each side', async () => {
        const m = devnet().manifest;
        const c = asTrader();
        await setMarket(m, { maxOpenInterest: 2n * WAD });
        await mined(m, c, 'increase', 1n, MARKET, LONG, (3n * WAD) / 2n);
        const r = await reverted(c, 'increase', 1n, MARKET, LONG, WAD);
        assert.deepEqual([r.name, ...r.args], ['OpenInterestCap', MARKET, (5n * WAD) / 2n, 2n * WAD]);
        await mined(m, c, 'increase', 4n, MARKET, SHORT, WAD / 100n); // the other side has its own room
        await mined(m, c, 'decrease', 1n, WAD);
        await mined(m, c, 'increase', 1n, MARKET, LONG, WAD);
        const [long, short] = (await engine(m).getFunction('openInterest')(MARKET)) as [bigint, bigint];
        assert.deepEqual([long, short], [(3n * WAD) / 2n, WAD / 100n]);
      });

      it('refuses a spread of imr − mmr or more: positions would open already liquidatable', async () => {
        const m = devnet().manifest;
        await assert.rejects(setMarket(m, { spreadBps: 500 }), /reverted/);
        await setMarket(m, { spreadBps: 499 });
      });

      it('trades at the spread against the trader: a long buys above the oracle and sells below it', async () => {
        const m = devnet().manifest;
        const c = asTrader();
        await setMarket(m, { spreadBps: 10 });
        const opened = await mined(m, c, 'increase', 1n, MARKET, LONG, WAD);
        const buy = mulDiv(P3000, 10_010n, 10_000n, Rounding.Up);
        assert.equal(named(opened, 'PositionTraded')[0]?.args.getValue('price'), buy);
        assert.equal((await stateOf(m, t0, 1n)).entryPrice, buy);
        const closed = await mined(m, c, 'decrease', 1n, WAD);
        const sell = mulDiv(P3000, 9_990n, 10_000n, Rounding.Down);
        assert.equal(named(closed, 'PositionTraded')[0]?.args.getValue('price'), sell);
        assert.equal((await stateOf(m, t0, 1n)).realizedPnl, sell - buy, 'a round trip at one price costs the spread');
      });
    });
  });
});
