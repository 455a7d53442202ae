// The contracts the doctor reads, by their ABIs, and the constants its checks compare with.
import { Interface, keccak256, toUtf8Bytes } from 'ethers';
import { ourArtifact } from '../../chains/contractsAbi.js';
import { layerZeroAbi } from '../../transports/layerzero/artifacts.js';

export const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
export const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
export const timelockIface = new Interface(ourArtifact('AdminTimelock').abi);
export const attestationsIface = new Interface(ourArtifact('PriceAttestations').abi);
export const dvnIface = new Interface(layerZeroAbi('DVN'));
export const ADMIN_ROLE = keccak256(toUtf8Bytes('ADMIN_ROLE'));
export const TRANSPORT_LAYERZERO = 1n;
