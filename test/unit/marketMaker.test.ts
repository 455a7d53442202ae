// The devnet market maker's pricing rule (relayer/options/pricing.ts), the legs a trader writes on
// the command line, the quote wire, and what a strategy does at expiry as screens say it.
import assert from 'node:assert/strict';
import { Wallet } from 'ethers';
import fc from 'fast-check';
import { parseExpiry, parseLimit } from '../../relayer/cli/commands/option.js';
import { breakevenText, outcomeText, strategyView } from '../../relayer/app/strategyReport.js';
import { isIsorelayError } from '../../relayer/errors/base.js';
import { WAD, YEAR, describeStrategy, isDefinedRisk, maxLoss, payoff, timeValueBound, type OptionLeg } from '../../relayer/margin/index.js';
import { intrinsic } from '../../relayer/margin/options.js';
import { formatLeg, formatUsd, legArg, parseLeg, parseLegs } from '../../relayer/options/legs.js';
import { expiryOutlook } from '../../relayer/options/outlook.js';
import { DEVNET_PRICING, priceStrategy } from '../../relayer/options/pricing.js';
import { cannotLose } from '../../relayer/options/riskless.js';
import { quoteDomain, signQuote } from '../../relayer/options/quote.js';
import { checkQuote } from '../../relayer/options/quoteClient.js';
import { marketId, parseQuoteRequest, parseSignedQuote, quoteRequestJson, signedQuoteJson, type SignedQuote } from '../../relayer/options/quoteWire.js';

const usd = (x: bigint) => x * WAD;
const leg = (side: 'long' | 'short', kind: 'call' | 'put', strike: bigint, size = WAD): OptionLeg => ({ isCall: kind === 'call', isLong: side === 'long', strike: usd(strike), size });
const SPOT = usd(3_000n);
const SIGMA = 8n * 10n ** 17n;
const WEEK = 7n * 86_400n;
const at = { spot: SPOT, sigma: SIGMA, seconds: WEEK };
const CONDOR = [leg('long', 'put', 2_600n, 2n * WAD), leg('short', 'put', 2_800n, 2n * WAD), leg('short', 'call', 3_200n, 2n * WAD), leg('long', 'call', 3_400n, 2n * WAD)];

/** The rule in floating point, written out independently: tv(d) = B · (1 − d / 2.5w)³, w = S·σ·√(t/year). */
function floatTimeValue(strike: number, spot: number, sigma: number, seconds: number): number {
  const w = spot * sigma * Math.sqrt(seconds / Number(YEAR));
  const b = w / Math.sqrt(2 * Math.PI);
  const d = Math.abs(spot - strike);
  return d >= 2.5 * w ? 0 : b * (1 - d / (2.5 * w)) ** 3;
}

const usage = (f: () => unknown, pattern: RegExp) =>
  assert.throws(f, (e: unknown) => isIsorelayError(e, 'USAGE') && pattern.test(e.message));

