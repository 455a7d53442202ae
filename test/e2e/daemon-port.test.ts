// The daemon binds its ops port before it starts work: a port in use fails at once, naming
// EADDRINUSE and the port, with nothing opened or relayed; while the relayer is still starting,
// /healthz answers and /readyz says it is not ready and why.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { startDaemon, type RunningDaemon, type StartDaemonOptions } from '../../relayer/app/daemon.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { isIsorelayError } from '../../relayer/errors/base.js';
import { startFaultyRpc, type FaultyRpc } from '../setup/faultyRpc.js';
import { creditCount, lock, nonceOf, testConfig, useSharedDevnet } from '../setup/devnet.js';

async function listen(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

const close = (s: Server) => new Promise<void>((ok) => s.close(() => ok()));

/** A port that nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const { server, port } = await listen();
  await close(server);
  return port;
}

function daemonOptions(m: DevnetManifest, sqlite: string, port: number, patch: Parameters<typeof testConfig>[1] = () => undefined): StartDaemonOptions {
  const config = testConfig(m, (raw) => {
    raw.store = { sqlite };
    raw.ops = { ...raw.ops, port };
    patch(raw);
  });
  return {
    config,
    keys: {
      relayer: new Wallet(m.accounts.relayer.privateKey), dvnSigner: new Wallet(m.accounts.dvnSigner.privateKey),
      dvnSigners: { second: new Wallet(m.accounts.secondDvnSigner.privateKey) },
    },
  };
}

describe('daemon: the ops port before the work', function () {
  this.timeout(60_000);
  const devnet = useSharedDevnet();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isorelay-daemon-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fails at once on a port in use, naming EADDRINUSE and the port, having opened and relayed nothing', async () => {
    const m = devnet().manifest;
    const taken = await listen();
    try {
      const l = await lock(m, 'arbitrum');
      const nonce = await nonceOf(m, 'base', m.accounts.relayer.address);
      const sqlite = join(dir, 'relayer.sqlite');
      const started = Date.now();
      const error = await startDaemon(daemonOptions(m, sqlite, taken.port)).then(
        (d) => d.stop().then(() => assert.fail('the daemon started on a port in use')),
        (e: unknown) => e,
      );
      assert.ok(Date.now() - started < 2_000, 'it fails at once, without waiting for chains');
      assert.ok(isIsorelayError(error), String(error));
      assert.match(error.message, new RegExp(`cannot bind the ops server to 127\\.0\\.0\\.1:${taken.port} \\(EADDRINUSE\\): the port ${taken.port} is in use by another process; nothing was started`));
      assert.match(error.guidance.join('\n'), /ops\.port/);
      assert.equal(existsSync(sqlite), false, 'the store was never opened');
      assert.equal(await nonceOf(m, 'base', m.accounts.relayer.address), nonce, 'no transaction was sent');
      assert.equal(await creditCount(m, l.lockId), 0);
    } finally {
      await close(taken.server);
    }
  });

  it('answers /healthz and a not-ready /readyz while the relayer starts, and is ready once it has started', async () => {
    const m = devnet().manifest;
    const proxy: FaultyRpc = await startFaultyRpc(m.chains.base?.rpcUrl as string);
    proxy.setMode('down'); // the relayer waits for base's chain id: it cannot finish starting
    const port = await freePort();
    let daemon: RunningDaemon | undefined;
    const starting = startDaemon(daemonOptions(m, join(dir, 'relayer.sqlite'), port, (raw) => {
      const base = raw.chains.base;
      if (base !== undefined) base.rpcUrls = [proxy.url];
    })).then((d) => (daemon = d));
    try {
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 10_000;
      let ready: Response | undefined;
      while (ready === undefined) {
        ready = await fetch(`${url}/readyz`).catch(() => undefined);
        if (ready === undefined && Date.now() > deadline) throw new Error('the ops port was never bound while the relayer started');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(ready.status, 503);
      const report = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
      assert.equal(report.ready, false);
      assert.equal(report.checks.started?.ok, false);
      assert.equal((await fetch(`${url}/healthz`)).status, 200, 'alive while starting');
      assert.equal(daemon, undefined, 'still starting');

      proxy.setMode('ok');
      await starting;
      const until = Date.now() + 15_000;
      for (;;) {
        const r = await fetch(`${url}/readyz`);
        if (r.status === 200) break;
        if (Date.now() > until) throw new Error(`never ready: ${await r.text()}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      proxy.setMode('ok');
      await starting.catch(() => undefined);
      await daemon?.stop();
      await proxy.close();
    }
  });
});
