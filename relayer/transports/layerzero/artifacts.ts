// The real LayerZero v2 contracts' ABI and creation bytecode, read once from the hardhat
// artifacts that @layerzerolabs/lz-evm-protocol-v2 and lz-evm-messagelib-v2 ship.
import { createRequire } from 'node:module';
import type { InterfaceAbi } from 'ethers';

const PROTOCOL = '@layerzerolabs/lz-evm-protocol-v2/artifacts/contracts';
const MESSAGELIB = '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts';

const ARTIFACT_PATHS = {
  EndpointV2: `${PROTOCOL}/EndpointV2.sol/EndpointV2.json`,
  SendUln302: `${MESSAGELIB}/uln/uln302/SendUln302.sol/SendUln302.json`,
  ReceiveUln302: `${MESSAGELIB}/uln/uln302/ReceiveUln302.sol/ReceiveUln302.json`,
  DVN: `${MESSAGELIB}/uln/dvn/DVN.sol/DVN.json`,
  DVNFeeLib: `${MESSAGELIB}/uln/dvn/DVNFeeLib.sol/DVNFeeLib.json`,
  Executor: `${MESSAGELIB}/Executor.sol/Executor.json`,
  ExecutorFeeLib: `${MESSAGELIB}/ExecutorFeeLib.sol/ExecutorFeeLib.json`,
  PriceFeed: `${MESSAGELIB}/PriceFeed.sol/PriceFeed.json`,
  Treasury: `${MESSAGELIB}/Treasury.sol/Treasury.json`,
} as const;

export type LayerZeroContractName = keyof typeof ARTIFACT_PATHS;
// Object.keys widens to string[]; the keys are exactly those of ARTIFACT_PATHS.
export const LAYERZERO_CONTRACT_NAMES = Object.freeze(Object.keys(ARTIFACT_PATHS) as LayerZeroContractName[]);

export interface LayerZeroArtifact {
  readonly contractName: LayerZeroContractName;
  readonly abi: InterfaceAbi;
  /** Creation bytecode, 0x-prefixed, fully linked. */
  readonly bytecode: string;
}

const require = createRequire(import.meta.url);
const cache = new Map<LayerZeroContractName, LayerZeroArtifact>();

/** ABI and bytecode of one LayerZero v2 contract, validated on first load and cached. */
export function layerZeroArtifact(name: LayerZeroContractName): LayerZeroArtifact {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;

  const artifactPath = ARTIFACT_PATHS[name];
  const raw: unknown = require(artifactPath);
  // Fields typed unknown here and checked just below.
  const { abi, bytecode } = (raw ?? {}) as { abi?: unknown; bytecode?: unknown };
  if (!Array.isArray(abi)) throw new Error(`LayerZero artifact ${artifactPath} has no abi array`);
  if (typeof bytecode !== 'string' || !/^0x[0-9a-fA-F]+$/.test(bytecode)) {
    // Unlinked library placeholders (__$…$__) would also fail here, which is what we want.
    throw new Error(`LayerZero artifact ${artifactPath} has no deployable bytecode`);
  }
  const artifact: LayerZeroArtifact = Object.freeze({
    contractName: name,
    abi: Object.freeze(abi) as InterfaceAbi, // a hardhat ABI array is a JSON fragment list
    bytecode,
  });
  cache.set(name, artifact);
  return artifact;
}

/** Only the ABI, e.g. to build an ethers Interface for decoding events and errors. */
export function layerZeroAbi(name: LayerZeroContractName): InterfaceAbi {
  return layerZeroArtifact(name).abi;
}
