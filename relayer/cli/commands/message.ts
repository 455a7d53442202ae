// `isorelay message ID -c FILE [--json]`: one message by any of its ids (the store id, the
// LayerZero guid or Wormhole VAA id, the lockId, the source transaction): its history, the
// transactions signed for it, the chains' answer re-read now, and what happens next.
import { explainMessage, formatMessageReport } from '../../app/explorer.js';
import { ChainClient } from '../../chains/client.js';
import { loadConfig } from '../../config/load.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { toJson } from '../../ops/httpServer.js';
import { openStoreOf } from './storeOf.js';

export interface MessageOptions {
  config: string;
  json?: boolean;
}

export async function messageCommand(key: string, opts: MessageOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const store = await openStoreOf(opts.config, 'readonly');
  try {
    const clients = new Map<string, ChainClient>();
    const client = (chain: string): ChainClient => {
      let c = clients.get(chain);
      if (c === undefined) {
        const cfg = config.chains[chain];
        if (cfg === undefined) throw new IsorelayError(ErrorCode.USAGE, `the message names chain ${chain}, which the config does not`);
        c = new ChainClient(chain, cfg);
        clients.set(chain, c);
      }
      return c;
    };
    const reports = await explainMessage(store, key, { config, client });
    if (reports.length === 0) throw new IsorelayError(ErrorCode.USAGE, `no message known by ${key}: give a message id, a LayerZero guid, a Wormhole VAA id, a lockId or a source transaction hash`);
    process.stdout.write(`${opts.json === true ? toJson(reports) : reports.map(formatMessageReport).join('\n\n')}\n`);
  } finally {
    await store.close();
  }
}
