// The demo's third act, options: the trader locks USDC on arbitrum for a new position, credited on
// base; asks the devnet market maker (over HTTP, as `isorelay option` does) for an iron condor
// around the price expiring in half a minute, checks and opens it; the price moves into a wing; the
// keeper settles the strategy at expiry at the reconciled price; the RELEASE of what is left reaches
// arbitrum and the SEIZE of the loss the insurance fund. Every amount is checked from chain state.
import { Contract, formatUnits, Interface, Wallet, type JsonRpcProvider } from 'ethers';
import { checkOpen, openStrategy } from '../app/optionTrader.js';
import { formatStrategy, premiumText, strategyView } from '../app/strategyReport.js';
import { lockCollateral } from '../app/trader.js';
import { waitForCredit } from '../app/waitForCredit.js';
import { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { makeProvider } from '../chains/provider.js';
import { parseConfig } from '../config/load.js';
import { positionKeyOf } from '../liquidation/engineAccount.js';
import { maxLoss, payoff, type OptionLeg } from '../margin/options.js';
import { chainTime, readOptionsConfig, readOraclePrice, readStrategy } from '../options/engineReads.js';
import { formatUsd, formatWad } from '../options/legs.js';
import { priceStrategy } from '../options/pricing.js';
import { requestQuote } from '../options/quoteClient.js';
import { marketId } from '../options/quoteWire.js';
import type { Store } from '../store/store.js';
import type { DevnetManifest } from './deploy.js';
import { setDevnetPrice } from './feeds.js';
import { devnetRelayerConfig } from './relayerConfig.js';
import type { DemoStep } from './tradingDemo.js';

const WAD = 10n ** 18n;
const USDC = 10n ** 6n;
/** The condor's collateral: 100 USDC, position 5 (the first acts use 1 to 4). */
const LOCKED = 100n * USDC;
const POSITION = 5n;
/** 10 ETH a leg. */
const SIZE = 10n * WAD;
const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
/** The steps a run that goes through records (fewer: it stopped at a failed one). */
export const OPTIONS_DEMO_STEPS = 6;
const SETTLED = engineIface.getEvent('StrategySettled')?.topicHash as string; // the event is in the ABI

async function until<T>(check: () => Promise<T | null>, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** An iron condor around `spot`: short strikes one standard deviation (of the time to expiry) away, wings three; whole dollars. */
export function demoCondor(spot: bigint, oneSigma: bigint): { legs: OptionLeg[]; center: bigint; inner: bigint } {
  const center = (spot + WAD / 2n) / WAD;
  const w = (oneSigma + WAD / 2n) / WAD;
  const inner = w < 1n ? 1n : w;
  const k = (x: bigint) => x * WAD;
  return {
    center, inner,
    legs: [
      { isCall: false, isLong: true, strike: k(center - 3n * inner), size: SIZE },
      { isCall: false, isLong: false, strike: k(center - inner), size: SIZE },
      { isCall: true, isLong: false, strike: k(center + inner), size: SIZE },
      { isCall: true, isLong: true, strike: k(center + 3n * inner), size: SIZE },
    ],
  };
}

export async function runOptionsDemo(m: DevnetManifest, store: Store, say: (line: string) => void, o: { quoteUrl: string; expirySeconds?: number; timeoutMs?: number }): Promise<DemoStep[]> {
  const timeout = o.timeoutMs ?? 60_000;
  const expiryIn = BigInt(o.expirySeconds ?? 30);
  const steps: DemoStep[] = [];
  const record = (step: string, ok: boolean, detail: string) => {
    steps.push({ step, ok, detail });
    say(`${ok ? '✓' : '✗'} ${step}: ${detail}`);
  };
  const config = parseConfig(devnetRelayerConfig(m, { sqlite: ':memory:' }));
  const providers: Record<string, JsonRpcProvider> = Object.fromEntries(Object.values(m.chains).map((c) => [c.name, makeProvider(c.rpcUrl, c.chainId, 25)]));
  const p = (chain: string) => providers[chain] as JsonRpcProvider;
  try {
    const base = new ChainClient('base', config.chains.base ?? (() => { throw new Error('no base config'); })());
    const engine = m.chains.base?.contracts.engine as string;
    const arb = m.chains.arbitrum;
    if (arb?.contracts.vault === undefined || arb.contracts.usdc === undefined) throw new Error('arbitrum has no vault or USDC');
    const arbUsdc = arb.contracts.usdc;
    const trader = m.accounts.traders[0] as { address: string; privateKey: string };
    const usdcOf = async (who: string) => (await new Contract(arbUsdc, ourArtifact('TestToken').abi, p('arbitrum')).getFunction('balanceOf')(who)) as bigint;
    const units = (x: bigint) => `${formatUnits(x, 6)} USDC`;
    const market = { name: m.market.name, id: marketId(m.market.name) };

    // 1. Collateral from a source chain.
    const before = await usdcOf(trader.address);
    const insuranceBefore = await usdcOf(m.accounts.insuranceFund.address);
    const fromBlock = await base.blockNumber();
    const locked = await lockCollateral({
      trader: new Wallet(trader.privateKey, p('arbitrum')), vault: arb.contracts.vault, token: arbUsdc, amount: LOCKED, dstChainId: BigInt(m.chains.base?.chainId ?? 0),
      positionId: POSITION, units: { decimals: 6, symbol: 'USDC' }, chain: 'arbitrum',
    });
    const credit = await waitForCredit({ destination: base, engine, lockId: locked.lockId, fromBlock, sinceMs: locked.minedAtMs, timeoutMs: timeout, pollMs: 50 });
    record('condor: lock', credit.kind === 'credited' && credit.collateral === LOCKED,
      `${units(LOCKED)} locked on arbitrum for position ${POSITION}, credited on base in ${credit.elapsedMs} ms; the trader's USDC on arbitrum before: ${units(before)}`);
    if (credit.kind !== 'credited') return steps;

    // 2. A quote from the market maker, over HTTP, for a condor around the price.
    const [spot, options, now] = await Promise.all([readOraclePrice(base, engine, market.id), readOptionsConfig(base, engine, market.id), chainTime(base)]);
    if (spot === null) throw new Error('the engine has no ETH-USD price');
    const oneSigma = priceStrategy([{ isCall: true, isLong: true, strike: spot, size: WAD }], { spot, sigma: options.sigma, seconds: expiryIn }).oneSigma;
    const { legs, center, inner } = demoCondor(spot, oneSigma);
    const expiry = now + expiryIn;
    const context = { market: market.name, positionId: POSITION, chain: 'base' };
    const signed = await requestQuote(o.quoteUrl, { trader: trader.address, positionId: POSITION, market: market.name, expiry, legs }, { engine, chainId: BigInt(m.chains.base?.chainId ?? 0) });
    const check = await checkOpen(base, engine, signed, context);
    const premium = signed.quote.premium;
    const view = strategyView({ market: market.name, legs, premium, requirement: check.requirement, definedRisk: check.definedRisk, opening: true, spot, expiry, now: check.now, settleWindow: options.settleWindow });
    record('condor: quote', premium < 0n && check.problems.length === 0 && check.requirement === maxLoss(legs, premium),
      `the market maker (${o.quoteUrl}) quotes ${premiumText(premium)} for an iron condor around ${formatWad(spot)} (σ ${formatWad(options.sigma * 100n)} %, one standard deviation in ${expiryIn} s: ${formatUsd(oneSigma)} USD)${check.problems.length === 0 ? '' : `; refused: ${check.problems.join('; ')}`}`);
    for (const line of formatStrategy(view, '    ').split('\n')) say(line);
    if (check.problems.length > 0) return steps;

    // 3. Opened from the trader's key on base.
    const opened = await openStrategy(new Wallet(trader.privateKey, p('base')), engine, signed, context);
    record('condor: open', opened.definedRisk && opened.requirement === maxLoss(legs, premium),
      `openStrategy (tx ${opened.txHash}): StrategyOpened requirement ${formatUsd(opened.requirement)} USD, the maximum loss — ${units(LOCKED)} of collateral covers it`);

    // 4. The price moves into the call wing, between the short and the long call; the keeper settles at expiry.
    const settlePrice = (center + 2n * inner) * WAD;
    await setDevnetPrice(m, Object.keys(m.chains), center + 2n * inner, p);
    say(`ETH-USD moves to ${formatWad(settlePrice)} on arbitrum, optimism and base; waiting for expiry (${expiryIn} s) and the keeper`);
    const key = positionKeyOf(trader.address, POSITION);
    const settled = await until(async () => {
      if ((await readStrategy(base, engine, key)) !== null) return null;
      const head = await base.blockNumber();
      const { logs } = await base.logsWithBounds({ address: engine, topics: [SETTLED, key] }, opened.blockNumber, head);
      const log = logs[0];
      if (log === undefined) return null;
      const ev = engineIface.parseLog(log);
      const block = await base.block(log.blockNumber);
      return { price: ev?.args.getValue('price') as bigint, payoff: ev?.args.getValue('payoff') as bigint, tx: log.transactionHash, at: BigInt(block?.timestamp ?? 0) };
    }, Number(expiryIn) * 1000 + timeout);
    const expected = payoff(legs, settlePrice);
    record('condor: settle', settled !== null && settled.price === settlePrice && settled.payoff === expected && settled.at >= expiry && settled.at <= expiry + options.settleWindow,
      settled === null ? 'the keeper did not settle the strategy in time' : `the keeper settled it at ${formatWad(settled.price)} (the reconciled price), ${settled.at - expiry} s after expiry (tx ${settled.tx}): payoff ${formatUsd(settled.payoff)} USD`);
    if (settled === null) return steps;

    // 5. What is left back on arbitrum: collateral + credit + payoff, in USDC; the loss SEIZEd.
    const equity = LOCKED * 10n ** 12n - premium + settled.payoff;
    const released = equity <= 0n ? 0n : equity / 10n ** 12n < LOCKED ? equity / 10n ** 12n : LOCKED;
    const seized = LOCKED - released;
    // Delivered on chain (the balances) and confirmed by the relayer (its store), both.
    const confirmed = async () => {
      const rows = (await store.list({ limit: 10_000 })).filter((r) => r.route === 'base-arbitrum' && r.status === 'delivered' && r.observedAt >= locked.minedAtMs);
      return rows.some((r) => r.kind === 'RELEASE') === released > 0n && rows.some((r) => r.kind === 'SEIZE') === seized > 0n;
    };
    const arrived = await until(async () => ((await usdcOf(trader.address)) === before - LOCKED + released && (await usdcOf(m.accounts.insuranceFund.address)) === insuranceBefore + seized && (await confirmed()) ? true : null), timeout);
    record('condor: release', arrived === true,
      `RELEASE of ${units(released)} delivered to the trader on arbitrum, SEIZE of ${units(seized)} to the insurance fund`);
    const after = await usdcOf(trader.address);
    record('condor: result', after - before === released - LOCKED,
      `the trader's USDC on arbitrum: before ${units(before)}, after ${units(after)}: ${after - before < 0n ? '−' : '+'}${units(after - before < 0n ? before - after : after - before)}, the credit of ${formatUsd(-premium)} USD and the payoff of ${formatUsd(settled.payoff)} USD (USDC rounded down)`);
    return steps;
  } finally {
    Object.values(providers).forEach((x) => x.destroy());
  }
}
