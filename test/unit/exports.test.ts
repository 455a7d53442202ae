// The public API is the list below: adding or removing an export must change this test too.
import assert from 'node:assert/strict';
import * as isorelay from '../../relayer/index.js';

describe('public exports (relayer/index.ts)', () => {
  it('exports exactly the documented runtime names', () => {
    assert.deepEqual(Object.keys(isorelay).sort(), [
      'ChainClient', 'ErrorCode', 'EventBus', 'IsorelayError', 'LayerZeroTransport', 'MESSAGE_STATUSES', 'MESSAGE_VERSION',
      'MessageKind', 'MessageStatus', 'Relayer', 'SqliteStore', 'WormholeTransport', 'canTransition', 'configSchema', 'decodeMessage', 'encodeMessage',
      'isIsorelayError', 'isRetryable', 'loadConfig', 'loadWallet', 'lockCollateral', 'messageId', 'parseConfig', 'runDoctor', 'startDaemon',
    ]);
  });
});
