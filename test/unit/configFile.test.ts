// Which config file a command reads (relayer/config/load.ts configFileFrom): -c, else ISORELAY_CONFIG.
import assert from 'node:assert/strict';
import { CONFIG_ENV, configFileFrom } from '../../relayer/config/load.js';
import { ErrorCode, isIsorelayError } from '../../relayer/errors/base.js';

describe('the config file of a command', () => {
  it('is the -c file when one is given, even with ISORELAY_CONFIG set', () => {
    assert.equal(configFileFrom('given.yaml', { [CONFIG_ENV]: 'env.yaml' }), 'given.yaml');
  });

  it('is the ISORELAY_CONFIG file without -c', () => {
    assert.equal(CONFIG_ENV, 'ISORELAY_CONFIG');
    assert.equal(configFileFrom(undefined, { ISORELAY_CONFIG: '/etc/isorelay/relayer.yaml' }), '/etc/isorelay/relayer.yaml');
  });

  it('is a usage error naming both -c and ISORELAY_CONFIG when neither is set (an empty variable is unset)', () => {
    for (const env of [{}, { ISORELAY_CONFIG: '' }]) {
      assert.throws(() => configFileFrom(undefined, env), (e: unknown) => {
        assert.ok(isIsorelayError(e, ErrorCode.USAGE), String(e));
        assert.match(e.message, /-c <file>/);
        assert.match(e.message, /ISORELAY_CONFIG/);
        return true;
      });
    }
  });
});
