// `isorelay doctor` (runDoctor) on the shared devnet: the keeper's attesters against the
// attestation contract, every market's feeds and price, and one line — not a cascade of
// undecodable reads — for a contract that is not where the config says.
import assert from 'node:assert/strict';
import { ContractFactory, getAddress, Wallet } from 'ethers';
import pino from 'pino';
import { startAttester, type RunningAttester } from '../../relayer/app/attester.js';
import { runDoctor, type DoctorCheck, type DoctorReport } from '../../relayer/app/doctor.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import type { RawConfig } from '../../relayer/config/schema.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { attesterKeyEnv, DVN_SIGNER_KEY_ENV, RELAYER_KEY_ENV, SECOND_DVN_SIGNER_KEY_ENV } from '../../relayer/devnet/relayerConfig.js';
import { asAdmin, feedOf, minedOn, provider, testConfig, useSharedDevnet } from '../setup/devnet.js';
import { closedPort } from '../setup/cli.js';

function keysOf(m: DevnetManifest): Record<string, string> {
  return {
    [RELAYER_KEY_ENV]: m.accounts.relayer.privateKey,
    [DVN_SIGNER_KEY_ENV]: m.accounts.dvnSigner.privateKey,
    [SECOND_DVN_SIGNER_KEY_ENV]: m.accounts.secondDvnSigner.privateKey,
    [attesterKeyEnv(0)]: m.accounts.attesters[0]?.privateKey as string,
    [attesterKeyEnv(1)]: m.accounts.attesters[1]?.privateKey as string,
  };
}

const withKeeper = (raw: RawConfig) => {
  if (raw.keeper !== undefined) raw.keeper.enabled = true;
};

/** The one check of `group` named `name`; fails listing the group's checks when there is none. */
function check(r: DoctorReport, group: string, name: string): DoctorCheck {
  const found = r.checks.filter((c) => c.group === group && c.name === name);
  assert.equal(found.length, 1, `one "${name}" in ${group}; it has: ${r.checks.filter((c) => c.group === group).map((c) => c.name).join(' | ')}`);
  return found[0] as DoctorCheck;
}

const failures = (r: DoctorReport) => r.checks.filter((c) => c.severity === 'fail');
const show = (cs: DoctorCheck[]) => cs.map((c) => `${c.group}: ${c.name}: ${c.detail}`).join('\n');

