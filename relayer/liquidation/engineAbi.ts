// The engine's ABI as the keepers use it (perpetuals and options): its interface, and why a call
// the node refused to run would revert, as `Name(arg, …)` from the engine's and the attester set's
// custom errors.
import { Interface } from 'ethers';
import { errorDecoder } from '../chains/abiFunction.js';
import { ourArtifact } from '../chains/contractsAbi.js';

export const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
export const attestationsIface = new Interface(ourArtifact('PriceAttestations').abi);
const decodeError = errorDecoder([engineIface, attestationsIface]);

/** `OracleDeviation(2500…, 3000…)` for revert data the engine's ABI knows; the raw data otherwise. */
export function engineRevertReason(revertData: string | null): string {
  const d = revertData === null ? null : decodeError(revertData);
  return d === null ? `reverted (${revertData ?? 'no data'})` : `${d.name}(${d.args.map(String).join(', ')})`;
}
