// Credit route limits (RELIABILITY 9): a CREDIT above the per-message cap is held, the value let
// through per window stays within its cap (later CREDITs wait), each message counts once, an
// operator's release passes and counts, and the window lives in the store: it survives a restart
// and instances sharing the store share it (three instances never pass three windows' worth).
import assert from 'node:assert/strict';
import { id, ZeroHash } from 'ethers';
import { parseConfig } from '../../relayer/config/load.js';
import type { RawConfig } from '../../relayer/config/schema.js';
import { encodeMessage, MESSAGE_VERSION, MessageKind } from '../../relayer/messages/codec.js';
import { CreditLimits } from '../../relayer/pipeline/decide/creditLimits.js';
import { EventBus, type RelayerEvent } from '../../relayer/pipeline/events.js';
import { SqliteStore } from '../../relayer/store/sqlite/sqliteStore.js';
import type { MessageRow, Store } from '../../relayer/store/store.js';
import type { Transport } from '../../relayer/transports/transport.js';

const USDC = '0x00000000000000000000000000000000000000A1';
const WETH = '0x00000000000000000000000000000000000000B2';
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;

function config(limits: NonNullable<RawConfig['routes'][number]['limits']>, settleLimits: typeof limits = []) {
  return parseConfig({
    chains: {
      arbitrum: { chainId: 42161, rpcUrls: ['http://127.0.0.1:1'], verifyQuorum: 1, layerzero: { eid: 30110, endpoint: addr(1), receiveUln302: addr(2), dvn: addr(3) }, vault: addr(4) },
      base: { chainId: 8453, rpcUrls: ['http://127.0.0.1:2'], verifyQuorum: 1, layerzero: { eid: 30184, endpoint: addr(5), receiveUln302: addr(6), dvn: addr(7) }, engine: addr(8) },
    },
    routes: [
      { name: 'arbitrum-base', source: 'arbitrum', destination: 'base', transport: 'layerzero', limits },
      { name: 'base-arbitrum', source: 'base', destination: 'arbitrum', transport: 'layerzero', direction: 'settle', limits: settleLimits },
    ],
    keys: { relayer: { env: 'K' }, dvnSigner: { env: 'D' } },
    store: { sqlite: ':memory:' },
  }, 'test');
}

let nextNonce = 1n;
/** A stored row whose payload is the app message itself (the fake transport hands it back). */
function row(amount: bigint, o: { token?: string; kind?: 'CREDIT' | 'SEIZE'; route?: string; id?: string; guardReleased?: boolean; updatedAt?: number } = {}): MessageRow {
  const nonce = nextNonce++;
  const kind = o.kind ?? 'CREDIT';
  const seize = kind === 'SEIZE';
  const payload = encodeMessage({
    version: MESSAGE_VERSION, kind: MessageKind[kind], originChainId: 42161n, origin: addr(4), nonce, trader: addr(9), positionId: 1n, token: o.token ?? USDC, amount,
    targetChainId: 8453n, target: addr(8),
    // Only a SEIZE carries the market and price it was decided at.
    market: seize ? id('ETH-USD') : ZeroHash, price: seize ? 2_500n * 10n ** 18n : 0n,
  });
  return {
    id: o.id ?? `layerzero:${nonce}`, route: o.route ?? 'arbitrum-base', transport: 'layerzero', transportId: `0x${nonce}`, srcChain: 'arbitrum', dstChain: 'base',
    messageId: null, kind, srcTx: '0x', srcBlock: nonce, srcBlockHash: '0x', logIndex: 0, payload, status: 'finalized', resumeStatus: null, attempts: 0,
    nextAttemptAt: 0, lastError: null, reasonCode: null, dstTx: null, observedAt: 0, updatedAt: o.updatedAt ?? 0, deliveredAt: null, sequence: null, guardReleased: o.guardReleased ?? false, holdCode: null, lease: null,
  };
}

const transport = { appMessage: (r: MessageRow) => r.payload } as unknown as Transport;

/** A limiter on a store whose clock the test moves (the window is timed by the store's clock). */
function limiter(limits: Parameters<typeof config>[0], shared?: { store: Store; clock: { now: number } }) {
  const clock = shared?.clock ?? { now: 1_000_000 };
  const store = shared?.store ?? SqliteStore.open(':memory:', { clock: () => clock.now });
  const now = () => clock.now;
  const events: RelayerEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const limits_ = new CreditLimits({ config: config(limits), store, transport: () => transport, events: bus });
  return { limits: limits_, events, advance: (ms: number) => { clock.now += ms; }, now, store, shared: { store, clock } };
}

