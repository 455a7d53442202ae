// Keeps contracts-abi/ in step with contracts/: recompiles in memory and compares every file.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  abiDir,
  artifactFileName,
  compileContracts,
  renderArtifact,
} from '../../scripts/build-contracts.js';

const STALE = 'contracts-abi/ is stale: run npm run build:contracts';

describe('contracts-abi', function () {
  this.timeout(180_000);

  let expected: Map<string, string>;

  before(function () {
    const artifacts = compileContracts();
    expected = new Map(
      Object.values(artifacts).map((artifact) => [artifactFileName(artifact.contractName), renderArtifact(artifact)]),
    );
  });

  it('builds at least the vault, the engine and the codec harness', function () {
    for (const name of ['CollateralVault', 'IsolatedMarginEngine', 'CodecHarness']) {
      assert.ok(expected.has(artifactFileName(name)), `no artifact for ${name}`);
    }
  });

  it('has exactly one committed file per compiled contract', function () {
    const committed = readdirSync(abiDir).filter((file) => file.endsWith('.json')).sort();
    assert.deepEqual(committed, [...expected.keys()].sort(), STALE);
  });

  it('has committed files identical to a fresh build', function () {
    for (const [file, content] of expected) {
      let committed: string;
      try {
        committed = readFileSync(join(abiDir, file), 'utf8');
      } catch {
        assert.fail(`${STALE} (missing ${file})`);
      }
      assert.ok(committed === content, `${STALE} (${file} differs)`);
    }
  });
});
