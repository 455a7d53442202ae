// Relay calls that failed inside mined RelayBatcher transactions on base, by decoded reason: the
// chaos tests' independent count of steps sent again after they had taken effect (a duplicate).
import { Interface } from 'ethers';
import { errorDecoder } from '../../relayer/chains/abiFunction.js';
import { ourArtifact } from '../../relayer/chains/contractsAbi.js';
import type { DevnetManifest } from '../../relayer/devnet/deploy.js';
import { layerZeroAbi } from '../../relayer/transports/layerzero/artifacts.js';
import { provider } from './devnet.js';

const batcherIface = new Interface(ourArtifact('RelayBatcher').abi);
const decodeRevert = errorDecoder([new Interface(ourArtifact('IsolatedMarginEngine').abi), new Interface(layerZeroAbi('EndpointV2')), new Interface(layerZeroAbi('ReceiveUln302'))]);
/** Reverts that mean a step was sent although it had already taken effect. */
const DUPLICATE = new Set(['AlreadyProcessed', 'VaaAlreadyConsumed', 'LZ_PayloadHashNotFound', 'LZ_InvalidPayloadHash']);

export async function batchFailures(m: DevnetManifest, fromBlock: number): Promise<{ reasons: Record<string, number>; duplicated: number }> {
  const logs = await provider(m, 'base').getLogs({ address: m.chains.base?.contracts.batcher as string, topics: [batcherIface.getEvent('CallFailed')?.topicHash as string], fromBlock });
  const reasons: Record<string, number> = {};
  for (const l of logs) {
    const data = batcherIface.parseLog(l)?.args.getValue('revertData') as string;
    const name = decodeRevert(data)?.name ?? data.slice(0, 10);
    reasons[name] = (reasons[name] ?? 0) + 1;
  }
  return { reasons, duplicated: Object.entries(reasons).filter(([n]) => DUPLICATE.has(n)).reduce((a, [, v]) => a + v, 0) };
}
