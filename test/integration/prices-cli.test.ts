// `isorelay prices` against the shared devnet, with PriceService alongside: one chain's feed moved
// +30 %, one sequencer down, both at once (no price), a sequencer inside its grace period.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ChainClient } from '../../relayer/chains/client.js';
import { parseConfig } from '../../relayer/config/load.js';
import type { RawConfig } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { devnetRelayerConfig, DVN_SIGNER_KEY_ENV, RELAYER_KEY_ENV, SECOND_DVN_SIGNER_KEY_ENV } from '../../relayer/devnet/relayerConfig.js';
import { PriceService, type MarketPrices } from '../../relayer/oracle/priceService.js';
import { WAD } from '../../relayer/oracle/reconcile.js';
import { cli } from '../setup/cli.js';
import { setFeedAnswer, setSequencerDown, useSharedDevnet } from '../setup/devnet.js';

const MARKET = 'ETH-USD';
const usd = (x: bigint): bigint => x * 10n ** 8n; // the devnet feeds' 8 decimals

const setAnswer = (m: DevnetManifest, chain: string, answer8: bigint) => setFeedAnswer(m, [chain], answer8);

/** `isorelay prices --json`, as parsed by a script. */
interface PricesJson {
  market: string;
  now: string;
  chains: { chain: string; price: string | null; priceFormatted: string | null; ageSeconds: string | null; sequencer: string | null; graceLeftSeconds?: string; status: 'in' | 'out'; reason?: string; detail?: string }[];
  result: { ok: boolean; median?: string; low?: string; high?: string; spreadBps?: string; reason?: string; sources: { chain: string; price: string }[]; excluded: { chain: string; reason: string; detail: string }[] };
}

const excludedOf = (p: MarketPrices) => p.result.excluded.map((e) => [e.chain, e.reason]);

