// `isorelay devnet --demo` as the README runs it (npm run devnet -- --demo): its own three chains
// and relayer, the four locks credited once, the trading act, and the options act — an iron condor
// funded from arbitrum, quoted by the devnet market maker, settled by the keeper at expiry, what is
// left released to arbitrum — each step checked by the demo itself; it exits 0 only if all pass.
// Its files go to a directory of its own, removed when it passes: .devnet/ is left as it was.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_DIR_PREFIX } from '../../relayer/cli/commands/devnet.js';
import { cli, REPO } from '../setup/cli.js';

/** What a devnet in the repository's .devnet/ wrote: the demo must leave it as it was. */
const repoDevnet = (): string | null => (existsSync(join(REPO, '.devnet', 'manifest.json')) ? readFileSync(join(REPO, '.devnet', 'manifest.json'), 'utf8') : null);

describe('isorelay devnet --demo', function () {
  this.timeout(240_000);

  it('credits every lock once, trades and liquidates, and settles an iron condor at expiry with its RELEASE on arbitrum; exits 0', async function () {
    const before = repoDevnet();
    // The condor expires in 10 s, not the README run's 30: the rest is the run the README makes (no --dir).
    const { code, stdout, stderr } = await cli(['devnet', '--demo', '--demo-expiry', '10'], {});
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.equal(stdout.match(/ delivered\n/g)?.length, 4, 'four locks in the table, each delivered');
    assert.match(stdout, /4 locks, each credited exactly once/);
    for (const step of ['open', 'liquidate', 'seize', 'close']) assert.match(stdout, new RegExp(`✓ ${step}: `), step);
    assert.match(stdout, /market maker http:\/\/127\.0\.0\.1:\d+\/quote/);
    // The options act, step by step.
    assert.match(stdout, /✓ condor: lock: 100\.0 USDC locked on arbitrum for position 5, credited on base in \d+ ms/);
    const quote = /✓ condor: quote: the market maker \(http:\/\/127\.0\.0\.1:\d+\) quotes a credit of (\d+\.\d\d) USD for an iron condor around 3,100/.exec(stdout);
    assert.ok(quote !== null, stdout);
    assert.match(stdout, /iron condor on ETH-USD, defined risk\ndevnet: {5}legs: long put 3,\d{3} × 10 · short put 3,\d{3} × 10 · short call 3,\d{3} × 10 · long call 3,\d{3} × 10/);
    assert.match(stdout, /at expiry: settles at the price attested within 10 min of expiry .*; between 3,\d{3} and 3,\d{3} you keep \d+\.\d\d USD; worst case −\d+\.\d\d USD/);
    assert.match(stdout, /✓ condor: open: openStrategy \(tx 0x[0-9a-f]{64}\): StrategyOpened requirement \d+\.\d\d USD, the maximum loss/);
    assert.match(stdout, /✓ condor: settle: the keeper settled it at 3,\d{3} \(the reconciled price\), \d+ s after expiry \(tx 0x[0-9a-f]{64}\): payoff −\d+\.\d\d USD/);
    assert.match(stdout, /✓ condor: release: RELEASE of \d+\.\d+ USDC delivered to the trader on arbitrum, SEIZE of \d+\.\d+ USDC to the insurance fund/);
    assert.match(stdout, /✓ condor: result: the trader's USDC on arbitrum: before 1000000\.0 USDC, after 9999\d\d\.\d+ USDC: −\d+\.\d+ USDC/);
    assert.doesNotMatch(stdout, /✗/);
    assert.match(stdout, /demo passed: .* the iron condor settled at expiry and what was left released to arbitrum/);
    // Its chains took free ports and stopped with it: its files went to a directory of their own, removed after the pass.
    const dir = /devnet: manifest (\S+)\/manifest\.json/.exec(stdout)?.[1] ?? '';
    assert.ok(dir.startsWith(join(tmpdir(), DEMO_DIR_PREFIX)), `the demo's files in ${dir}`);
    assert.ok(!existsSync(dir), `${dir} removed`);
    assert.equal(repoDevnet(), before, '.devnet/ as it was');
  });
});