describe('doctor: attesters, markets and feeds, no cascades', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();

  describe('attesters', function () {
    let remote: RunningAttester | undefined;
    afterEach(async () => {
      await remote?.close();
      remote = undefined;
    });

    it("passes the keeper's attester keys and a remote attester that the contract knows, with its threshold", async () => {
      const m = devnet().manifest;
      const base = testConfig(m, withKeeper);
      remote = await startAttester({ config: base, key: new Wallet(m.accounts.attesters[2]?.privateKey as string), port: 0, logger: pino({ level: 'silent' }) });
      const url = remote.url;
      const r = await runDoctor(testConfig(m, (raw) => {
        withKeeper(raw);
        if (raw.keeper !== undefined) raw.keeper.remoteAttesters = [{ url }];
      }), keysOf(m));
      assert.deepEqual(failures(r), [], show(failures(r)));
      assert.match(check(r, 'base', 'attestation contract the engine verifies with').detail, new RegExp(m.chains.base?.contracts.attestations as string));
      assert.equal(check(r, 'base', 'attester 1 key is an attester of the contract').detail, m.accounts.attesters[0]?.address);
      assert.equal(check(r, 'base', `remote attester ${url} is an attester of the contract`).detail, m.accounts.attesters[2]?.address);
      assert.equal(check(r, 'base', 'attesters reach the threshold').detail, "3 configured attester(s) in the contract's set, 2 signature(s) needed per liquidation");
      assert.match(check(r, 'keys', 'every role has its own key').detail, /^5 keys$/);
    });

    it('checks that the keeper may post σ to the engine: its volUpdater is the relayer key', async () => {
      const m = devnet().manifest;
      const ok = await runDoctor(testConfig(m, withKeeper), keysOf(m));
      assert.equal(check(ok, 'base', 'the keeper may post σ (ETH-USD)').detail, `the engine's volUpdater is the relayer key ${m.accounts.relayer.address}`);
      await asAdmin(m, 'setVolUpdater', [m.accounts.deployer.address]);
      try {
        const wrong = check(await runDoctor(testConfig(m, withKeeper), keysOf(m)), 'base', 'the keeper may post σ (ETH-USD)');
        assert.equal(wrong.severity, 'fail');
        assert.match(wrong.detail, /^the engine's volUpdater is 0x[0-9a-fA-F]{40}, not the relayer key .*every σ the keeper posts is refused/);
      } finally {
        await asAdmin(m, 'setVolUpdater', [m.accounts.relayer.address]);
      }
      const off = await runDoctor(testConfig(m, (raw) => {
        withKeeper(raw);
        if (raw.keeper !== undefined) raw.keeper.volatility = { enabled: false };
      }), keysOf(m));
      assert.equal(off.checks.filter((c) => c.name.startsWith('the keeper may post σ')).length, 0, 'not asked when the keeper posts no σ');
    });

    it('fails a key the contract does not know, a remote attester that does not answer, and a threshold they leave unreached', async () => {
      const m = devnet().manifest;
      const stranger = Wallet.createRandom();
      const port = await closedPort();
      const r = await runDoctor(testConfig(m, (raw) => {
        withKeeper(raw);
        if (raw.keeper !== undefined) raw.keeper.remoteAttesters = [{ url: `http://127.0.0.1:${port}` }];
      }), { ...keysOf(m), [attesterKeyEnv(1)]: stranger.privateKey });
      assert.equal(check(r, 'base', 'attester 1 key is an attester of the contract').severity, 'ok');
      const unknown = check(r, 'base', 'attester 2 key is an attester of the contract');
      assert.equal(unknown.severity, 'fail');
      assert.match(unknown.detail, new RegExp(`${stranger.address} is not in the attester set of 0x[0-9a-fA-F]{40}: its signatures are left out`));
      const down = check(r, 'base', `remote attester http://127.0.0.1:${port} answers`);
      assert.equal(down.severity, 'fail');
      assert.match(down.detail, /^no answer: .*the keeper gets no signature from it$/);
      const threshold = check(r, 'base', 'attesters reach the threshold');
      assert.equal(threshold.severity, 'fail');
      assert.equal(threshold.detail, "1 configured attester(s) in the contract's set, 2 signature(s) needed: no liquidation can pass");
    });

    it('leaves attesters alone when the keeper is off (their keys need not be set)', async () => {
      const m = devnet().manifest;
      const { [attesterKeyEnv(0)]: _a, [attesterKeyEnv(1)]: _b, ...noAttesters } = keysOf(m);
      const r = await runDoctor(testConfig(m), noAttesters);
      assert.deepEqual(failures(r), [], show(failures(r)));
      assert.equal(r.checks.filter((c) => /attester/.test(c.name)).length, 0);
    });
  });

  describe('markets and feeds', function () {
    it('reads every configured feed and reconciles each market; every engine trades it on its own feed', async () => {
      const m = devnet().manifest;
      const r = await runDoctor(testConfig(m), keysOf(m));
      assert.deepEqual(failures(r), [], show(failures(r)));
      for (const chain of ['arbitrum', 'optimism', 'base'])
        assert.match(check(r, chain, 'ETH-USD feed').detail, /^\d+\.\d+ \(8 decimals\), updated \d+ s ago, heartbeat 3600 s$/, chain);
      assert.match(check(r, 'markets', 'ETH-USD reconciles to a price').detail, /^median \d+\.\d+ from 3 of 3 chains \(quorum 2\), spread 0 bps$/);
      assert.equal(check(r, 'base', 'engine trades ETH-USD').detail, `on its own feed ${m.chains.base?.contracts.ethUsdFeed}`);
    });

    it('warns about a stale feed while the market still has a price from the others', async () => {
      const m = devnet().manifest;
      const now = BigInt((await provider(m, 'arbitrum').getBlock('latest'))?.timestamp ?? 0);
      await minedOn(m, 'arbitrum', feedOf(m, 'arbitrum', 'price').getFunction('setRound').send(1000n, 3_000n * 10n ** 8n, now - 7200n, now - 7200n, 1000n));
      const r = await runDoctor(testConfig(m), keysOf(m));
      const stale = check(r, 'arbitrum', 'ETH-USD feed');
      assert.equal(stale.severity, 'warn');
      // The latest block's time may trail the time the next block is mined at: at least 7200 s.
      const age = Number(/updated (\d+) s ago, heartbeat 3600 s: left out of the price, stale: /.exec(stale.detail)?.[1] ?? NaN);
      assert.ok(age >= 7200 && age < 7200 + 3600, stale.detail);
      assert.match(check(r, 'markets', 'ETH-USD reconciles to a price').detail, /from 2 of 3 chains/);
    });

    it('fails a feed address without a contract, a feed with insane decimals, and a market left without a price', async () => {
      const m = devnet().manifest;
      const deployer = new Wallet(m.accounts.deployer.privateKey, provider(m, 'optimism'));
      const art = ourArtifact('DevnetAggregator');
      const wholeUnits = await new ContractFactory(art.abi, art.bytecode, deployer).deploy(0, 'ETH / USD', 3_000n, 1n, 10n ** 9n);
      await wholeUnits.waitForDeployment();
      const zeroDecimals = await wholeUnits.getAddress();
      const nowhere = getAddress('0x000000000000000000000000000000000000feed');
      const r = await runDoctor(testConfig(m, (raw) => {
        const feeds = raw.markets?.['ETH-USD']?.feeds;
        if (feeds?.base === undefined || feeds.optimism === undefined) throw new Error('no feeds');
        feeds.base.aggregator = nowhere;
        feeds.optimism.aggregator = zeroDecimals;
      }), keysOf(m));
      const missing = check(r, 'base', 'ETH-USD feed');
      assert.equal(missing.severity, 'fail');
      assert.match(missing.detail, new RegExp(`^${nowhere}: no contract at feed address ${nowhere}`, 'i'));
      const insane = check(r, 'optimism', 'ETH-USD feed');
      assert.equal(insane.severity, 'fail');
      assert.match(insane.detail, /has 0 decimals: not a price feed's/);
      // Normalised, the whole-unit answer agrees with arbitrum's: the price stands, the feed is still wrong.
      assert.match(check(r, 'markets', 'ETH-USD reconciles to a price').detail, /from 2 of 3 chains/);

      const none = await runDoctor(testConfig(m, (raw) => {
        for (const feed of Object.values(raw.markets?.['ETH-USD']?.feeds ?? {})) feed.aggregator = nowhere;
      }), keysOf(m));
      const market = check(none, 'markets', 'ETH-USD reconciles to a price');
      assert.equal(market.severity, 'fail');
      assert.match(market.detail, /^no price \(no-quorum\): 0 fresh source\(s\), quorum 2; the keeper cannot liquidate in ETH-USD$/);
      assert.match(check(r, 'base', 'engine trades ETH-USD').detail, /the engine checks prices against feed 0x[0-9a-fA-F]{40}, the config reads 0x0+fEEd on base/i);
    });
  });

  describe('no cascades', function () {
    it('reports a contract that is not there once, and counts the checks that would have read it instead of failing each', async () => {
      const m = devnet().manifest;
      const vault = '0x000000000000000000000000000000000000dEaD';
      const engine = '0x000000000000000000000000000000000000bEEF';
      const r = await runDoctor(testConfig(m, (raw) => {
        if (raw.chains.arbitrum !== undefined) raw.chains.arbitrum.vault = vault;
        if (raw.chains.base !== undefined) raw.chains.base.engine = engine;
      }), keysOf(m));
      const failed = failures(r);
      assert.ok(failed.length > 0 && failed.length <= 6, show(failed));
      assert.equal(failed.filter((c) => /BAD_DATA|could not decode/.test(c.detail)).length, 0, show(failed));
      assert.equal(check(r, 'arbitrum', 'vault has code').detail, `no contract at ${vault}: wrong address or wrong chain`);
      assert.equal(check(r, 'base', 'engine has code').detail, `no contract at ${engine}: wrong address or wrong chain`);
      assert.match(check(r, 'arbitrum', `checks that read the vault at ${vault}`).detail, /^\d+ skipped: there is no contract at that address \(see "vault has code" under arbitrum\)$/);
      assert.match(check(r, 'base', `checks that read the engine at ${engine}`).detail, /^\d+ skipped/);
      assert.match(check(r, 'optimism', `checks that read the engine at ${engine} on base`).detail, /^\d+ skipped/);
    });

    it('says a contract that answers nothing is not the one the config names, instead of BAD_DATA', async () => {
      const m = devnet().manifest;
      const usdc = m.chains.arbitrum?.contracts.usdc as string;
      const r = await runDoctor(testConfig(m, (raw) => {
        if (raw.chains.arbitrum !== undefined) raw.chains.arbitrum.vault = usdc;
      }), keysOf(m));
      const failed = failures(r);
      assert.equal(failed.filter((c) => /BAD_DATA|could not decode/.test(c.detail)).length, 0, show(failed));
      assert.match(check(r, 'arbitrum', "vault's peer for base (eid 30184) is the engine [route arbitrum-base]").detail, new RegExp(`^${usdc} on arbitrum reverted on peers\\(\\) without a reason: it has no such function, so it is not the contract the config says it is$`));
    });
  });
});
