// A trader's errors in words: amounts in token units, every revert of a lock decoded from the
// vault's, the token's or the endpoint's ABI, and an address with a bad checksum called that.
import assert from 'node:assert/strict';
import { AbiCoder, Interface, getAddress } from 'ethers';
import { describeRevert, formatTokenAmount, revertDataOf, type LockContext } from '../../relayer/app/trader.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { addressArg } from '../../relayer/cli/commands/lock.js';
import { isIsorelayError } from '../../relayer/errors/base.js';

const vault = new Interface(ourArtifact('CollateralVault').abi);
const token = new Interface(ourArtifact('TestToken').abi);
const TRADER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const USDC = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const ctx: LockContext = { units: { decimals: 6, symbol: 'USDC' }, chain: 'arbitrum', token: USDC, vault: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512', trader: TRADER };
const usdc = (whole: bigint) => whole * 10n ** 6n;

describe('trader errors', function () {
  describe('formatTokenAmount', function () {
    it('writes whole amounts with thousands separators and fractions without trailing zeros', function () {
      assert.equal(formatTokenAmount(usdc(2_500n), 6), '2,500');
      assert.equal(formatTokenAmount(usdc(999_999_999n), 6), '999,999,999');
      assert.equal(formatTokenAmount(1_500_000n, 6), '1.5');
      assert.equal(formatTokenAmount(1n, 6), '0.000001');
      assert.equal(formatTokenAmount(0n, 18), '0');
      assert.equal(formatTokenAmount(1_234_567_890_123_456_789_000n, 18), '1,234.567890123456789');
      assert.equal(formatTokenAmount(-usdc(1_000n), 6), '-1,000');
      assert.equal(formatTokenAmount(123n, 0), '123');
    });
  });

  describe('describeRevert', function () {
    it("says what the token's OpenZeppelin errors mean, in token units", function () {
      const balance = token.encodeErrorResult('ERC20InsufficientBalance', [TRADER, usdc(2_500n), usdc(999_999_999n)]);
      assert.equal(describeRevert(balance, ctx), 'you have 2,500 USDC on arbitrum, the lock needs 999,999,999 USDC');
      const allowance = token.encodeErrorResult('ERC20InsufficientAllowance', [ctx.vault, 0n, usdc(10n)]);
      assert.match(describeRevert(allowance, ctx), /^the vault may spend 0 USDC of yours, the lock needs 10 USDC: approve the vault 0x/);
    });

    it("says what the vault's own errors mean", function () {
      const cases: [string, unknown[], RegExp][] = [
        ['Paused', [], /^the vault on arbitrum is paused/],
        ['TokenNotAllowed', [USDC], /does not take USDC \(0x5FbDB/],
        ['LockAboveCap', [USDC, usdc(20n), usdc(10n)], /^the vault takes at most 10 USDC per lock, this lock is 20 USDC$/],
        ['LockBelowMinimum', [USDC, 1n, usdc(1n)], /^the vault takes at least 1 USDC per lock, this lock is 0\.000001 USDC$/],
        ['RouteDisabled', [8453n], /no enabled route to chain id 8453/],
        ['InsufficientFee', [1n, 2n], /paid 1 wei of messaging fee, it needs 2 wei/],
        ['FeeOnTransferToken', [USDC, usdc(10n), usdc(9n)], /takes a fee on transfer \(the vault received 9 USDC of 10 USDC\)/],
        ['ZeroLockAmount', [], /the amount is 0/],
      ];
      for (const [name, args, sentence] of cases) assert.match(describeRevert(vault.encodeErrorResult(name, args), ctx), sentence, name);
    });

    it('names any other custom error of the ABIs with its arguments, and says when none knows the data', function () {
      assert.equal(describeRevert(vault.encodeErrorResult('OwnableUnauthorizedAccount', [TRADER]), ctx), `the lock reverted with OwnableUnauthorizedAccount(${TRADER})`);
      assert.match(describeRevert('0xdeadbeef', ctx), /none of the vault's, the token's or the endpoint's ABIs know \(selector 0xdeadbeef\)/);
      assert.equal(describeRevert(null, ctx), 'the lock reverted without a reason');
    });

    it('decodes Error(string) and Panic(uint256)', function () {
      const coder = AbiCoder.defaultAbiCoder();
      assert.equal(describeRevert(`0x08c379a0${coder.encode(['string'], ['no way']).slice(2)}`, ctx), 'the lock reverted: "no way"');
      assert.equal(describeRevert(`0x4e487b71${coder.encode(['uint256'], [0x11]).slice(2)}`, ctx), 'the lock panicked with an arithmetic overflow');
    });
  });

  describe('revertDataOf', function () {
    it('finds the revert data where ethers and nodes nest it', function () {
      assert.equal(revertDataOf({ code: 'CALL_EXCEPTION', data: '0x12345678' }), '0x12345678');
      assert.equal(revertDataOf({ info: { error: { code: 3, data: '0x12345678aa' } } }), '0x12345678aa');
      assert.equal(revertDataOf({ error: { error: { data: '0xabcdef0102' } } }), '0xabcdef0102');
      assert.equal(revertDataOf(new Error('socket hang up')), null);
      assert.equal(revertDataOf({ data: 'not hex' }), null);
    });
  });

  describe('addressArg', function () {
    const usage = (pattern: RegExp) => (e: unknown) => isIsorelayError(e, 'USAGE') && pattern.test(e.message);

    it('takes a checksummed or all-lowercase address and returns it checksummed', function () {
      assert.equal(addressArg('--token', USDC), USDC);
      assert.equal(addressArg('--token', USDC.toLowerCase()), getAddress(USDC));
    });

    it('calls a wrong checksum a bad checksum, not "not an address"', function () {
      const typo = USDC.replace('FbDB', 'fbDB');
      assert.throws(() => addressArg('--token', typo), usage(/has a bad checksum/));
    });

    it('calls anything else not an address', function () {
      for (const bad of ['0x1234', 'usdc', `${USDC}00`]) assert.throws(() => addressArg('--token', bad), usage(/is not an address \(0x followed by 40 hex digits\)/), bad);
    });
  });
});