describe('the devnet market maker', function () {
  describe('pricing', function () {
    it('prices an at-the-money leg at exactly OptionsMath\'s time-value bound, and one struck 2.5 standard deviations away or more at its intrinsic value', function () {
      const p = priceStrategy([leg('long', 'call', 3_000n)], at);
      assert.equal(p.atTheMoney, timeValueBound(SPOT, SIGMA, WEEK));
      assert.deepEqual(p.legs, [{ timeValue: p.atTheMoney, fair: p.atTheMoney }]);
      assert.equal(p.oneSigma / WAD, 332n, 'one standard deviation of a week at 80 %: 3 000 · 0.8 · √(7/365)');
      const far = priceStrategy([leg('long', 'put', 2_100n), leg('long', 'put', 3_900n)], at);
      assert.deepEqual(far.legs.map((l) => l.timeValue), [0n, 0n], '900 away is beyond 2.5 · 332');
      assert.equal(far.legs[1]?.fair, usd(900n), 'the in-the-money put at its intrinsic value');
    });

    it('gives each leg the time value of the written-out rule, falling with the distance from the price', function () {
      let previous = Infinity;
      for (const strike of [3_000n, 3_050n, 3_150n, 3_300n, 3_500n, 3_700n, 3_829n, 3_831n]) {
        const p = priceStrategy([leg('long', 'call', strike)], at);
        const tv = Number(p.legs[0]?.timeValue) / 1e18;
        const expected = floatTimeValue(Number(strike), 3_000, 0.8, Number(WEEK));
        assert.ok(Math.abs(tv - expected) <= 1e-9 * Math.max(1, expected), `strike ${strike}: ${tv} vs ${expected}`);
        assert.ok(tv <= previous, `strike ${strike}: the time value falls with the distance`);
        previous = tv;
        // A put at the same distance below the price has the same time value.
        const mirror = priceStrategy([leg('long', 'put', 6_000n - strike)], at);
        assert.equal(mirror.legs[0]?.timeValue, p.legs[0]?.timeValue, `put ${6_000n - strike}`);
      }
    });

    it('keeps put–call parity: a long call and a short put of one strike are worth S − K', function () {
      for (const strike of [2_500n, 2_950n, 3_000n, 3_333n]) {
        const p = priceStrategy([leg('long', 'call', strike, 3n * WAD), leg('short', 'put', strike, 3n * WAD)], at);
        assert.equal(p.fair, 3n * (SPOT - usd(strike)), `strike ${strike}`);
      }
    });

    it('quotes the iron condor at a credit, the maker\'s edge against the trader, rounded up once', function () {
      const p = priceStrategy(CONDOR, at);
      assert.ok(p.premium < 0n && p.premium > p.fair, `a credit, smaller than the fair one: ${p.premium} vs ${p.fair}`);
      // Edge: 10 % of each leg's time value (each well above the 0.01 USD floor) on 2 units.
      const edgeExact = p.legs.reduce((s, l) => s + 2n * l.timeValue, 0n) / 10n;
      assert.ok(p.edge >= edgeExact && p.edge <= edgeExact + 10n, `edge ${p.edge} vs ${edgeExact}`);
      assert.equal(formatUsd(p.premium), '−127.59');
      assert.equal(maxLoss(CONDOR, p.premium), usd(400n) + p.premium, 'the wings less the credit');
      assert.equal(priceStrategy(CONDOR, at).premium, p.premium, 'deterministic');
    });

    it('charges at least the minimum edge per unit: a strategy with no time value at all costs its intrinsic value plus 0.01 USD a unit per leg', function () {
      const spread = [leg('long', 'call', 4_000n, 5n * WAD), leg('short', 'call', 4_100n, 5n * WAD)];
      const p = priceStrategy(spread, at);
      assert.equal(p.fair, 0n);
      assert.equal(p.premium, 2n * 5n * DEVNET_PRICING.minEdge);
      assert.ok(maxLoss(spread, p.premium) > 0n, 'so it is never the engine\'s RisklessQuote');
      const expired = priceStrategy([leg('long', 'put', 3_100n)], { ...at, seconds: 0n });
      assert.equal(expired.premium, usd(100n) + DEVNET_PRICING.minEdge, 'at expiry: intrinsic and the floor');
    });

    it('never quotes a defined-risk strategy the trader cannot lose on, and never below its least payoff (fast-check)', function () {
      const strike = fc.bigInt(50n, 70n).map((k) => k * 50n * WAD);
      const size = fc.bigInt(1n, 40n).map((q) => q * (WAD / 4n));
      const legs = fc.array(fc.record({ isCall: fc.boolean(), isLong: fc.boolean(), strike, size }), { minLength: 1, maxLength: 8 });
      const seconds = fc.oneof(fc.constant(30n), fc.bigInt(1n, 30n * 86_400n));
      fc.assert(
        fc.property(legs, seconds, fc.bigInt(1n, 3n * WAD), (l, t, sigma) => {
          const p = priceStrategy(l, { spot: SPOT, sigma, seconds: t });
          assert.ok(p.edge > 0n);
          if (isDefinedRisk(l)) assert.ok(maxLoss(l, p.premium) > 0n, `riskless at ${p.premium}`);
          assert.equal(cannotLose(l, p.premium), false, `the engine's RisklessQuote at ${p.premium}`);
          // The rule's prices are those of a distribution of the expiry price within 2.5 standard
          // deviations of the spot: the premium is above the least payoff there.
          const reach = (5n * p.oneSigma) / 2n + WAD;
          const low = SPOT > reach ? SPOT - reach : 0n;
          const high = SPOT + reach;
          const points = [low, high, ...l.map((x) => x.strike).filter((k) => k > low && k < high)];
          const least = points.reduce((m, s) => (payoff(l, s) < m ? payoff(l, s) : m), payoff(l, low));
          assert.ok(p.premium > least, `${p.premium} vs the least payoff ${least}`);
        }),
        { numRuns: 500 },
      );
    });

    it('knows the engine\'s RisklessQuote: a strategy with covered calls paying at least its premium everywhere', function () {
      assert.equal(cannotLose(CONDOR, -usd(400n)), true, 'a credit of all the condor could pay');
      assert.equal(cannotLose(CONDOR, -usd(400n) + 1n), false);
      // Long the 3,000 put, short 1.1 of the 1,000 put: not defined risk, yet it pays at least 0 everywhere.
      const ratio = [leg('long', 'put', 3_000n), leg('short', 'put', 1_000n, 11n * WAD / 10n)];
      assert.equal(isDefinedRisk(ratio), false);
      assert.equal(cannotLose(ratio, -usd(10n)), true, 'it pays 1,900 at 0, 2,000 at 1,000 and 0 from 3,000 up: a credit of 10 is riskless');
      assert.equal(cannotLose(ratio, 1n), false, 'a debit of one wei can be lost');
      assert.equal(cannotLose([leg('short', 'call', 3_000n)], -usd(100n)), false, 'uncovered calls can always lose');
    });

    it('prices with intrinsic value at the oracle price', function () {
      const l = leg('long', 'put', 3_200n);
      assert.equal(priceStrategy([l], { ...at, seconds: 0n }).fair, intrinsic(l, SPOT));
    });
  });

  describe('legs on the command line', function () {
    it('reads side:kind:strike:size, in any case, with decimals', function () {
      assert.deepEqual(parseLeg('long:call:3200:2'), leg('long', 'call', 3_200n, 2n * WAD));
      assert.deepEqual(parseLeg('SHORT:Put:2999.5:0.25'), { isCall: false, isLong: false, strike: 2_999_500_000_000_000_000_000n, size: WAD / 4n });
      assert.deepEqual(parseLeg('long:put:1_000:1'), leg('long', 'put', 1_000n));
      assert.equal(formatLeg(leg('short', 'call', 3_200n, 2n * WAD)), 'short call 3,200 × 2');
      for (const l of CONDOR) assert.deepEqual(parseLeg(legArg(l)), l);
    });

    it('refuses a leg it cannot read, naming what is wrong', function () {
      usage(() => parseLeg('long:call:3200'), /--leg long:call:3200: a leg is side:kind:strike:size/);
      usage(() => parseLeg('buy:call:3200:1'), /the side is "buy", it must be long .* or short/);
      usage(() => parseLeg('long:cal:3200:1'), /the kind is "cal", it must be call or put/);
      usage(() => parseLeg('long:call:0:1'), /the strike is 0/);
      usage(() => parseLeg('long:call:0.0:1'), /the strike is 0/);
      usage(() => parseLeg('long:call:3200:0'), /the size is 0/);
      usage(() => parseLeg('long:call:-3200:1'), /the strike "-3200" is not a number/);
      usage(() => parseLeg('long:call:3e3:1'), /the strike "3e3" is not a number/);
      usage(() => parseLeg('long:call:3200:0.0000000000000000001'), /the size .* \(at most 18 decimals\)/);
      usage(() => parseLeg(`long:call:${'9'.repeat(19)}:1`), /above the engine's largest/);
    });

    it('takes 1 to 8 legs', function () {
      usage(() => parseLegs([]), /at least one --leg/);
      usage(() => parseLegs(Array.from({ length: 9 }, () => 'long:call:3000:1')), /9 legs: a strategy has at most 8/);
      assert.equal(parseLegs(Array.from({ length: 8 }, () => 'long:call:3000:1')).length, 8);
    });

    it('reads --expiry as a duration from the chain\'s time or a unix time, never one in the past', function () {
      const now = 1_700_000_000n;
      assert.equal(parseExpiry('30s', now), now + 30n);
      assert.equal(parseExpiry('10m', now), now + 600n);
      assert.equal(parseExpiry('1h30m', now), now + 5_400n);
      assert.equal(parseExpiry('7d', now), now + 604_800n);
      assert.equal(parseExpiry(String(now + 99n), now), now + 99n);
      usage(() => parseExpiry(String(now - 1n), now), /--expiry 1699999999 is in the past: the chain's time is 1700000000/);
      usage(() => parseExpiry('0s', now), /in the past/);
      usage(() => parseExpiry('soon', now), /neither a duration like 30s/);
      usage(() => parseExpiry('42', now), /neither a duration .* nor a unix time/);
    });

    it('takes one limit, --max-premium or --min-credit', function () {
      assert.deepEqual(parseLimit({ maxPremium: '80' }), { maxPremium: usd(80n) });
      assert.deepEqual(parseLimit({ minCredit: '12.5' }), { minCredit: 12_500_000_000_000_000_000n });
      assert.equal(parseLimit({}), undefined);
      usage(() => parseLimit({ maxPremium: '80', minCredit: '10' }), /one limit said two ways/);
      usage(() => parseLimit({ minCredit: '-5' }), /--min-credit -5 is not an amount/);
    });
  });

  describe('the quote wire', function () {
    const trader = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const engine = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
    const request = { trader, positionId: 7n, market: 'ETH-USD', expiry: 1_700_003_600n, legs: CONDOR };

    it('reads back what it writes, and answers what is wrong with a request in one sentence', function () {
      assert.deepEqual(parseQuoteRequest(JSON.parse(JSON.stringify(quoteRequestJson(request)))), { ok: true, request });
      const bad = (patch: Record<string, unknown>) => {
        const r = parseQuoteRequest({ ...quoteRequestJson(request), ...patch });
        assert.equal(r.ok, false);
        return r.ok ? '' : r.error;
      };
      assert.match(bad({ trader: '0x1234' }), /^trader: an address/);
      assert.match(bad({ positionId: 7 }), /^positionId: /);
      assert.match(bad({ expiry: '-1' }), /^expiry: an unsigned integer/);
      assert.match(bad({ expiry: (2n ** 64n).toString() }), /^expiry: at most 64 bits/);
      assert.match(bad({ legs: [] }), /^legs: at least one leg/);
      assert.match(bad({ legs: Array.from({ length: 9 }, () => quoteRequestJson(request).legs) .flat() }), /^legs: at most 8 legs/);
      assert.match(bad({ legs: [{ isCall: true, isLong: true, strike: '3e21', size: '1' }] }), /^legs\.0\.strike: an unsigned integer/);
      assert.match(bad({ market: 'ETH USD; drop' }), /^market: /);
      assert.match(bad({ extra: 1 }), /extra|Unrecognized/i);
      assert.equal(marketId('ETH-USD'), marketId(marketId('ETH-USD')), 'a market by name or by id');
    });

    it('accepts only a quote of exactly what was asked, for this engine, signed by the key it names', async function () {
      const key = Wallet.createRandom();
      const quote = { ...request, market: marketId('ETH-USD'), premium: -usd(120n), deadline: 1_700_000_060n, nonce: `0x${'ab'.repeat(32)}` };
      const signed: SignedQuote = {
        quote, signature: await signQuote(quote, key, quoteDomain(8453n, engine)), quoter: key.address, engine, chainId: 8453n,
        pricing: { spot: SPOT, sigma: SIGMA, seconds: 3_600n, fair: -usd(121n), edge: usd(1n) },
      };
      const wire = parseSignedQuote(JSON.parse(JSON.stringify(signedQuoteJson(signed))));
      assert.deepEqual(wire, signed);
      const expect = { engine, chainId: 8453n };
      checkQuote(wire, request, expect);
      const refused = (s: SignedQuote, pattern: RegExp) => assert.throws(() => checkQuote(s, request, expect), (e: unknown) => isIsorelayError(e, 'QUOTE_REFUSED') && pattern.test(e.message));
      refused({ ...wire, quote: { ...quote, legs: CONDOR.slice(1) } }, /quoted something else than asked: other legs/);
      refused({ ...wire, quote: { ...quote, positionId: 8n } }, /position 8/);
      refused({ ...wire, quote: { ...quote, premium: -usd(121n) } }, /signed by 0x[0-9a-fA-F]{40}, not by the quoter it names/);
      refused({ ...wire, quoter: Wallet.createRandom().address }, /not by the quoter it names/);
      assert.throws(() => checkQuote(wire, request, { engine, chainId: 10n }), /engine 0x/);
      assert.throws(() => parseSignedQuote({ ...signedQuoteJson(signed), signature: '0x12' }), /not a signed quote: signature/);
    });
  });

  describe('at expiry, as a screen says it', function () {
    it('the iron condor: keeps the credit between the short strikes, loses the wings less the credit beyond the long ones', function () {
      const o = expiryOutlook(CONDOR, -usd(160n));
      assert.deepEqual(o.best, { amount: usd(160n), ranges: [{ from: usd(2_800n), to: usd(3_200n) }] });
      assert.deepEqual(o.worst, { amount: -usd(240n), ranges: [{ from: null, to: usd(2_600n) }, { from: usd(3_400n), to: null }] });
      const v = strategyView({ market: 'ETH-USD', legs: CONDOR, premium: -usd(160n), requirement: usd(240n), definedRisk: true, opening: true, spot: SPOT, expiry: 100n, now: 40n, settleWindow: 600n });
      assert.equal(outcomeText(v), 'between 2,800 and 3,200 you keep 160.00 USD; worst case −240.00 USD (at or below 2,600 or at or above 3,400)');
      assert.deepEqual([v.kind, v.breakevens, v.delta], ['iron condor', [usd(2_720n), usd(3_280n)], 0n]);
      assert.equal(breakevenText(v), '2,720 and 3,280');
      // To the cent, into the profitable range: the left edge up, the right edge down.
      const quoted = priceStrategy(CONDOR, at).premium;
      assert.equal(breakevenText({ legs: CONDOR, premium: quoted, breakevens: describeStrategy(CONDOR, quoted).breakevens }), '2,736.21 and 3,263.79');
    });

    it('a long call gains without limit above its strike; a naked put loses most at 0; a short call without limit', function () {
      const call = strategyView({ market: 'ETH-USD', legs: [leg('long', 'call', 3_000n)], premium: usd(50n), requirement: usd(50n), definedRisk: true, opening: true, spot: usd(3_100n), expiry: 100n, now: 0n, settleWindow: 600n });
      assert.equal(outcomeText(call), 'at or above 3,000 your gain grows with the price; worst case −50.00 USD (at or below 3,000)');
      assert.equal(call.delta, WAD);
      const put = expiryOutlook([leg('short', 'put', 2_800n)], -usd(40n));
      assert.deepEqual(put.worst, { amount: -usd(2_760n), ranges: [{ from: null, to: 0n }] });
      assert.deepEqual(put.best, { amount: usd(40n), ranges: [{ from: usd(2_800n), to: null }] });
      assert.deepEqual(expiryOutlook([leg('short', 'call', 3_500n)], -usd(120n)).worst, { amount: null, ranges: [{ from: usd(3_500n), to: null }] });
    });
  });
});
