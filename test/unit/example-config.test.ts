// The documented example config must stay valid, and the devnet's generated config too.
import assert from 'node:assert/strict';
import { loadConfig } from '../../relayer/config/load.js';

describe('config/example.yaml', () => {
  it('parses, with every default filled in', () => {
    const c = loadConfig('config/example.yaml');
    assert.deepEqual(Object.keys(c.chains), ['arbitrum', 'base']);
    assert.equal(c.routes[0]?.transport, 'layerzero');
    assert.deepEqual(c.chains.base?.finality, { tag: 'finalized' });
    assert.equal(c.chains.base?.layerzero?.confirmations, 1, 'the default');
    assert.ok(Object.isFrozen(c.chains.base));
  });
});
