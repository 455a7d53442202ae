// The engine runs its modules by delegatecall on its own storage: each module must see every
// shared variable at the slot the engine keeps it in, and declare none of its own. And every
// contract fits the EIP-170 code size limit.
import assert from 'node:assert/strict';
import { COMPOSED, compileContracts, type ContractArtifact, type StorageEntry } from '../../scripts/build-contracts.js';

const EIP170 = 24_576;

describe('engine layout', function () {
  this.timeout(180_000);
  let artifacts: Record<string, ContractArtifact>;

  before(function () {
    artifacts = compileContracts();
  });

  it('every module keeps the shared state at the engine\'s slots, and holds nothing else', function () {
    // solc names the most derived contract in each entry; the declaration's AST id tells which
    // variable it is, the same in every contract compiled together.
    const at = (v: StorageEntry) => `${v.astId}:${v.label}@${v.slot}+${v.offset}:${v.type}`;
    for (const [engineName, modules] of Object.entries(COMPOSED)) {
      const engine = artifacts[engineName]?.storage ?? [];
      for (const name of modules) {
        const module = artifacts[name]?.storage ?? [];
        assert.ok(module.length > 10, `${name} sees the engine's state`);
        // The module's whole layout is the start of the engine's: same variables, same slots, none of its own.
        assert.deepEqual(module.map(at), engine.slice(0, module.length).map(at), `${name} and ${engineName} disagree on the shared state's slots`);
      }
      // What follows in the engine (OApp's peers, Ownable, the routing table) no module can see.
      const shared = new Set((artifacts[modules[0] ?? '']?.storage ?? []).map((v) => v.astId));
      assert.ok(engine.slice(shared.size).every((v) => !shared.has(v.astId)));
    }
  });

  it('every deployable contract fits the 24,576-byte code size limit', function () {
    for (const a of Object.values(artifacts)) {
      assert.ok((a.deployedSize ?? 0) <= EIP170, `${a.contractName} is ${a.deployedSize} bytes`);
    }
    const sizes = Object.fromEntries(['IsolatedMarginEngine', ...Object.values(COMPOSED).flat()].map((n) => [n, artifacts[n]?.deployedSize]));
    // Room for the next feature: the engine is no longer at the limit.
    assert.ok((sizes.IsolatedMarginEngine ?? EIP170) < EIP170 - 2_000, `sizes ${JSON.stringify(sizes)}`);
  });
});
