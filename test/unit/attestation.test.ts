// EIP-712 price attestations (relayer/liquidation/attestation.ts): the type string and the digest
// equal PriceAttestations' own (on a lone anvil), and signing yields one signature per distinct
// attester, sorted by signer address, each recovering to its attester.
import assert from 'node:assert/strict';
import { ContractFactory, TypedDataEncoder, Wallet, id, keccak256, recoverAddress, toUtf8Bytes, type Contract, type JsonRpcProvider } from 'ethers';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { DEVNET_ACCOUNTS, devnetProvider, startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';
import {
  PRICE_ATTESTATION_TYPE, PRICE_ATTESTATION_TYPES, attestationDigest, attestationDomain, signAttestation, type PriceAttestation,
} from '../../relayer/liquidation/attestation.js';

const WAD = 10n ** 18n;
const CHAIN_ID = 31337;

const attestation = (o: Partial<PriceAttestation> = {}): PriceAttestation => ({
  market: id('ETH-USD'), low: 2_990n * WAD, high: 3_010n * WAD + 7n, median: 3_000n * WAD, timestamp: 1_700_000_000n, chains: [10n, 8453n, 42161n], deadline: 1_700_000_060n, ...o,
});

/** A few keys, deliberately not in address order. */
const wallets = [7, 3, 5, 9].map((i) => new Wallet(DEVNET_ACCOUNTS[i]?.privateKey ?? ''));

describe('price attestations (EIP-712)', function () {
  this.timeout(60_000);
  let node: AnvilNode | undefined;
  let provider: JsonRpcProvider | undefined;
  let contract: Contract;

  before(async () => {
    node = await startAnvil({ chainId: CHAIN_ID });
    provider = devnetProvider(node);
    const owner = new Wallet(DEVNET_ACCOUNTS[0]?.privateKey ?? '', provider);
    const { abi, bytecode } = ourArtifact('PriceAttestations');
    const deployed = await new ContractFactory(abi, bytecode, owner).deploy(owner.address);
    await waitForReceipt(provider, deployed.deploymentTransaction()?.hash ?? '');
    contract = deployed.connect(provider) as Contract;
  });

  after(async () => {
    provider?.destroy();
    await node?.stop();
  });

  const domain = async () => attestationDomain(CHAIN_ID, await contract.getAddress());

  it('spells the type exactly as the contract hashes it', async () => {
    assert.equal(TypedDataEncoder.from(PRICE_ATTESTATION_TYPES).encodeType('PriceAttestation'), PRICE_ATTESTATION_TYPE);
    assert.equal(await contract.getFunction('ATTESTATION_TYPEHASH')(), keccak256(toUtf8Bytes(PRICE_ATTESTATION_TYPE)));
  });

  it('computes the digest the contract computes (digestOf), for several attestations', async () => {
    const cases = [
      attestation(),
      attestation({ chains: [] }),
      attestation({ chains: [42161n], low: 1n, median: 1n, high: 1n }),
      attestation({ market: id('BTC-USD'), timestamp: 2n ** 64n - 2n, deadline: 2n ** 64n - 1n, high: 2n ** 256n - 1n }),
    ];
    const d = await domain();
    const onChain = await Promise.all(cases.map((a) => contract.getFunction('digestOf')({ ...a, chains: [...a.chains] }) as Promise<string>));
    assert.equal(new Set(onChain).size, cases.length, 'distinct attestations, distinct digests');
    assert.deepEqual(cases.map((a) => attestationDigest(a, d)), onChain);
  });

  it('binds the digest to one contract on one chain', async () => {
    const a = attestation();
    const d = await domain();
    const here = attestationDigest(a, d);
    assert.notEqual(attestationDigest(a, attestationDomain(CHAIN_ID + 1, d.verifyingContract as string)), here);
    assert.notEqual(attestationDigest(a, attestationDomain(CHAIN_ID, wallets[0]?.address as string)), here);
  });

  it('signs once per distinct attester, sorted by signer address, each recovering to its attester', async () => {
    const a = attestation();
    const d = await domain();
    const w = wallets as [Wallet, Wallet, Wallet, Wallet];
    // The same key twice (one through another Wallet object) signs once.
    const sigs = await signAttestation(a, [w[0], w[1], w[2], w[3], w[1], new Wallet(w[2].privateKey)], d);
    assert.equal(sigs.length, 4);
    const digest = attestationDigest(a, d);
    const recovered = sigs.map((s) => recoverAddress(digest, s));
    const expected = wallets.map((x) => x.address).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    assert.deepEqual(recovered, expected);
    for (let i = 1; i < recovered.length; i++) assert.ok(BigInt(recovered[i] as string) > BigInt(recovered[i - 1] as string), 'strictly ascending');
    assert.deepEqual(await signAttestation(a, [], d), []);
  });
});
