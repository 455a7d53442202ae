// Deploys the real LayerZero v2 stack (EndpointV2, SendUln302, ReceiveUln302, PriceFeed, DVN,
// Executor and their fee libraries) on one devnet chain and wires it to every remote eid, with
// our own DVNs as the required verifiers (two, with different signer keys, when asked: as a
// production OApp requires several DVNs). No mocks: the relayer runs the production path.
import { Contract, ContractFactory, ZeroAddress, getAddress, type Provider, type Signer, type TransactionReceipt } from 'ethers';
import { layerZeroArtifact, type LayerZeroContractName } from '../transports/layerzero/artifacts.js';
import { waitForReceipt } from '../chains/provider.js';

export interface DeployLayerZeroOptions {
  localEid: number;
  remoteEids: readonly number[];
  /** Addresses of the DVN's multisig signers. */
  dvnSigners: readonly string[];
  dvnQuorum: number;
  /** A second required DVN, with its own multisig signers (quorum 1); none when absent. */
  secondDvnSigners?: readonly string[];
  /** Accounts allowed to call DVN.execute (the relayer's DVN keys). */
  dvnAdmins: readonly string[];
  /** Accounts allowed to act as the Executor's admins. */
  executorAdmins: readonly string[];
  /** Block confirmations the ULN configs require of the DVN. */
  confirmations: bigint;
}

export interface LayerZeroDeployment {
  readonly eid: number;
  /** The DVN's id: localEid % 30000, as LayerZero assigns it for endpoint-v2-only DVNs. */
  readonly vid: number;
  readonly endpoint: string;
  readonly sendUln302: string;
  readonly receiveUln302: string;
  readonly priceFeed: string;
  readonly dvn: string;
  /** Every DVN the ULN configs require (dvn first), each with its own signer set. */
  readonly dvns: readonly string[];
  /** Their DVN ids, in the same order. */
  readonly dvnVids: readonly number[];
  readonly dvnFeeLib: string;
  readonly executor: string;
  readonly executorFeeLib: string;
}

// Fees small but non-zero: 0.001 gwei remote gas, same-value native tokens (ratio = denominator).
const PRICE_RATIO_DENOMINATOR = 10n ** 20n;
const REMOTE_GAS_PRICE_WEI = 1_000_000n;
const REMOTE_GAS_PER_BYTE = 16;
const NATIVE_PRICE_USD = 3_000n * PRICE_RATIO_DENOMINATOR;
const NATIVE_DECIMALS_RATE = 10n ** 18n;
const MULTIPLIER_BPS = 12_000;
const DVN_VERIFY_GAS = 200_000n;
const EXECUTOR_LZ_RECEIVE_BASE_GAS = 100_000n;
const EXECUTOR_LZ_COMPOSE_BASE_GAS = 50_000n;
const EXECUTOR_NATIVE_CAP = 10n ** 18n;
const MAX_MESSAGE_SIZE = 10_000;
// Only consulted when a treasury is set; we leave SendUln302 without one (it charges nothing).
const TREASURY_GAS_LIMIT = 30_000n;
const TREASURY_NATIVE_FEE_CAP = 0n;

const ADMIN_ROLE = '0xa49807205ce4d355092ef5a8a18f56e8913cf4a201fbe287825b095693c21775'; // keccak256("ADMIN_ROLE")

/** Wraps a signer so that each step waits for its receipt at the provider's own polling rate. */
class Deployer {
  private constructor(
    readonly signer: Signer,
    readonly address: string,
    private readonly provider: Provider,
  ) {}

  static async create(signer: Signer): Promise<Deployer> {
    const provider = signer.provider;
    if (provider === null) throw new Error('deployLayerZero needs a signer connected to a provider');
    return new Deployer(signer, getAddress(await signer.getAddress()), provider);
  }

  async deploy(name: LayerZeroContractName, args: readonly unknown[]): Promise<Contract> {
    const { abi, bytecode } = layerZeroArtifact(name);
    const factory = new ContractFactory(abi, bytecode, this.signer);
    const contract = await factory.deploy(...args);
    const tx = contract.deploymentTransaction();
    if (tx === null) throw new Error(`deploying ${name}: no deployment transaction`);
    await this.confirm(tx.hash, `deploy ${name}`);
    return new Contract(await contract.getAddress(), abi, this.signer);
  }

