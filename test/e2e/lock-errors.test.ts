// A lock that cannot succeed says why before anything is sent, in token units; a revert the checks
// could not foresee is decoded from the ABIs, never shown as a raw CALL_EXCEPTION; `isorelay lock`
// prints the same sentences and its own words for a missing trader key.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, Wallet } from 'ethers';
import { stringify } from 'yaml';
import { describeRevert, lockCollateral, revertDataOf, type LockRequest } from '../../relayer/app/trader.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { devnetRelayerConfig } from '../../relayer/devnet/relayerConfig.js';
import { isIsorelayError, type IsorelayError } from '../../relayer/errors/base.js';
import { cli } from '../setup/cli.js';
import { minedOn, nonceOf, provider, trader, useSharedDevnet } from '../setup/devnet.js';

const usdc = (whole: bigint) => whole * 10n ** 6n;

/** The vault of a source chain, as its owner (the deployer) drives it. */
function vaultAsOwner(m: DevnetManifest, chain: string): Contract {
  return new Contract(m.chains[chain]?.contracts.vault as string, ourArtifact('CollateralVault').abi, new Wallet(m.accounts.deployer.privateKey, provider(m, chain)));
}

function request(m: DevnetManifest, chain: string, amount: bigint, who: Wallet = trader(m, chain)): LockRequest {
  const c = m.chains[chain];
  return { trader: who, vault: c?.contracts.vault as string, token: c?.contracts.usdc as string, amount, dstChainId: 8453n, positionId: 1n, chain };
}

async function refusal(p: Promise<unknown>): Promise<IsorelayError> {
  try {
    await p;
  } catch (e) {
    if (isIsorelayError(e, 'TX_REVERTED')) return e;
    throw e;
  }
  throw new Error('the lock went through');
}

