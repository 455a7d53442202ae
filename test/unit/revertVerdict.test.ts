// What a delivery revert means: permanent (dead with the reason), wait (not an attempt), or
// transient (retry) — the last for anything unknown, so a guess never makes a message dead.
import assert from 'node:assert/strict';
import { Interface } from 'ethers';
import { errorDecoder } from '../../relayer/chains/abiFunction.js';
import { WaitCode } from '../../relayer/messages/reasons.js';
import { ENGINE_REJECTIONS, revertVerdict } from '../../relayer/transports/engineRejections.js';

const iface = new Interface(['error AlreadyProcessed(bytes32 lockId)', 'error LZ_InvalidNonce(uint64 nonce)', 'error Busy()']);
const tables = { decode: errorDecoder([iface]), permanent: ENGINE_REJECTIONS, wait: { LZ_InvalidNonce: { code: WaitCode.nonceOrder, text: 'waiting for an earlier nonce' } } };
const data = (name: string, args: unknown[] = []) => iface.encodeErrorResult(name, args);

describe('revertVerdict', () => {
  it('is permanent for an engine refusal, naming the reason and the error', () => {
    const v = revertVerdict(data('AlreadyProcessed', ['0x' + '11'.repeat(32)]), tables);
    assert.equal(v.outcome, 'permanent');
    assert.match(v.reason, /^the lockId was already credited: replayed message \[AlreadyProcessed\(0x1111/);
  });

  it('waits (no attempt counted) for an error the transport says must clear first', () => {
    assert.deepEqual(revertVerdict(data('LZ_InvalidNonce', [3n]), tables), { outcome: 'wait', code: 'nonce_order', reason: 'waiting for an earlier nonce [LZ_InvalidNonce(3)]' });
  });

  it('is transient for a known error that is neither, for unknown data and for no data', () => {
    assert.deepEqual(revertVerdict(data('Busy'), tables), { outcome: 'transient', reason: 'Busy()' });
    assert.equal(revertVerdict('0xdeadbeef', tables).outcome, 'transient');
    assert.equal(revertVerdict('0x', tables).outcome, 'transient');
    assert.equal(revertVerdict(null, tables).outcome, 'transient');
  });
});
