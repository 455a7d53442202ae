// lock --wait's waiting, against a scripted destination: it polls until processed(lockId), gives
// up at the timeout (keeping the last RPC failure), stops at once on an error that is not passing,
// and the lock's output names the transport's id for what it is.
import assert from 'node:assert/strict';
import { Interface, keccak256, solidityPacked } from 'ethers';
import { creditJson, formatLock, lockJson, transportIdOf, type LockSummary } from '../../relayer/app/lockReport.js';
import type { LockResult } from '../../relayer/app/trader.js';
import { waitForCredit, type CreditWait } from '../../relayer/app/waitForCredit.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const LOCK_ID = `0x${'ab'.repeat(32)}`;
const answer = (processed: boolean) => engineIface.encodeFunctionResult('processed', [processed]);

/** A destination whose processed(lockId) answers are scripted, on a clock that each sleep moves. */
function scripted(answers: (boolean | Error)[], o: Partial<CreditWait> = {}): { wait: CreditWait; waited: number[] } {
  let t = 0;
  const waited: number[] = [];
  const destination: CreditWait['destination'] = {
    call: () => {
      const next = answers.shift() ?? false;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(answer(next));
    },
    blockNumber: () => Promise.resolve(10n),
    logsWithBounds: () => Promise.reject(new Error('not scripted')),
    receipt: () => Promise.resolve(null),
  };
  const wait: CreditWait = {
    destination, engine: `0x${'11'.repeat(20)}`, lockId: LOCK_ID, fromBlock: 1n, sinceMs: 0, timeoutMs: 5_000, pollMs: 1_000,
    onWaiting: (ms) => waited.push(ms), now: () => t, sleep: (ms) => { t += ms; return Promise.resolve(); }, ...o,
  };
  return { wait, waited };
}

describe('app/waitForCredit', function () {
  it('polls every pollMs, reports the time waited, and times out at timeoutMs', async function () {
    const { wait, waited } = scripted([]);
    const r = await waitForCredit(wait);
    assert.deepEqual(r, { kind: 'timeout', elapsedMs: 5_000 });
    assert.deepEqual(waited, [0, 1_000, 2_000, 3_000, 4_000]);
  });

  it('keeps asking through a node that does not answer, and names its last failure at the timeout', async function () {
    const down = new IsorelayError(ErrorCode.RPC_UNREACHABLE, 'base is unreachable');
    const { wait } = scripted([down, false, down, down, down, down, down], { timeoutMs: 3_000 });
    assert.deepEqual(await waitForCredit(wait), { kind: 'timeout', elapsedMs: 3_000, lastError: 'RPC_UNREACHABLE: base is unreachable' });
  });

  it('stops at once on an error that will not pass', async function () {
    const { wait } = scripted([new IsorelayError(ErrorCode.RPC_CHAIN_ID_MISMATCH, 'another chain')]);
    await assert.rejects(waitForCredit(wait), /another chain/);
  });

  it('says processed when the credit log is not found from the block it started at', async function () {
    const { wait } = scripted([false, true]);
    wait.destination.logsWithBounds = () => Promise.resolve({ logs: [], before: null, last: { number: 10n, hash: '0x', parentHash: '0x', timestamp: 0, baseFeePerGas: null } });
    assert.deepEqual(await waitForCredit(wait), { kind: 'processed', elapsedMs: 1_000 });
  });
});

describe('app/lockReport', function () {
  const result: LockResult = { lockId: LOCK_ID, nonce: 3n, transportId: `0x${'cd'.repeat(32)}`, txHash: `0x${'ef'.repeat(32)}`, blockNumber: 12n, fee: 10n ** 15n, minedAtMs: 0 };
  const vault = '0xf5059a5D33d5853360D16C683c16e67980206f36';
  const summary = (r: LockResult, wormholeChain?: number): LockSummary => ({
    source: 'arbitrum', destination: 'base', trader: `0x${'22'.repeat(20)}`, token: `0x${'33'.repeat(20)}`, symbol: 'USDC', decimals: 6,
    amount: 2_500_000_000n, amountText: '2500', positionId: 7n, result: r, id: transportIdOf(r, vault, wormholeChain),
  });

  it('names a LayerZero guid as one', function () {
    const s = summary(result);
    assert.match(formatLock(s), new RegExp(`^ {2}LayerZero guid {3}${result.transportId}$`, 'm'));
    assert.deepEqual([lockJson(s).transport, lockJson(s).transportIdType, lockJson(s).transportId], ['layerzero', 'layerzero-guid', result.transportId]);
  });

  it('names a Wormhole VAA id with the chain, emitter and sequence it hashes', function () {
    const emitter = vault.slice(2).toLowerCase().padStart(64, '0');
    const id = keccak256(solidityPacked(['uint16', 'bytes32', 'uint64'], [24, `0x${emitter}`, 5n]));
    const s = summary({ ...result, transportId: id, wormholeSequence: 5n }, 24);
    assert.match(formatLock(s), new RegExp(`^ {2}Wormhole VAA id {2}${id} \\(chain 24, emitter ${emitter}, sequence 5\\)$`, 'm'));
    assert.doesNotMatch(formatLock(s), /LayerZero/);
    const json = lockJson(s);
    assert.deepEqual([json.transport, json.transportIdType, json.transportId, json.wormhole], ['wormhole', 'wormhole-vaa-id', id, { chain: 24, emitter, sequence: 5n }]);
  });

  it('gives the credit as JSON with its status and where it landed', function () {
    assert.deepEqual(creditJson({ kind: 'timeout', elapsedMs: 5 }), { status: 'timeout', elapsedMs: 5 });
    assert.deepEqual(
      creditJson({ kind: 'refunded', reason: 'token_not_accepted', token: '0x1', amount: 2n, at: { tx: '0xt', block: 9n }, elapsedMs: 1 }),
      { status: 'refunded', reason: 'token_not_accepted', token: '0x1', amount: 2n, elapsedMs: 1, tx: '0xt', block: 9n },
    );
  });
});
