// One anvil and one of our test harness contracts on it, for the suites that check Solidity
// against a shared vector file. Register it in a describe: it starts in before, stops in after.
import { Contract, ContractFactory, Wallet, type JsonRpcProvider } from 'ethers';
import { ourArtifact, type OurContract } from '../../relayer/chains/contractsAbi.js';
import { waitForReceipt } from '../../relayer/chains/provider.js';
import { DEVNET_ACCOUNTS, devnetProvider, startAnvil, type AnvilNode } from '../../relayer/devnet/anvil.js';

export function useHarness(name: OurContract): () => Contract {
  let node: AnvilNode | undefined;
  let provider: JsonRpcProvider | undefined;
  let harness: Contract | undefined;
  before(async function () {
    this.timeout(60_000);
    node = await startAnvil({ chainId: 31337 });
    provider = devnetProvider(node);
    const key = DEVNET_ACCOUNTS[0]?.privateKey;
    if (key === undefined) throw new Error('no devnet account 0');
    const { abi, bytecode } = ourArtifact(name);
    const deployed = await new ContractFactory(abi, bytecode, new Wallet(key, provider)).deploy();
    await waitForReceipt(provider, deployed.deploymentTransaction()?.hash ?? '');
    harness = new Contract(await deployed.getAddress(), abi, provider);
  });
  after(async function () {
    provider?.destroy();
    await node?.stop();
  });
  return () => {
    if (harness === undefined) throw new Error(`${name} is not deployed yet (use it inside a test)`);
    return harness;
  };
}
