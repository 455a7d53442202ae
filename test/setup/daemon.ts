// A real daemon on the shared devnet (its own SQLite file, a free ops port, the keeper on, an
// operator token), and what the status page tests put in front of it: a SEIZE held by the
// liquidation guard for real, and a held message whose reason an attacker wrote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { startDaemon, type RunningDaemon } from '../../relayer/app/daemon.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import type { MessageRow, NewMessage, Store } from '../../relayer/store/store.js';
import { engine, lock, minedOn, provider, setEthUsd, testConfig, trader } from './devnet.js';

export const OPS_TOKEN_ENV = 'ISORELAY_TEST_OPS_TOKEN';
export const OPS_TOKEN = 'status-page-test-token-0123456789';

export interface TestDaemon {
  daemon: RunningDaemon;
  url: string;
  stop(): Promise<void>;
}

/** Starts a daemon (keeper on, actions with OPS_TOKEN unless `readOnly`) on the devnet. */
export async function startTestDaemon(m: DevnetManifest, o: { readOnly?: boolean } = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'isorelay-status-'));
  const config = testConfig(m, (raw) => {
    raw.store = { sqlite: join(dir, 'relayer.sqlite') };
    raw.ops = { ...raw.ops, port: 0, ...(o.readOnly === true ? {} : { actionTokenEnv: OPS_TOKEN_ENV }) };
    if (raw.keeper !== undefined) raw.keeper.enabled = true;
  });
  const daemon = await startDaemon({
    config,
    env: { [OPS_TOKEN_ENV]: OPS_TOKEN },
    keys: {
      relayer: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
      dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
      attesters: m.accounts.attesters.slice(0, m.market.attesterThreshold).map((a) => new Wallet(a.privateKey)),
    },
  });
  return {
    daemon,
    url: daemon.ops.url,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `done` until it holds (the daemon relays on its own loops). */
export async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A 1 ETH long on 1000 USDC locked on arbitrum, closed on base at 2500 while arbitrum's oracle
 * still says 3000: its SEIZE back to arbitrum is held by the liquidation guard (seize_price).
 */
export async function heldSeize(m: DevnetManifest, store: Store, positionId = 41n): Promise<MessageRow> {
  const locked = await lock(m, 'arbitrum', { amount: 1_000_000_000n, positionId });
  await until('the CREDIT is delivered', async () => (await store.list({ status: 'delivered' })).some((r) => r.messageId === locked.lockId));
  const e = engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base')));
  await minedOn(m, 'base', e.getFunction('increase').send(positionId, m.market.id, 0, 10n ** 18n));
  await setEthUsd(m, ['base'], 2_500n);
  const fee = (await e.getFunction('quoteSettlement')(BigInt(m.chains.arbitrum?.chainId ?? 0))) as bigint;
  await minedOn(m, 'base', e.getFunction('close').send(positionId, { value: 2n * fee }));
  let held: MessageRow | undefined;
  await until('the SEIZE is held', async () => {
    held = (await store.list({ status: 'held' })).find((r) => r.kind === 'SEIZE' && r.dstChain === 'arbitrum');
    return held !== undefined;
  });
  return held as MessageRow;
}

/**
 * A message on a route no config names (nothing relays it), held with `reason`: what a payload or
 * revert reason chosen by an attacker looks like once it is stored.
 */
export async function plantHeld(store: Store, reason: string, o: { id?: string; kind?: string; observedAt?: number } = {}): Promise<string> {
  const id = o.id ?? `layerzero:0x${'ab'.repeat(32)}`;
  const row: NewMessage = {
    id, route: 'planted', transport: 'layerzero', transportId: id.split(':')[1] ?? id, srcChain: 'arbitrum', dstChain: 'base',
    messageId: `0x${'cd'.repeat(32)}`, kind: o.kind ?? 'SEIZE', srcTx: `0x${'ef'.repeat(32)}`, srcBlock: 1n, srcBlockHash: `0x${'01'.repeat(32)}`,
    logIndex: 0, payload: '0x', sequence: null,
  };
  const at = o.observedAt ?? Date.now();
  await store.observe([row], at);
  await store.transition(id, 'observed', 'finalized', {}, at);
  await store.transition(id, 'finalized', 'held', { holdCode: 'seize_price', lastError: reason }, at);
  return id;
}

/**
 * A CREDIT on arbitrum-base observed `ageMs` ago from a block far ahead of the chain: it stays
 * observed (its block is never final), past the route's expected delivery time.
 */
export async function plantStuck(store: Store, ageMs: number): Promise<string> {
  const id = `layerzero:0x${'12'.repeat(32)}`;
  await store.observe([{
    id, route: 'arbitrum-base', transport: 'layerzero', transportId: id.split(':')[1] ?? id, srcChain: 'arbitrum', dstChain: 'base',
    messageId: null, kind: 'CREDIT', srcTx: `0x${'34'.repeat(32)}`, srcBlock: 1_000_000_000n, srcBlockHash: `0x${'01'.repeat(32)}`, logIndex: 1, payload: '0x', sequence: null,
  }], Date.now() - ageMs);
  return id;
}
