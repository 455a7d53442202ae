// `isorelay start` logs JSON unless asked for pretty lines (--log-format pretty or
// $ISORELAY_LOG_FORMAT): then every line is readable, the pipeline's events included, uncoloured
// on a pipe, and no key is printed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { devnetRelayerConfig, DVN_SIGNER_KEY_ENV, RELAYER_KEY_ENV, SECOND_DVN_SIGNER_KEY_ENV } from '../../relayer/devnet/relayerConfig.js';
import { cli, spawnCli } from '../setup/cli.js';
import { lock, useSharedDevnet } from '../setup/devnet.js';

const PRETTY_LINE = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /;

describe('isorelay start: pretty logs on request', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  let dir: string;
  let keys: Record<string, string>;

  beforeEach(() => {
    const m = devnet().manifest;
    dir = mkdtempSync(join(tmpdir(), 'isorelay-logs-'));
    writeFileSync(join(dir, 'relayer.yaml'), stringify(devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), opsPort: 0, logLevel: 'info' })));
    keys = {
      [RELAYER_KEY_ENV]: m.accounts.relayer.privateKey,
      [DVN_SIGNER_KEY_ENV]: m.accounts.dvnSigner.privateKey,
      [SECOND_DVN_SIGNER_KEY_ENV]: m.accounts.secondDvnSigner.privateKey,
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints readable lines with --log-format pretty, a delivery included, and never a key', async () => {
    const daemon = spawnCli(['start', '-c', join(dir, 'relayer.yaml'), '--log-format', 'pretty'], keys);
    try {
      await daemon.waitFor(/ INFO  isorelay started {2}routes=\["arbitrum-base",/);
      const l = await lock(devnet().manifest, 'arbitrum');
      const out = await daemon.waitFor(/\[message\.moved\] message submitted → delivered {2}.*route=arbitrum-base/);
      const lines = out.split('\n').filter((x) => x !== '');
      assert.ok(lines.length >= 3, out);
      for (const line of lines) assert.match(line, PRETTY_LINE, `not a pretty line: ${line}`);
      assert.match(out, new RegExp(`\\[message\\.observed\\] message observed {2}route=arbitrum-base id=\\S+ lockId=${l.lockId}`));
      assert.doesNotMatch(out, /\x1b\[/, 'no colour on a pipe');
      for (const key of Object.values(keys)) assert.ok(!out.includes(key.slice(2)), 'no key in the logs');
    } finally {
      assert.equal(await daemon.stop(), 0, daemon.output().stderr);
    }
    assert.match(daemon.output().stdout, / INFO  isorelay stopped\n$/);
  });

  it(`prints readable lines when ISORELAY_LOG_FORMAT=pretty, and JSON without it`, async () => {
    const pretty = spawnCli(['start', '-c', join(dir, 'relayer.yaml')], { ...keys, ISORELAY_LOG_FORMAT: 'pretty' });
    try {
      await pretty.waitFor(/ INFO  isorelay started /);
    } finally {
      await pretty.stop();
    }
    const json = spawnCli(['start', '-c', join(dir, 'relayer.yaml')], keys);
    try {
      const out = await json.waitFor(/"msg":"isorelay started"/);
      for (const line of out.split('\n').filter((x) => x !== '')) assert.doesNotThrow(() => JSON.parse(line) as unknown, line);
    } finally {
      await json.stop();
    }
  });

  it('refuses an unknown format before it starts', async () => {
    const flag = await cli(['start', '-c', join(dir, 'relayer.yaml'), '--log-format', 'yaml'], keys);
    assert.equal(flag.code, 1, 'commander refuses the choice');
    assert.match(flag.stderr, /option '--log-format <format>' argument 'yaml' is invalid\. Allowed choices are json, pretty/);
    const env = await cli(['start', '-c', join(dir, 'relayer.yaml')], { ...keys, ISORELAY_LOG_FORMAT: 'yaml' });
    assert.equal(env.code, 2, env.stderr);
    assert.match(env.stderr, /USAGE: ISORELAY_LOG_FORMAT=yaml is not a log format: use json or pretty/);
    assert.equal(env.stdout, '', 'nothing started');
  });
});
