// `isorelay option quote|open` and `isorelay positions` as a trader runs them: the compiled CLI
// (bin/isorelay.js → dist/) against the shared devnet, with the devnet market maker over HTTP.
// A quote shows the strategy; open sends it and positions shows it; a quote worse than the
// trader's limit, a position without enough collateral, a riskless quote and bad input are refused
// with a sentence and nothing is sent.
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interface, Wallet, getAddress, id } from 'ethers';
import { openStrategy } from '../../relayer/app/optionTrader.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { devnetMarketMaker, serveDevnetMarketMaker } from '../../relayer/devnet/marketMaker.js';
import { devnetRelayerYaml } from '../../relayer/devnet/relayerConfig.js';
import { isIsorelayError } from '../../relayer/errors/base.js';
import { positionKeyOf } from '../../relayer/liquidation/engineAccount.js';
import { describeStrategyRevert } from '../../relayer/options/engineErrors.js';
import type { RunningMarketMaker } from '../../relayer/options/marketMakerServer.js';
import { quoteDomain, signQuote } from '../../relayer/options/quote.js';
import { signedQuoteJson, type SignedQuote } from '../../relayer/options/quoteWire.js';
import { REPO, runProgram, type CliResult } from '../setup/cli.js';
import { engine, lock, makeRelayer, provider, snapshot, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';
import { usdc } from '../setup/engineCalls.js';

const WAD = 10n ** 18n;
const CONDOR = ['--leg', 'long:put:2600:2', '--leg', 'short:put:2800:2', '--leg', 'short:call:3200:2', '--leg', 'long:call:3400:2'];
const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);

/** dist/ built from the sources as they are now: `npm run build` when any .ts under relayer/ is newer. */
async function ensureBuilt(): Promise<void> {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0), 0);
  const main = join(REPO, 'dist/relayer/cli/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newest(join(REPO, 'relayer'))) return;
  const built = await runProgram('npm', ['run', 'build'], REPO);
  assert.equal(built.code, 0, `npm run build:\n${built.stdout}${built.stderr}`);
}

