// The Solidity codec (contracts/libraries/MarginMessages.sol through contracts/test/CodecHarness.sol)
// against test/vectors/messages.json, on one anvil: the same file the TypeScript codec is tested on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Interface, isError } from 'ethers';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { vectorsPath, type Vectors } from '../../scripts/gen-vectors.js';
import { useHarness } from '../setup/harness.js';

const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as Vectors;
const FIELDS = [
  'version', 'kind', 'originChainId', 'origin', 'nonce', 'trader', 'positionId', 'token', 'amount',
  'targetChainId', 'target', 'market', 'price',
] as const;

/** Whatever `call` throws, as the harness's custom error (name and arguments), or a failure. */
async function revertOf(iface: Interface, call: Promise<unknown>): Promise<{ name: string; args: string[] }> {
  try {
    await call;
  } catch (e) {
    assert.ok(isError(e, 'CALL_EXCEPTION'), `expected a revert, got ${String(e)}`);
    assert.ok(typeof e.data === 'string' && e.data.length >= 10, `revert without data: ${e.message}`);
    const parsed = iface.parseError(e.data);
    assert.ok(parsed !== null, `revert data ${e.data} is not a CodecHarness error`);
    return { name: parsed.name, args: parsed.args.map((a: unknown) => String(a)) };
  }
  assert.fail('expected the call to revert');
}

describe('wire codec (Solidity) against test/vectors/messages.json', function () {
  this.timeout(60_000);

  const harnessOf = useHarness('CodecHarness');
  const iface = new Interface(ourArtifact('CodecHarness').abi);

  it('encodes, decodes and ids every valid vector as the file says', async function () {
    const results = await Promise.all(
      vectors.valid.map(async (v) => {
        const struct = Object.fromEntries(FIELDS.map((k) => [k, v.fields[k]]));
        const [encoded, decoded, id] = await Promise.all([
          harnessOf().getFunction('encode').staticCall(struct),
          harnessOf().getFunction('decode').staticCall(v.encoded),
          harnessOf().getFunction('messageId').staticCall(v.fields.originChainId, v.fields.origin, v.fields.nonce),
        ]);
        return { v, encoded: String(encoded), decoded: decoded as Record<string, unknown>, id: String(id) };
      }),
    );
    assert.ok(results.length >= 8);
    for (const { v, encoded, decoded, id } of results) {
      assert.equal(encoded, v.encoded, `${v.name}: encode`);
      assert.deepEqual(
        Object.fromEntries(FIELDS.map((k) => [k, String(decoded[k])])),
        { ...v.fields },
        `${v.name}: decode`,
      );
      assert.equal(id, v.messageId, `${v.name}: messageId`);
    }
  });

  it('reverts on every invalid vector with the named custom error and its arguments', async function () {
    const reverts = await Promise.all(
      vectors.invalid.map(async (v) => ({ v, revert: await revertOf(iface, harnessOf().getFunction('decode').staticCall(v.encoded)) })),
    );
    assert.ok(reverts.length >= 8);
    for (const { v, revert } of reverts) {
      assert.equal(revert.name, v.error, `${v.name}: error`);
      assert.deepEqual(revert.args, v.args, `${v.name}: error arguments`);
    }
  });
});