describe('isorelay prices on the devnet', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  let dir: string;
  let keys: Record<string, string>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'isorelay-prices-'));
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Writes the devnet's config (with the sources' sequencer grace set to `grace` when given) and
   * returns its path and a PriceService built from the same config.
   */
  function setup(name: string, grace?: number): { file: string; service: PriceService } {
    const m = devnet().manifest;
    keys = { [RELAYER_KEY_ENV]: m.accounts.relayer.privateKey, [DVN_SIGNER_KEY_ENV]: m.accounts.dvnSigner.privateKey, [SECOND_DVN_SIGNER_KEY_ENV]: m.accounts.secondDvnSigner.privateKey };
    const raw: RawConfig = devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' });
    if (grace !== undefined)
      for (const feed of Object.values(raw.markets?.[MARKET]?.feeds ?? {})) if (feed.sequencerFeed !== undefined) feed.sequencerGraceSeconds = grace;
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify(raw));
    const config = parseConfig(raw);
    const service = new PriceService(config, (chain) => new ChainClient(chain, config.chains[chain] ?? assert.fail(`no chain ${chain}`)));
    return { file, service };
  }

  async function pricesJson(file: string): Promise<{ code: number | null; json: PricesJson }> {
    const r = await cli(['prices', MARKET, '-c', file, '--json'], keys);
    assert.equal(r.stderr, '');
    return { code: r.code, json: JSON.parse(r.stdout) as PricesJson };
  }

  it('all three chains at 3000: every chain in, the price 3000.00', async () => {
    const { file, service } = setup('agree');
    const p = await service.reconcile(MARKET);
    assert.ok(p.result.ok, JSON.stringify(p.result.excluded));
    assert.equal(p.result.median, 3_000n * WAD);

    const r = await cli(['prices', MARKET, '-c', file], keys);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^ETH-USD at block time \d+$/);
    assert.match(lines[1] ?? '', /^chain\s+price\s+age\s+sequencer\s+status$/);
    assert.match(lines[2] ?? '', /^arbitrum\s+3000\.00\s+\d+s\s+up\s+in$/);
    assert.match(lines[3] ?? '', /^optimism\s+3000\.00\s+\d+s\s+up\s+in$/);
    assert.match(lines[4] ?? '', /^base\s+3000\.00\s+\d+s\s+none\s+in$/);
    assert.equal(lines[5], 'median 3000.00  low 3000.00  high 3000.00  spread 0 bps  sources arbitrum, optimism, base');
    assert.equal(lines.length, 6);
  });

  it('one feed moved +30 %: that chain is out for deviation, the median comes from the other two', async () => {
    const m = devnet().manifest;
    const { file, service } = setup('moved');
    await setAnswer(m, 'optimism', usd(3_900n));

    const p = await service.reconcile(MARKET);
    assert.equal(p.readings.length, 3);
    assert.equal(p.readings.find((r) => r.chain === 'optimism')?.answer, usd(3_900n));
    assert.ok(p.result.ok);
    assert.deepEqual(excludedOf(p), [['optimism', 'deviation']]);
    assert.deepEqual(p.result.sources.map((s) => s.chain), ['arbitrum', 'base']);
    assert.equal(p.result.median, 3_000n * WAD);
    assert.equal(service.mark(MARKET), 3_000n * WAD);

    const r = await cli(['prices', MARKET, '-c', file], keys);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^arbitrum\s+3000\.00\s+\d+s\s+up\s+in$/m);
    assert.match(r.stdout, /^optimism\s+3900\.00\s+\d+s\s+up\s+out: deviation \(3900000000000000000000 is 3000 bps from the median 3000000000000000000000 \(max 200\)\)$/m);
    assert.match(r.stdout, /^base\s+3000\.00\s+\d+s\s+none\s+in$/m);
    assert.match(r.stdout, /^median 3000\.00 {2}low 3000\.00 {2}high 3000\.00 {2}spread 0 bps {2}sources arbitrum, base$/m);
    assert.doesNotMatch(r.stdout, /NO PRICE/);

    const { code, json } = await pricesJson(file);
    assert.equal(code, 0);
    assert.equal(json.market, MARKET);
    assert.match(json.now, /^\d+$/);
    assert.deepEqual(json.chains.map((c) => [c.chain, c.status, c.reason ?? null]), [['arbitrum', 'in', null], ['optimism', 'out', 'deviation'], ['base', 'in', null]]);
    const op = json.chains[1];
    assert.deepEqual([op?.price, op?.priceFormatted, op?.sequencer], ['3900000000000000000000', '3900.00', 'up']);
    assert.match(op?.ageSeconds ?? '', /^\d+$/);
    assert.equal(json.chains[2]?.sequencer, 'none');
    assert.deepEqual(
      { ok: json.result.ok, median: json.result.median, low: json.result.low, high: json.result.high, spreadBps: json.result.spreadBps },
      { ok: true, median: (3_000n * WAD).toString(), low: (3_000n * WAD).toString(), high: (3_000n * WAD).toString(), spreadBps: '0' },
    );
    assert.deepEqual(json.result.sources.map((s) => s.chain), ['arbitrum', 'base']);
    assert.deepEqual(json.result.excluded.map((e) => [e.chain, e.reason]), [['optimism', 'deviation']]);
  });

  it('a sequencer down: that chain is out, the price comes from the other two', async () => {
    const m = devnet().manifest;
    const { file, service } = setup('sequencer-down');
    await setSequencerDown(m, 'arbitrum', true);
    await setAnswer(m, 'base', usd(3_010n)); // so that the median visibly comes from optimism and base

    const p = await service.reconcile(MARKET);
    assert.ok(p.result.ok);
    assert.deepEqual(excludedOf(p), [['arbitrum', 'sequencer-down']]);
    assert.equal(p.result.median, 3_005n * WAD);
    assert.deepEqual([p.result.low, p.result.high], [3_000n * WAD, 3_010n * WAD]);
    assert.equal(p.result.spreadBps, 34n); // ceil(10 / 3005 · 1e4)

    const r = await cli(['prices', MARKET, '-c', file], keys);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^arbitrum\s+3000\.00\s+\d+s\s+down\s+out: sequencer-down \(down since \d+\)$/m);
    assert.match(r.stdout, /^optimism\s+3000\.00\s+\d+s\s+up\s+in$/m);
    assert.match(r.stdout, /^base\s+3010\.00\s+\d+s\s+none\s+in$/m);
    assert.match(r.stdout, /^median 3005\.00 {2}low 3000\.00 {2}high 3010\.00 {2}spread 34 bps {2}sources optimism, base$/m);

    const { code, json } = await pricesJson(file);
    assert.equal(code, 0);
    assert.deepEqual(json.chains.map((c) => [c.chain, c.sequencer, c.status, c.reason ?? null]), [
      ['arbitrum', 'down', 'out', 'sequencer-down'], ['optimism', 'up', 'in', null], ['base', 'none', 'in', null],
    ]);
    assert.equal(json.result.median, (3_005n * WAD).toString());
  });

  it('a sequencer down and a feed moved: NO PRICE, exit code 1, the mark unchanged', async () => {
    const m = devnet().manifest;
    const { file, service } = setup('no-price');
    await service.reconcile(MARKET);
    assert.equal(service.mark(MARKET), 3_000n * WAD);
    await setSequencerDown(m, 'arbitrum', true);
    await setAnswer(m, 'optimism', usd(3_900n));

    // optimism and base are 13 % from their median (3450): both dropped, fewer than 2 agree.
    const p = await service.reconcile(MARKET);
    assert.equal(p.result.ok, false);
    assert.equal(p.result.ok ? '' : p.result.reason, 'no-agreeing-quorum');
    assert.deepEqual(excludedOf(p), [['arbitrum', 'sequencer-down'], ['optimism', 'deviation'], ['base', 'deviation']]);
    assert.equal(service.mark(MARKET), 3_000n * WAD);

    const r = await cli(['prices', MARKET, '-c', file], keys);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^arbitrum\s+.*\s+down\s+out: sequencer-down /m);
    assert.match(r.stdout, /^optimism\s+3900\.00\s+\d+s\s+up\s+out: deviation /m);
    assert.match(r.stdout, /^base\s+3000\.00\s+\d+s\s+none\s+out: deviation /m);
    assert.match(r.stdout, /^NO PRICE: no-agreeing-quorum \(0 source\(s\) within 200 bps of the median 3450000000000000000000, quorum 2\)$/m);
    assert.doesNotMatch(r.stdout, /^median /m);

    const { code, json } = await pricesJson(file);
    assert.equal(code, 1);
    assert.equal(json.result.ok, false);
    assert.equal(json.result.reason, 'no-agreeing-quorum');
    assert.equal(json.result.median, undefined);
    assert.ok(json.chains.every((c) => c.status === 'out'));
  });

  it('a sequencer back up inside its grace period shows the seconds left and is out', async () => {
    const m = devnet().manifest;
    const { file } = setup('grace', 3_600);
    await setSequencerDown(m, 'optimism', true);
    await setSequencerDown(m, 'optimism', false);
    const r = await cli(['prices', MARKET, '-c', file], keys);
    const left = /^optimism\s+3000\.00\s+\d+s\s+grace (\d+)s\s+out: sequencer-grace \(up for (\d+) s, grace 3600 s\)$/m.exec(r.stdout);
    assert.ok(left !== null, r.stdout);
    assert.equal(Number(left[1]) + Number(left[2]), 3_600, 'seconds left + seconds up = the grace');
    assert.ok(Number(left[1]) > 3_500);
  });

  it('refuses an unknown market as a usage error (exit 2), naming the configured ones', async () => {
    const { file } = setup('unknown');
    const r = await cli(['prices', 'BTC-USD', '-c', file], keys);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^USAGE: unknown market "BTC-USD"\n {2}→ Markets in .*unknown\.yaml: ETH-USD\.$/m);
  });
});
