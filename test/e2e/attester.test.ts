// Attesters in their own processes' shape (`isorelay attester`): each holds one key, reconciles the
// market itself and signs only what agrees with its own reading. The keeper, holding no attester
// key, liquidates with their signatures; a range the attesters do not see gets none.
import assert from 'node:assert/strict';
import { id, verifyTypedData, Wallet } from 'ethers';
import { pino } from 'pino';
import { startAttester, type RunningAttester } from '../../relayer/app/attester.js';
import { attestationDomain, PRICE_ATTESTATION_TYPES, type PriceAttestation } from '../../relayer/liquidation/attestation.js';
import { ENGINE_SIDE } from '../../relayer/liquidation/engineAccount.js';
import { Keeper } from '../../relayer/liquidation/keeper.js';
import { gatherSignatures } from '../../relayer/liquidation/remoteAttesters.js';
import { PriceService } from '../../relayer/oracle/priceService.js';
import { engine, lock, makeRelayer, minedOn, provider, setEthUsd, testConfig, tickUntil, trader, useSharedDevnet } from '../setup/devnet.js';


const ETH = 10n ** 18n;
const WAD = 10n ** 18n;
const TOKEN = 'a-bearer-token-of-some-length';

describe('attesters in their own processes', function () {
  this.timeout(120_000);
  const devnet = useSharedDevnet();
  let running: RunningAttester[] = [];
  afterEach(async () => {
    await Promise.all(running.map((a) => a.close()));
    running = [];
  });

  async function attesters(n: number, token?: string): Promise<RunningAttester[]> {
    const m = devnet().manifest;
    const config = testConfig(m);
    running = await Promise.all(m.accounts.attesters.slice(0, n).map((a) =>
      startAttester({ config, key: new Wallet(a.privateKey), port: 0, logger: pino({ level: 'silent' }), ...(token === undefined ? {} : { token }) })));
    return running;
  }

  async function attestationAt(usd: bigint): Promise<PriceAttestation> {
    const m = devnet().manifest;
    const head = await provider(m, 'base').getBlock('latest');
    const t = BigInt(head?.timestamp ?? 0);
    const p = usd * WAD;
    return { market: id('ETH-USD'), low: p, high: p, median: p, timestamp: t, chains: [10n, 8453n, 42161n], deadline: t + 30n };
  }

  it('signs what its own reconciliation agrees with, refuses a range it does not see, and a request without its token', async () => {
    const m = devnet().manifest;
    const [a] = await attesters(1, TOKEN);
    const domain = attestationDomain(8453, m.chains.base?.contracts.attestations as string);
    const honest = await attestationAt(3_000n);
    const ok = await gatherSignatures('ETH-USD', honest, domain, [], [{ url: a?.url ?? '', token: TOKEN }], 2_000);
    assert.equal(ok.signatures.length, 1, ok.refusals.join('; '));
    assert.equal(verifyTypedData(domain, PRICE_ATTESTATION_TYPES, { ...honest, chains: [...honest.chains] }, ok.signatures[0] as string), m.accounts.attesters[0]?.address);

    const lie = await gatherSignatures('ETH-USD', await attestationAt(2_000n), domain, [], [{ url: a?.url ?? '', token: TOKEN }], 2_000);
    assert.equal(lie.signatures.length, 0);
    assert.match(lie.refusals[0] ?? '', /refused \(HTTP 409\): the median .* is more than 200 bps from this attester's/);

    const noToken = await gatherSignatures('ETH-USD', honest, domain, [], [{ url: a?.url ?? '' }], 2_000);
    assert.match(noToken.refusals[0] ?? '', /HTTP 401/);
    const stale = { ...honest, timestamp: honest.timestamp - 3_600n, deadline: honest.timestamp - 3_570n };
    assert.match((await gatherSignatures('ETH-USD', stale, domain, [], [{ url: a?.url ?? '', token: TOKEN }], 2_000)).refusals[0] ?? '', /stamped too long ago/);
  });

  it('refuses a range narrower than the one it sees: a long would be liquidated below every agreeing chain', async () => {
    const m = devnet().manifest;
    await setEthUsd(m, ['arbitrum'], 3_000n);
    await setEthUsd(m, ['optimism'], 3_010n);
    await setEthUsd(m, ['base'], 3_020n);
    const [a] = await attesters(1);
    const domain = attestationDomain(8453, m.chains.base?.contracts.attestations as string);
    const t = await attestationAt(3_000n);
    const seen = { ...t, low: 3_000n * WAD, median: 3_010n * WAD, high: 3_020n * WAD };
    assert.equal((await gatherSignatures('ETH-USD', seen, domain, [], [{ url: a?.url ?? '' }], 2_000)).signatures.length, 1);
    const narrowed = { ...t, low: 2_990n * WAD, median: 2_995n * WAD, high: 2_995n * WAD };
    const r = await gatherSignatures('ETH-USD', narrowed, domain, [], [{ url: a?.url ?? '' }], 2_000);
    assert.equal(r.signatures.length, 0);
    assert.match(r.refusals[0] ?? '', /the high .* is below this attester's .*no agreeing chain gives/);
  });

  it('refuses to listen beyond loopback without a token', async () => {
    const m = devnet().manifest;
    await assert.rejects(
      startAttester({ config: testConfig(m), key: new Wallet(m.accounts.attesters[0]?.privateKey ?? ''), host: '0.0.0.0', port: 0, logger: pino({ level: 'silent' }) }),
      /must require a bearer token/,
    );
  });

  it('lets a keeper that holds no attester key liquidate with the signatures of two attester processes, ignoring one the contract does not know', async () => {
    const m = devnet().manifest;
    const remote = await attesters(2);
    const rogue = await startAttester({ config: testConfig(m), key: new Wallet(Wallet.createRandom().privateKey), port: 0, logger: pino({ level: 'silent' }) });
    running.push(rogue);
    const config = testConfig(m);
    const { relayer, store } = makeRelayer(m, { config });
    const keeper = new Keeper({
      config, client: (c) => relayer.client(c), sender: relayer.senderFor('base'), attesters: [],
      remoteAttesters: [...remote, rogue].map((r) => ({ url: r.url })),
      prices: new PriceService(config, (c) => relayer.client(c)), events: relayer.events,
    });
    await lock(m, 'arbitrum', { amount: 350_000_000n, positionId: 21n });
    await tickUntil(relayer, async () => (await store.list({ status: 'delivered' })).length === 1);
    const e = engine(m, new Wallet(trader(m, 'base', 0).privateKey, provider(m, 'base')));
    await minedOn(m, 'base', e.getFunction('increase').send(21n, m.market.id, ENGINE_SIDE.long, ETH));
    await keeper.tick();
    await setEthUsd(m, ['arbitrum', 'optimism', 'base'], 2_600n);
    const [r] = await keeper.tick();
    const key = (await engine(m).getFunction('positionKeyOf')(m.accounts.traders[0]?.address, 21n)) as string;
    assert.deepEqual(r?.liquidated, [key]);
  });
});
