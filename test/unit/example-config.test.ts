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
    assert.deepEqual(c.routes.map((r) => [r.name, r.direction]), [['arbitrum-base', 'credit'], ['base-arbitrum', 'settle']]);
    assert.equal(c.routes[0]?.limits[0]?.maxPerWindow, 500_000_000_000n);
    assert.deepEqual(Object.keys(c.markets), ['ETH-USD']);
    assert.equal(c.markets['ETH-USD']?.feeds.base?.sequencerGraceSeconds, 3600, 'the default grace');
    assert.equal(c.keeper?.enabled, false);
    assert.equal(c.keys.attesters?.length, 2);
    assert.equal(c.ops.logFormat, 'json', 'JSON logs unless asked otherwise');
  });
});