describe('credit route limits', () => {
  it('holds a CREDIT above the per-message cap, with the reason and an event; a released one passes', async () => {
    const { limits, events } = limiter([{ token: USDC, maxPerMessage: '5000' }]);
    assert.equal(await limits.check(row(5_000n)), null, 'at the cap');
    const over = row(5_001n);
    const v = await limits.check(over);
    assert.equal(v?.kind, 'hold');
    assert.match(v?.reason ?? '', /CREDIT of 5001 .* above route arbitrum-base's per-message cap of 5000/);
    assert.deepEqual(events.map((e) => e.type === 'route.limited' && [e.route, e.amount, e.held]), [['arbitrum-base', 5_001n, true]]);
    assert.equal(await limits.check({ ...over, guardReleased: true }), null, 'the operator released it');
  });

  it('lets at most maxPerWindow through per window: later CREDITs wait, and go once the window has room', async () => {
    const l = limiter([{ token: USDC, maxPerWindow: '100', windowSeconds: 60 }]);
    const [a, b, c] = [row(40n), row(40n), row(40n)];
    assert.equal(await l.limits.check(a), null);
    l.advance(10_000);
    assert.equal(await l.limits.check(b), null);
    const waits = await l.limits.check(c);
    assert.equal(waits?.kind, 'wait');
    assert.match(waits?.reason ?? '', /credited 80 of its 100 .* in the last 60 s: this CREDIT of 40 waits/);
    assert.equal(await l.limits.check(row(20n)), null, 'what fits still goes');
    l.advance(50_001); // a left the window (more than 60 s since it passed); b has not
    assert.equal(await l.limits.check(c), null);
    assert.equal((await l.limits.check(row(1n)))?.kind, 'wait', 'b (40) + 20 + c (40) = 100: full');
    assert.equal(l.events.filter((e) => e.type === 'route.limited' && !e.held).length, 2);
  });

  it('counts a message once however often it is checked (a retry)', async () => {
    const { limits } = limiter([{ token: USDC, maxPerWindow: '100' }]);
    const a = row(60n);
    assert.equal(await limits.check(a), null);
    assert.equal(await limits.check(a), null, 'the same message again');
    assert.equal(await limits.check(row(40n)), null, '60 + 40 = 100, not 160');
  });

  it('keeps each token\'s window: a short one does not forget what a longer one counts', async () => {
    const l = limiter([{ token: USDC, maxPerWindow: '100', windowSeconds: 60 }, { token: WETH, maxPerWindow: '100', windowSeconds: 3_600 }]);
    assert.equal(await l.limits.check(row(90n, { token: WETH })), null);
    l.advance(120_000);
    assert.equal(await l.limits.check(row(90n)), null, 'USDC has its own room');
    assert.equal((await l.limits.check(row(20n, { token: WETH })))?.kind, 'wait', 'the WETH credited 2 minutes ago still counts');
  });

  it('holds a CREDIT larger than the whole window: waiting would never end', async () => {
    const { limits } = limiter([{ token: USDC, maxPerWindow: '100' }]);
    assert.equal((await limits.check(row(101n)))?.kind, 'hold');
  });

  it('leaves other tokens, other kinds and settle routes alone', async () => {
    const { limits } = limiter([{ token: USDC, maxPerMessage: '1' }]);
    assert.equal(await limits.check(row(10n ** 30n, { token: WETH })), null, 'no limit for WETH');
    assert.equal(await limits.check(row(10n ** 30n, { kind: 'SEIZE' })), null);
    assert.equal(await limits.check(row(10n ** 30n, { route: 'base-arbitrum' })), null);
  });

  it('after a restart, counts what passed before it: the window is in the store', async () => {
    const before = limiter([{ token: USDC, maxPerWindow: '100', windowSeconds: 60 }]);
    assert.equal(await before.limits.check(row(70n)), null);
    // A new process (a new CreditLimits) on the same store, 30 s later.
    const after = limiter([{ token: USDC, maxPerWindow: '100', windowSeconds: 60 }], before.shared);
    after.advance(30_000);
    assert.equal((await after.limits.check(row(31n)))?.kind, 'wait', '70 passed 30 s ago');
    assert.equal(await after.limits.check(row(30n)), null);
  });

  it('instances sharing a store share one window: two limiters never pass more than the cap together', async () => {
    const one = limiter([{ token: USDC, maxPerWindow: '100', windowSeconds: 60 }]);
    const two = limiter([{ token: USDC, maxPerWindow: '100', windowSeconds: 60 }], one.shared);
    assert.equal(await one.limits.check(row(60n)), null);
    assert.equal((await two.limits.check(row(60n)))?.kind, 'wait', 'the other instance\'s 60 counts here');
    assert.equal(await two.limits.check(row(40n)), null);
  });

  it('refuses bad limits in the config, naming the path', () => {
    assert.throws(() => config([{ token: USDC }]), /routes\.0\.limits\.0.*maxPerMessage, maxPerWindow or both/s);
    assert.throws(() => config([{ token: USDC, maxPerMessage: 5000 as unknown as string }]), /routes\.0\.limits\.0\.maxPerMessage/);
    assert.throws(() => config([{ token: USDC, maxPerMessage: '1.5' }]), /positive integer amount in the token's base units/);
    assert.throws(() => config([{ token: USDC, maxPerMessage: '1' }, { token: USDC.toLowerCase(), maxPerWindow: '2' }]), /a second limit for token/);
    assert.throws(() => config([], [{ token: USDC, maxPerMessage: '1' }]), /routes\.1\.limits.*a settle route has none/s);
    assert.deepEqual(config([{ token: USDC, maxPerWindow: '100' }]).routes[0]?.limits, [{ token: USDC, maxPerWindow: 100n, windowSeconds: 3_600 }]);
  });
});
