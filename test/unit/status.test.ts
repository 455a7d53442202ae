// The message state machine (relayer/messages/status.ts) and the retry backoff (relayer/pipeline/stage.ts).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MESSAGE_STATUSES, MessageStatus, TERMINAL, canTransition } from '../../relayer/messages/status.js';
import { backoffMs, type RetryPolicy } from '../../relayer/pipeline/stage.js';

const allowedFrom = (from: MessageStatus): MessageStatus[] => MESSAGE_STATUSES.filter((to) => canTransition(from, to));

describe('message statuses', function () {
  it('lists every status once, under its own name', function () {
    assert.equal(new Set(MESSAGE_STATUSES).size, MESSAGE_STATUSES.length);
    for (const [key, value] of Object.entries(MessageStatus)) assert.equal(key, value);
  });

  it('treats delivered, dead and orphaned as terminal', function () {
    assert.deepEqual([...TERMINAL].sort(), ['dead', 'delivered', 'orphaned']);
  });

  it('has no outgoing transition from a terminal status', function () {
    for (const from of TERMINAL) assert.deepEqual(allowedFrom(from), [], `${from} has outgoing transitions`);
  });

  it('refuses delivered → anything, including delivered → delivered', function () {
    for (const to of MESSAGE_STATUSES) assert.equal(canTransition('delivered', to), false, `delivered → ${to}`);
  });

  it('lets held go only to finalized, verified or dead', function () {
    assert.deepEqual(allowedFrom('held').sort(), ['dead', 'finalized', 'verified']);
  });

  it('allows the happy path observed → finalized → verified → submitted → delivered', function () {
    const path: MessageStatus[] = ['observed', 'finalized', 'verified', 'submitted', 'delivered'];
    for (let i = 1; i < path.length; i++) {
      const from = path[i - 1];
      const to = path[i];
      assert.ok(from !== undefined && to !== undefined);
      assert.ok(canTransition(from, to), `${from} → ${to}`);
    }
  });

  it('lets every non-terminal status fail or die; a failed message may be held by the guard, a held one never fails', function () {
    for (const from of MESSAGE_STATUSES) {
      if (TERMINAL.has(from)) continue;
      assert.ok(canTransition(from, 'dead'), `${from} → dead`);
      if (from !== 'held') assert.ok(canTransition(from, 'failed'), `${from} → failed`);
      if (from !== 'held') assert.ok(canTransition(from, 'waiting'), `${from} → waiting`);
    }
    // A SEIZE that failed before its first step meets the liquidation guard when it is retried.
    assert.equal(canTransition('failed', 'held'), true);
    // Every message is verified whatever the guards say (a hold never blocks its path): a verified one may be held before it executes.
    assert.equal(canTransition('verified', 'held'), true);
    assert.equal(canTransition('submitted', 'held'), false, 'once execution was sent the guards have spoken');
    assert.equal(canTransition('held', 'failed'), false);
    assert.equal(canTransition('held', 'waiting'), false);
  });

  it('never moves a message back to observed except by re-observation or a retry', function () {
    for (const from of MESSAGE_STATUSES) {
      if (from === 'observed' || from === 'failed' || from === 'waiting') continue;
      assert.equal(canTransition(from, 'observed'), false, `${from} → observed`);
    }
  });
});

describe('backoffMs', function () {
  const policy: RetryPolicy = { baseMs: 1_000, maxMs: 60_000, maxAttempts: 10 };
  const mid = (): number => 0.5; // jitter factor exactly 1

  it('starts at baseMs and doubles with each attempt (no jitter)', function () {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffMs(policy, n, mid)),
      [1_000, 2_000, 4_000, 8_000, 16_000],
    );
  });

  it('treats attempt 0 (and below) like attempt 1', function () {
    assert.equal(backoffMs(policy, 0, mid), 1_000);
    assert.equal(backoffMs(policy, -3, mid), 1_000);
  });

  it('is capped at maxMs, even after very many attempts', function () {
    assert.equal(backoffMs(policy, 7, mid), 60_000);
    assert.equal(backoffMs(policy, 50, mid), 60_000);
    assert.equal(backoffMs(policy, 5_000, mid), 60_000);
  });

  it('applies at most ±20 % jitter', function () {
    assert.equal(backoffMs(policy, 1, () => 0), 800);
    assert.equal(backoffMs(policy, 1, () => 0.999999), 1_200);
    assert.equal(backoffMs(policy, 100, () => 0), 48_000);
    assert.equal(backoffMs(policy, 100, () => 0.999999), 72_000);
  });

  it('stays within the jitter bounds of min(maxMs, baseMs · 2^(n−1)) and never decreases without jitter', function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.integer({ min: 0, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (baseMs, extra, attempts, r) => {
          const p: RetryPolicy = { baseMs, maxMs: baseMs + extra, maxAttempts: 10 };
          const raw = Math.min(p.maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
          const ms = backoffMs(p, attempts, () => r);
          assert.ok(Number.isInteger(ms));
          assert.ok(ms >= Math.floor(raw * 0.8) && ms <= Math.ceil(raw * 1.2), `${ms} outside ±20 % of ${raw}`);
          assert.ok(ms <= Math.ceil(p.maxMs * 1.2));
          assert.ok(backoffMs(p, attempts + 1, mid) >= backoffMs(p, attempts, mid));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('uses Math.random by default, within bounds', function () {
    for (let i = 0; i < 100; i++) {
      const ms = backoffMs(policy, 3);
      assert.ok(ms >= 3_200 && ms <= 4_800, String(ms));
    }
  });
});