  async call(contract: Contract, label: string, method: string, args: readonly unknown[]): Promise<TransactionReceipt> {
    let hash: string;
    try {
      const tx = await contract.getFunction(method).send(...args);
      hash = tx.hash;
    } catch (error) {
      throw new Error(`LayerZero devnet step "${label}.${method}" failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return this.confirm(hash, `${label}.${method}`);
  }

  private async confirm(hash: string, step: string): Promise<TransactionReceipt> {
    // waitForTransaction reads the receipt first; under automine it is there already.
    const receipt = await waitForReceipt(this.provider, hash);
    if (receipt === null || receipt.status !== 1) {
      throw new Error(`LayerZero devnet step "${step}" reverted (tx ${hash})`);
    }
    return receipt;
  }
}

function unique(addresses: readonly string[]): string[] {
  return [...new Set(addresses.map((address) => getAddress(address)))];
}

/** Deploys and configures the LayerZero v2 stack for `opts.localEid` using `deployer` as owner. */
export async function deployLayerZero(deployer: Signer, opts: DeployLayerZeroOptions): Promise<LayerZeroDeployment> {
  if (opts.remoteEids.length === 0) throw new Error('deployLayerZero needs at least one remote eid');
  if (opts.remoteEids.includes(opts.localEid)) throw new Error(`remote eids must not include the local eid ${opts.localEid}`);
  const d = await Deployer.create(deployer);
  const vid = opts.localEid % 30_000;
  const dvnAdmins = unique(opts.dvnAdmins);
  const executorAdmins = unique(opts.executorAdmins);

  const endpoint = await d.deploy('EndpointV2', [opts.localEid, d.address]);
  const endpointAddress = await endpoint.getAddress();
  const sendUln = await d.deploy('SendUln302', [endpointAddress, TREASURY_GAS_LIMIT, TREASURY_NATIVE_FEE_CAP]);
  const receiveUln = await d.deploy('ReceiveUln302', [endpointAddress]);
  const sendUlnAddress = await sendUln.getAddress();
  const receiveUlnAddress = await receiveUln.getAddress();

  // PriceFeed and Executor are proxy implementations (hardhat-deploy `proxied initializer`):
  // with no proxy admin in the EIP-1967 admin slot, the first initialize call is allowed and
  // writes address(1) there, so nobody can call a `proxied` function again. One call only.
  const priceFeed = await d.deploy('PriceFeed', []);
  const priceFeedAddress = await priceFeed.getAddress();
  await d.call(priceFeed, 'PriceFeed', 'initialize', [d.address]);
  // The fee model looks prices up by eid % 30000; set the raw eid too for getPrice readers.
  const priceKeys = [...new Set(opts.remoteEids.flatMap((eid) => [eid, eid % 30_000]))];
  await d.call(priceFeed, 'PriceFeed', 'setPrice', [
    priceKeys.map((eid) => ({
      eid,
      price: { priceRatio: PRICE_RATIO_DENOMINATOR, gasPriceInUnit: REMOTE_GAS_PRICE_WEI, gasPerByte: REMOTE_GAS_PER_BYTE },
    })),
  ]);
  await d.call(priceFeed, 'PriceFeed', 'setNativeTokenPriceUSD', [NATIVE_PRICE_USD]);

  // The deployer is an admin while it configures the workers and leaves unless asked to stay.
  const deployDvn = async (id: number, signers: readonly string[], quorum: number): Promise<Contract> => {
    const dvn = await d.deploy('DVN', [
      opts.localEid,
      id,
      [sendUlnAddress, receiveUlnAddress],
      priceFeedAddress,
      unique(signers),
      quorum,
      unique([...dvnAdmins, d.address]),
    ]);
    await d.call(dvn, 'DVN', 'setWorkerFeeLib', [await dvnFeeLib.getAddress()]);
    await d.call(dvn, 'DVN', 'setDstConfig', [
      opts.remoteEids.map((dstEid) => ({ dstEid, gas: DVN_VERIFY_GAS, multiplierBps: MULTIPLIER_BPS, floorMarginUSD: 0n })),
    ]);
    return dvn;
  };
  const dvnFeeLib = await d.deploy('DVNFeeLib', [opts.localEid, NATIVE_DECIMALS_RATE]);
  const dvn = await deployDvn(vid, opts.dvnSigners, opts.dvnQuorum);
  const second = opts.secondDvnSigners === undefined ? null : await deployDvn(vid + 10_000, opts.secondDvnSigners, 1);

  const executor = await d.deploy('Executor', []);
  await d.call(executor, 'Executor', 'initialize', [
    endpointAddress,
    ZeroAddress, // no ReceiveUln301: endpoint v2 only
    [sendUlnAddress],
    priceFeedAddress,
    d.address, // role admin (DEFAULT_ADMIN_ROLE): can grant and revoke admins later
    unique([...executorAdmins, d.address]),
  ]);
  const executorFeeLib = await d.deploy('ExecutorFeeLib', [opts.localEid, NATIVE_DECIMALS_RATE]);
  await d.call(executor, 'Executor', 'setWorkerFeeLib', [await executorFeeLib.getAddress()]);
  await d.call(executor, 'Executor', 'setDstConfig', [
    opts.remoteEids.map((dstEid) => ({
      dstEid,
      lzReceiveBaseGas: EXECUTOR_LZ_RECEIVE_BASE_GAS,
      lzComposeBaseGas: EXECUTOR_LZ_COMPOSE_BASE_GAS,
      multiplierBps: MULTIPLIER_BPS,
      floorMarginUSD: 0n,
      nativeCap: EXECUTOR_NATIVE_CAP,
    })),
  ]);
  const executorAddress = await executor.getAddress();
  const dvnAddress = await dvn.getAddress();
  const dvnAddresses = [dvnAddress, ...(second === null ? [] : [await second.getAddress()])];
  // ULN302 requires its DVN list sorted ascending, without duplicates.
  const requiredDVNs = [...dvnAddresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

  // ULN configs first: the endpoint refuses a default library that does not support the eid.
  const ulnConfigs = opts.remoteEids.map((eid) => ({
    eid,
    config: {
      confirmations: opts.confirmations,
      requiredDVNCount: requiredDVNs.length,
      optionalDVNCount: 0,
      optionalDVNThreshold: 0,
      requiredDVNs,
      optionalDVNs: [],
    },
  }));
  await d.call(sendUln, 'SendUln302', 'setDefaultUlnConfigs', [ulnConfigs]);
  await d.call(receiveUln, 'ReceiveUln302', 'setDefaultUlnConfigs', [ulnConfigs]);
  await d.call(sendUln, 'SendUln302', 'setDefaultExecutorConfigs', [
    opts.remoteEids.map((eid) => ({ eid, config: { maxMessageSize: MAX_MESSAGE_SIZE, executor: executorAddress } })),
  ]);

  await d.call(endpoint, 'EndpointV2', 'registerLibrary', [sendUlnAddress]);
  await d.call(endpoint, 'EndpointV2', 'registerLibrary', [receiveUlnAddress]);
  for (const eid of opts.remoteEids) {
    await d.call(endpoint, 'EndpointV2', 'setDefaultSendLibrary', [eid, sendUlnAddress]);
    await d.call(endpoint, 'EndpointV2', 'setDefaultReceiveLibrary', [eid, receiveUlnAddress, 0]);
  }

  if (!dvnAdmins.includes(d.address)) for (const w of [dvn, ...(second === null ? [] : [second])]) await d.call(w, 'DVN', 'revokeRole', [ADMIN_ROLE, d.address]);
  if (!executorAdmins.includes(d.address)) await d.call(executor, 'Executor', 'revokeRole', [ADMIN_ROLE, d.address]);

  return Object.freeze({
    eid: opts.localEid,
    vid,
    endpoint: endpointAddress,
    sendUln302: sendUlnAddress,
    receiveUln302: receiveUlnAddress,
    priceFeed: priceFeedAddress,
    dvn: dvnAddress,
    dvns: Object.freeze(dvnAddresses),
    dvnVids: Object.freeze(second === null ? [vid] : [vid, vid + 10_000]),
    dvnFeeLib: await dvnFeeLib.getAddress(),
    executor: executorAddress,
    executorFeeLib: await executorFeeLib.getAddress(),
  });
}
