// The public API is the list below: adding or removing an export must change this test too.
import assert from 'node:assert/strict';
import * as isorelay from '../../relayer/index.js';

describe('public exports (relayer/index.ts)', () => {
  it('exports exactly the documented runtime names', () => {
    assert.deepEqual(Object.keys(isorelay).sort(), [
      'ChainClient', 'ErrorCode', 'EventBus', 'HoldCode', 'IsorelayError', 'LayerZeroTransport', 'MESSAGE_STATUSES', 'MESSAGE_VERSION',
      'MessageKind', 'MessageStatus', 'REASON_CODES', 'Reason', 'Relayer', 'SqliteStore', 'WormholeTransport', 'canTransition', 'configSchema',
      'decodeMessage', 'describeStrategy', 'encodeMessage', 'explainMessage', 'isDefinedRisk', 'isIsorelayError', 'isRetryable', 'legsHash',
      'loadConfig', 'loadWallet', 'lockCollateral', 'maxLoss', 'messageId', 'parseConfig', 'payoff', 'quoteDomain', 'reasonKind', 'runDoctor',
      'scenarioLoss', 'signQuote', 'startDaemon', 'value', 'worstPrice',
    ]);
  });
});
