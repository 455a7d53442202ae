// Builds the transports the config's routes use. A new transport is a folder beside layerzero/
// and wormhole/, a name in the config schema, and one line here.
import type { Wallet } from 'ethers';
import type { Config } from '../config/schema.js';
import { LayerZeroTransport } from './layerzero/layerZeroTransport.js';
import type { Transport } from './transport.js';
import { WormholeTransport } from './wormhole/wormholeTransport.js';

export function createTransports(config: Config, keys: { dvnSigner?: Wallet | undefined; dvnSigners?: Readonly<Record<string, Wallet>> | undefined }): Map<string, Transport> {
  const used = new Set(config.routes.map((r) => r.transport));
  const transports = new Map<string, Transport>();
  if (used.has('layerzero')) {
    if (keys.dvnSigner === undefined) throw new Error('a layerzero route needs the DVN signer key');
    transports.set('layerzero', new LayerZeroTransport({ config, dvnSigner: keys.dvnSigner, ...(keys.dvnSigners === undefined ? {} : { dvnSigners: keys.dvnSigners }) }));
  }
  if (used.has('wormhole')) transports.set('wormhole', new WormholeTransport(config));
  return transports;
}