describe('isorelay option and positions (compiled CLI) against the devnet market maker', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  const m = (): DevnetManifest => devnet().manifest;
  let dir: string;
  let configFile: string;
  let env: Record<string, string>;
  let maker: RunningMarketMaker;
  let undoCredits: (() => Promise<void>) | undefined;
  let t0: string;

  const isorelay = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
    runProgram(process.execPath, [join(REPO, 'bin/isorelay.js'), ...args], REPO, { ...env, ...extra });
  const option = (action: 'quote' | 'open', position: number, args: string[]) =>
    isorelay(['option', action, String(position), '-c', configFile, '--market', 'ETH-USD', '--quote-url', maker.url, ...args]);
  const strategyExpiry = async (positionId: bigint): Promise<bigint> =>
    ((await engine(m()).getFunction('strategyOf')(positionKeyOf(t0, positionId))) as [string, bigint])[1];

  // Trader 0's position 11: 600 USDC from arbitrum, 12: 50 USDC. Credited once for the file.
  before(async function () {
    this.timeout(120_000);
    await ensureBuilt();
    t0 = getAddress(m().accounts.traders[0]?.address ?? '');
    dir = mkdtempSync(join(tmpdir(), 'isorelay-option-'));
    configFile = join(dir, 'relayer.yaml');
    writeFileSync(configFile, devnetRelayerYaml(m(), { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' }));
    env = { ISORELAY_TRADER_KEY: m().accounts.traders[0]?.privateKey as string };
    maker = await serveDevnetMarketMaker(m());
    undoCredits = await snapshot(m());
    const { relayer, store } = makeRelayer(m());
    await lock(m(), 'arbitrum', { amount: usdc(600n), positionId: 11n });
    await lock(m(), 'arbitrum', { amount: usdc(50n), positionId: 12n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 2);
    await store.close();
  });

  after(async function () {
    await maker?.close();
    await undoCredits?.();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('quotes an iron condor: the strategy, its credit, maximum loss, breakevens and what happens at expiry; nothing is sent', async function () {
    const r = await option('quote', 11, ['--expiry', '7d', ...CONDOR]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`quote for position 11 of ${t0}: a credit of 12\\d\\.\\d\\d USD, valid until .* \\(60 s\\), signed by ${m().accounts.marketMaker.address}`));
    assert.match(r.stdout, /priced at 3,000 with σ 80 % and 60480\d s to expiry: fair −15\d\.\d\d USD, the market maker's edge 3\d\.\d\d USD/);
    assert.match(r.stdout, /iron condor on ETH-USD, defined risk/);
    assert.match(r.stdout, /legs: long put 2,600 × 2 · short put 2,800 × 2 · short call 3,200 × 2 · long call 3,400 × 2/);
    assert.match(r.stdout, /max loss: 27\d\.\d\d USD/);
    assert.match(r.stdout, /breakevens: 2,73\d\.\d\d and 3,26\d\.\d\d\n/);
    assert.match(r.stdout, /delta: 0 at 3,000/);
    assert.match(r.stdout, /expiry: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in 7 d\)/);
    assert.match(r.stdout, /at expiry: settles at the price attested within 10 min of expiry \(the worst for you in the attested range\); between 2,800 and 3,200 you keep 12\d\.\d\d USD; worst case −27\d\.\d\d USD \(at or below 2,600 or at or above 3,400\)/);
    assert.match(r.stdout, /your margin: 600\.00 USD for a requirement of 27\d\.\d\d USD/);
    assert.equal(await strategyExpiry(11n), 0n, 'a quote opens nothing');

    const json = await option('quote', 11, ['--expiry', '7d', ...CONDOR, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { quote: { premium: string; legs: unknown[] }; strategy: { kind: string; maxLoss: string; breakevens: string[]; atExpiry: { text: string } }; margin: string; problems: string[] };
    assert.ok(BigInt(out.quote.premium) < -120n * WAD);
    assert.equal(out.quote.legs.length, 4);
    assert.equal(out.strategy.kind, 'iron condor');
    assert.equal(BigInt(out.strategy.maxLoss), 400n * WAD + BigInt(out.quote.premium), 'the wings less the credit');
    assert.equal(out.strategy.breakevens.length, 2);
    assert.equal(BigInt(out.margin), 600n * WAD);
    assert.deepEqual(out.problems, []);
  });

  it('opens it from the trader key within --min-credit, and positions shows the strategy', async function () {
    const r = await option('open', 11, ['--expiry', '7d', ...CONDOR, '--min-credit', '100', '--yes']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const opened = /opened: tx (0x[0-9a-f]{64}) \(block \d+\); StrategyOpened requirement (27\d\.\d\d) USD \(the maximum loss\) on position 11/.exec(r.stdout);
    assert.ok(opened !== null, r.stdout);
    const receipt = await provider(m(), 'base').getTransactionReceipt(opened[1] as string);
    assert.equal(receipt?.status, 1);
    assert.equal(getAddress(receipt?.from ?? ''), t0, 'sent from the trader key');
    const expiry = await strategyExpiry(11n);
    assert.ok(expiry > 0n);

    const p = await isorelay(['positions', '-c', configFile, '--trader', t0]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /iron condor ETH-USD \(below\)/, 'the table names the strategy');
    assert.match(p.stdout, /position 11 \(USDC from arbitrum\):\n {2}iron condor on ETH-USD, defined risk\n {2}legs: long put 2,600 × 2 · short put 2,800 × 2 · short call 3,200 × 2 · long call 3,400 × 2\n {2}premium: a credit of 12\d\.\d\d USD\n {2}max loss: 27\d\.\d\d USD\n {2}breakevens: 2,73\d\.\d\d and 3,26\d\.\d\d\n {2}delta: 0 at 3,000\n {2}expiry: .* \(in (7 d|6 d 23 h)\)\n {2}at expiry: settles at the price attested within 10 min of expiry .*; between 2,800 and 3,200 you keep 12\d\.\d\d USD; worst case −27\d\.\d\d USD/);
    const json = await isorelay(['positions', '-c', configFile, '--trader', t0, '--json']);
    const rows = (JSON.parse(json.stdout) as { positions: { positionId: string; strategy: { kind: string; expiry: string; delta: string; legs: { side: string; type: string; strike: string; size: string }[]; maxLoss: string } | null }[] }).positions;
    const row = rows.find((x) => x.positionId === '11');
    assert.equal(row?.strategy?.kind, 'iron condor');
    assert.equal(BigInt(row?.strategy?.expiry ?? 0), expiry);
    assert.equal(row?.strategy?.delta, '0');
    assert.deepEqual(row?.strategy?.legs[1], { side: 'short', type: 'put', strike: (2_800n * WAD).toString(), size: (2n * WAD).toString() });
    assert.equal(rows.find((x) => x.positionId === '12')?.strategy, null);
  });

  it('refuses a quote worse than --max-premium, and a strategy the collateral cannot margin, sending nothing', async function () {
    const spread = await option('open', 11, ['--expiry', '7d', '--leg', 'long:call:3000:1', '--leg', 'short:call:3200:1', '--max-premium', '10', '--yes']);
    assert.equal(spread.code, 1, spread.stdout + spread.stderr);
    assert.match(spread.stderr, /^QUOTE_REFUSED: the quote is a debit of \d\d\.\d\d USD, more than your --max-premium 10\.00 USD: nothing was sent/);
    const credit = await option('open', 11, ['--expiry', '7d', ...CONDOR, '--min-credit', '500', '--yes']);
    assert.match(credit.stderr, /^QUOTE_REFUSED: the quote is a credit of 12\d\.\d\d USD, less than your --min-credit 500\.00 USD: nothing was sent/);
    assert.equal(await strategyExpiry(11n), 0n);

    const poor = await option('open', 12, ['--expiry', '7d', ...CONDOR, '--min-credit', '100', '--yes']);
    assert.equal(poor.code, 1, poor.stdout + poor.stderr);
    assert.match(poor.stderr, /^QUOTE_REFUSED: openStrategy would revert, nothing was sent: position 12's margin is 50\.00 USD, the strategy needs 27\d\.\d\d USD: 22\d\.\d\d USD short; lock more collateral for position 12/);
    assert.equal(await strategyExpiry(12n), 0n);
    const none = await option('open', 13, ['--expiry', '7d', ...CONDOR, '--min-credit', '100', '--yes']);
    assert.match(none.stderr, /position 13 has no collateral on base: lock some for it first/);
  });

  it('refuses a riskless quote (RisklessQuote) before sending, and decodes the engine\'s revert when it is sent anyway', async function () {
    // A market maker gone wrong: the quoter key signs a credit of 500 for a condor that can pay out at most 400.
    const key = new Wallet(m().accounts.marketMaker.privateKey);
    const rogue = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        void (async () => {
          const honest = JSON.parse(body) as { trader: string; positionId: string; expiry: string };
          const q = await devnetMarketMaker(m()).quote({ trader: honest.trader, positionId: BigInt(honest.positionId), market: 'ETH-USD', expiry: BigInt(honest.expiry), legs: parseCondor() });
          const quote = { ...q.quote, premium: -500n * WAD };
          const signed: SignedQuote = { ...q, quote, signature: await signQuote(quote, key, quoteDomain(q.chainId, q.engine)) };
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(signedQuoteJson(signed)));
          lastRogue = signed;
        })();
      });
    });
    let lastRogue: SignedQuote | undefined;
    await new Promise<void>((ok) => rogue.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}`;
      const r = await isorelay(['option', 'open', '11', '-c', configFile, '--market', 'ETH-USD', '--quote-url', url, '--expiry', '7d', ...CONDOR, '--min-credit', '100', '--yes']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /^QUOTE_REFUSED: openStrategy would revert, nothing was sent: the engine refuses the quote: at a premium of −500\.00 USD this strategy cannot lose, so it would pay you for nothing \(RisklessQuote\)/);
      assert.equal(await strategyExpiry(11n), 0n);
      // Sent without the CLI's checks, the engine reverts, and the revert reads the same.
      const wallet = trader(m(), 'base');
      await assert.rejects(
        openStrategy(wallet, m().chains.base?.contracts.engine as string, lastRogue as SignedQuote, { market: 'ETH-USD', positionId: 11n, chain: 'base' }),
        (e: unknown) => isIsorelayError(e, 'QUOTE_REFUSED') && /^openStrategy would revert, nothing was sent: the engine refuses the quote: at a premium of −500\.00 USD .*\(RisklessQuote\)/.test(e.message),
      );
      assert.match(describeStrategyRevert(engineIface.encodeErrorResult('RisklessQuote', [-500n * WAD]), { market: 'ETH-USD', positionId: 11n, chain: 'base' }), /RisklessQuote/);
      assert.equal(
        describeStrategyRevert(engineIface.encodeErrorResult('OptionsOpenInterestCap', [id('ETH-USD'), 1_510n * WAD, 1_000n * WAD]), { market: 'ETH-USD', positionId: 11n, chain: 'base' }),
        'ETH-USD allows 1000.0 units of option legs open in all (maxOpenInterest); with this strategy it would be 1510.0: trade a smaller size, or wait until strategies settle',
      );
    } finally {
      await new Promise<void>((ok) => rogue.close(() => ok()));
    }
  });

  it('refuses bad input with a usage error: leg syntax, strike 0, too many legs, an expiry in the past, --yes without a limit', async function () {
    const cases: [string[], RegExp][] = [
      [['--expiry', '1h', '--leg', 'long:call:3000'], /^USAGE: --leg long:call:3000: a leg is side:kind:strike:size, e.g. long:call:3200:2/],
      [['--expiry', '1h', '--leg', 'long:call:0:1'], /^USAGE: --leg long:call:0:1: the strike is 0; a strike is a price above 0/],
      [['--expiry', '1h', ...Array.from({ length: 9 }, () => ['--leg', 'long:call:3000:1']).flat()], /^USAGE: 9 legs: a strategy has at most 8/],
      [['--expiry', '1600000000', ...CONDOR], /^USAGE: --expiry 1600000000 is in the past: the chain's time is \d+/],
      [['--expiry', '40d', ...CONDOR], /^USAGE: --expiry 40d is 40d 00h away: ETH-USD options expire within 30d 00h/],
      [['--expiry', '1h', ...CONDOR, '--market', 'eth-usd'], /^USAGE: --market eth-usd is not a market of the config \(did you mean ETH-USD\?\); it has ETH-USD/],
      [['--expiry', '1h', ...CONDOR, '--yes'], /^USAGE: --yes opens without asking: say the worst quote you accept/],
      [['--expiry', '1h', ...CONDOR, '--max-premium', '1', '--min-credit', '1'], /^USAGE: --max-premium and --min-credit are one limit said two ways/],
      [['--expiry', '1h', ...CONDOR, '--min-credit', '1'], /^USAGE: open asks before it sends: add --yes/],
    ];
    const limit = ['--min-credit', '1', '--yes'];
    for (const [args, pattern] of cases) {
      const r = await option('open', 11, args.includes('--yes') || args.includes('--min-credit') ? args : [...args, ...limit]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
    }
    assert.equal(await strategyExpiry(11n), 0n);
  });

  it('serves quotes over HTTP with clear 400s for what it will not quote', async function () {
    const post = async (body: string) => {
      const res = await fetch(`${maker.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, json: (await res.json()) as { error?: string; quote?: { premium: string } } };
    };
    const now = BigInt((await provider(m(), 'base').getBlock('latest'))?.timestamp ?? 0);
    const request = { trader: t0, positionId: '11', market: 'ETH-USD', expiry: String(now + 86_400n), legs: [{ isCall: true, isLong: true, strike: (3_000n * WAD).toString(), size: WAD.toString() }] };
    const ok = await post(JSON.stringify(request));
    assert.equal(ok.status, 200);
    assert.ok(BigInt(ok.json.quote?.premium ?? 0) > 0n, 'a long call is a debit');
    assert.deepEqual(await post('{'), { status: 400, json: { error: 'the body is not JSON: send { trader, positionId, market, expiry, legs: [{ isCall, isLong, strike, size }] }, integers as decimal strings' } });
    assert.match((await post(JSON.stringify({ ...request, legs: Array.from({ length: 9 }, () => request.legs[0]) }))).json.error ?? '', /^legs: at most 8 legs/);
    assert.match((await post(JSON.stringify({ ...request, legs: [{ ...request.legs[0], strike: '0' }] }))).json.error ?? '', /BadLeg: leg 0 has strike 0/);
    const past = await post(JSON.stringify({ ...request, expiry: String(now - 10n) }));
    assert.equal(past.status, 400);
    assert.match(past.json.error ?? '', /the expiry \d+ is not after the chain's time \d+/);
    assert.match((await post(JSON.stringify({ ...request, market: 'BTC-USD' }))).json.error ?? '', /options on BTC-USD are not enabled|BTC-USD/);
    const big = await fetch(`${maker.url}/quote`, { method: 'POST', body: 'x'.repeat(20_000) }).then((r) => r.status, () => 413);
    assert.equal(big, 413);
    assert.equal((await fetch(`${maker.url}/nope`)).status, 404);
    const health = (await (await fetch(`${maker.url}/healthz`)).json()) as { quoter: string };
    assert.equal(health.quoter, m().accounts.marketMaker.address);
  });
});

function parseCondor() {
  return [
    { isCall: false, isLong: true, strike: 2_600n * WAD, size: 2n * WAD },
    { isCall: false, isLong: false, strike: 2_800n * WAD, size: 2n * WAD },
    { isCall: true, isLong: false, strike: 3_200n * WAD, size: 2n * WAD },
    { isCall: true, isLong: true, strike: 3_400n * WAD, size: 2n * WAD },
  ];
}
