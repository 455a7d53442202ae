// A second `isorelay devnet` on the ports of a running one is refused before it touches anything:
// the running devnet keeps its manifest, its chains get no second copy of the contracts, and it
// keeps relaying.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { cli, closedPort, freeBasePort, spawnCli, type RunningCli } from '../setup/cli.js';

async function nonce(url: string, address: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionCount', params: [address, 'latest'] }) });
  return Number(((await response.json()) as { result: string }).result); // a JSON-RPC answer: the count as hex
}

describe('isorelay devnet twice on the same ports', function () {
  this.timeout(180_000);
  let dir: string;
  let first: RunningCli | undefined;

  after(async function () {
    await first?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the second with PORT_IN_USE; the first keeps its manifest, its nonces and its relayer', async function () {
    dir = mkdtempSync(join(tmpdir(), 'isorelay-twice-'));
    const [base, ops, quote] = [await freeBasePort(), await closedPort(), await closedPort()];
    const args = ['devnet', '--port', String(base), '--ops-port', String(ops), '--quote-port', String(quote), '--dir', dir];
    first = spawnCli(args, {});
    await first.waitFor(/relaying until Ctrl-C/, 120_000);
    const manifest = readFileSync(join(dir, 'manifest.json'), 'utf8');
    const m = JSON.parse(manifest) as DevnetManifest; // the running devnet's, just written
    const nonces = async () => Promise.all(Object.values(m.chains).map((c) => nonce(c.rpcUrl, m.accounts.deployer.address)));
    const before = await nonces();

    const started = Date.now();
    const second = await cli(args, {});
    assert.equal(second.code, 1, `${second.stdout}\n${second.stderr}`);
    assert.match(second.stderr, new RegExp(`^PORT_IN_USE: port ${base} is in use — another devnet running\\? stop it \\(Ctrl-C\\) or pass --port 0 --ops-port 0 --quote-port 0 for free ports$`, 'm'));
    const taken = [0, 1, 2, 10, 11, 12].map((i) => String(base + i)).concat(String(ops), String(quote));
    for (const port of taken) assert.match(second.stderr, new RegExp(`\\b${port} \\(`), `names port ${port}`);
    assert.match(second.stderr, /market maker/);
    assert.doesNotMatch(second.stdout, /starting 3 anvil chains|deploying/, 'nothing was started');
    assert.ok(Date.now() - started < 15_000, 'refused at once');

    assert.equal(readFileSync(join(dir, 'manifest.json'), 'utf8'), manifest, 'the manifest is as the first devnet wrote it');
    assert.deepEqual(await nonces(), before, 'no contract deployed again on the running chains');
    assert.equal((await fetch(`http://127.0.0.1:${ops}/healthz`)).status, 200, 'the first devnet still relays');
    assert.equal(first.child.exitCode, null);
  });
});