describe('lock errors a trader can act on', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();

  it('refuses a lock above the balance before sending anything, in token units read from the token', async () => {
    const m = devnet().manifest;
    const t = trader(m, 'arbitrum');
    const nonce = await nonceOf(m, 'arbitrum', t.address);
    const e = await refusal(lockCollateral(request(m, 'arbitrum', usdc(999_999_999n))));
    assert.equal(e.message, 'the lock would revert, nothing was sent: you have 1,000,000 USDC on arbitrum, the lock needs 999,999,999 USDC');
    assert.match(e.guidance.join('\n'), new RegExp(`Trader ${t.address}`));
    assert.equal(await nonceOf(m, 'arbitrum', t.address), nonce, 'no approval and no lock was sent');
  });

  it('names every reason at once: a paused vault, a per-lock cap, the balance', async () => {
    const m = devnet().manifest;
    const vault = vaultAsOwner(m, 'arbitrum');
    await minedOn(m, 'arbitrum', vault.getFunction('setPaused').send(true));
    await minedOn(m, 'arbitrum', vault.getFunction('setMaxLock').send(m.chains.arbitrum?.contracts.usdc, usdc(10n)));
    const e = await refusal(lockCollateral({ ...request(m, 'arbitrum', usdc(2_000_000n)), units: { decimals: 6, symbol: 'USDC' } }));
    assert.match(e.message, /nothing was sent: the vault on arbitrum is paused: it refuses every lock until its owner unpauses it$/);
    assert.deepEqual(e.guidance.slice(0, 2), [
      'Also: the vault takes at most 10 USDC per lock, this lock is 2,000,000 USDC.',
      'Also: you have 1,000,000 USDC on arbitrum, the lock needs 2,000,000 USDC.',
    ]);
  });

  it('says the route is not enabled when the fee quote reverts', async () => {
    const m = devnet().manifest;
    const e = await refusal(lockCollateral({ ...request(m, 'arbitrum', usdc(1n)), dstChainId: 999n }));
    assert.match(e.message, /the vault on arbitrum has no enabled route to chain id 999/);
  });

  it('says a trader without native token cannot pay the fee and gas, before or at the send', async () => {
    const m = devnet().manifest;
    for (const chain of ['arbitrum', 'optimism']) {
      const poor = Wallet.createRandom(provider(m, chain));
      const usdcOn = new Contract(m.chains[chain]?.contracts.usdc as string, ourArtifact('TestToken').abi, trader(m, chain));
      await minedOn(m, chain, usdcOn.getFunction('transfer').send(poor.address, usdc(100n)));
      const e = await refusal(lockCollateral(request(m, chain, usdc(100n), new Wallet(poor.privateKey, provider(m, chain)))));
      // LayerZero (arbitrum) quotes a fee the checks compare; Wormhole's devnet fee is 0, so the node refuses the approval's gas.
      assert.match(
        e.message,
        chain === 'arbitrum' ? /you have 0 native token on arbitrum, the lock's messaging fee is 0\.\d+ \(and gas on top\)/ : /the approval of the vault was not sent: you do not have enough native token on optimism/,
        chain,
      );
    }
  });

  it('says the token or the vault is not there instead of BAD_DATA', async () => {
    const m = devnet().manifest;
    const nowhere = Wallet.createRandom().address;
    for (const wrong of [{ token: nowhere }, { vault: nowhere }]) {
      const e = await refusal(lockCollateral({ ...request(m, 'arbitrum', usdc(1n)), ...wrong }));
      assert.match(e.message, /^nothing was sent: the vault 0x[0-9a-fA-F]{40} or the token 0x[0-9a-fA-F]{40} answered nothing to a view call/, JSON.stringify(wrong));
    }
  });

  it("decodes the reverts ethers throws with the token's OpenZeppelin errors and the vault's own", async () => {
    const m = devnet().manifest;
    const c = m.chains.arbitrum;
    const fresh = Wallet.createRandom(provider(m, 'arbitrum'));
    const vault = new Contract(c?.contracts.vault as string, ourArtifact('CollateralVault').abi, provider(m, 'arbitrum'));
    const ctx = { units: { decimals: 6, symbol: 'USDC' }, chain: 'arbitrum', token: c?.contracts.usdc as string, vault: c?.contracts.vault as string, trader: fresh.address };
    // An account that never approved the vault: the transferFrom inside lock() reverts in the token.
    const thrown = await vault.getFunction('lock').staticCall(ctx.token, usdc(5n), 8453n, 1n, { from: fresh.address }).then(
      () => assert.fail('the lock was expected to revert'),
      (e: unknown) => e,
    );
    assert.equal((thrown as { code?: string }).code, 'CALL_EXCEPTION');
    assert.equal(describeRevert(revertDataOf(thrown), ctx), `the vault may spend 0 USDC of yours, the lock needs 5 USDC: approve the vault ${ctx.vault} for at least that much`);
    await minedOn(m, 'arbitrum', vaultAsOwner(m, 'arbitrum').getFunction('setPaused').send(true));
    const paused = await vault.getFunction('lock').staticCall(ctx.token, usdc(5n), 8453n, 1n, { from: fresh.address }).catch((e: unknown) => e);
    assert.equal(describeRevert(revertDataOf(paused), ctx), 'the vault on arbitrum is paused: it refuses every lock until its owner unpauses it');
  });

  describe('isorelay lock', function () {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'isorelay-lock-'));
    });
    after(() => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('prints the balance in token units, a bad checksum as such, and how to set the trader key', async () => {
      const m = devnet().manifest;
      const file = join(dir, 'relayer.yaml');
      writeFileSync(file, stringify(devnetRelayerConfig(m, { sqlite: join(dir, 'relayer.sqlite'), logLevel: 'silent' })));
      const token = m.chains.arbitrum?.contracts.usdc as string;
      const args = ['lock', '-c', file, '--chain', 'arbitrum', '--position', '1'];
      const key = { ISORELAY_TRADER_KEY: m.accounts.traders[0]?.privateKey as string };
      const [tooMuch, noKey, typo] = await Promise.all([
        cli([...args, '--token', token, '--amount', '999999999'], key),
        cli([...args, '--token', token, '--amount', '1'], {}),
        cli([...args, '--token', token.replace(/[a-f]/, (x) => x.toUpperCase()), '--amount', '1'], key),
      ]);
      assert.equal(tooMuch.code, 1, tooMuch.stderr);
      assert.match(tooMuch.stderr, /^TX_REVERTED: the lock would revert, nothing was sent: you have 1,000,000 USDC on arbitrum, the lock needs 999,999,999 USDC$/m);
      assert.doesNotMatch(tooMuch.stderr, /CALL_EXCEPTION/);

      assert.equal(noKey.code, 1, noKey.stderr);
      assert.match(noKey.stderr, /SECRET_MISSING: the trader key is not set: environment variable ISORELAY_TRADER_KEY is empty/);
      assert.match(noKey.stderr, /--key-env/);
      assert.doesNotMatch(noKey.stderr, /starting the relayer/);

      assert.equal(typo.code, 2, typo.stderr);
      assert.match(typo.stderr, /has a bad checksum/);
      assert.doesNotMatch(typo.stderr, /not an (EVM )?address/);
    });
  });
});
