// `isorelay route halted|resume`: the routes an incident halted (a reorg beyond finality), for every
// instance on the store and across restarts, and the operator's decision to resume one after
// investigating. A running relayer picks the change up within a heartbeat.
import { formatTable } from '../../app/statusReport.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { toJson } from '../../ops/httpServer.js';
import { openStoreOf } from './storeOf.js';

export interface RouteOptions {
  config: string;
  json?: boolean;
}

export async function routeHaltedCommand(opts: RouteOptions): Promise<void> {
  const store = await openStoreOf(opts.config, 'readonly');
  try {
    const halts = await store.haltedRoutes();
    if (opts.json === true) process.stdout.write(`${toJson(halts)}\n`);
    else if (halts.length === 0) process.stdout.write('no halted routes\n');
    else process.stdout.write(`${formatTable(['route', 'halted at', 'why'], halts.map((h) => [h.route, new Date(h.at).toISOString(), h.reason]))}\n`);
  } finally {
    await store.close();
  }
}

export async function routeResumeCommand(route: string, opts: RouteOptions): Promise<void> {
  const store = await openStoreOf(opts.config, 'operator');
  try {
    if (!(await store.resumeRoute(route))) throw new IsorelayError(ErrorCode.USAGE, `route ${route} is not halted (see \`isorelay route halted\`)`);
    process.stdout.write(`resumed ${route}: running relayers scan and deliver it again within a few seconds\n`);
  } finally {
    await store.close();
  }
}
