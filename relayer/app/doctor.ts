// `isorelay doctor` as a library: checks the config against the chains (RPCs, chain ids, code,
// peers, routes, DVN roles, gas, attesters, markets and their feeds) and returns one line per
// check, grouped per chain; a contract found missing skips the checks that read it. The checks
// live in doctor/, one file per concern; this runs them in order and gathers the report.
import { ChainClient } from '../chains/client.js';
import type { Config } from '../config/schema.js';
import { checkAttesters } from './doctor/attesters.js';
import { checkChain, checkProviders, checkRpcs } from './doctor/chains.js';
import { Absent, Checks, fail, type DoctorCheck } from './doctor/checks.js';
import { checkRoute, checkTokens, checkWormholeRoute } from './doctor/creditRoutes.js';
import { checkDestination } from './doctor/destination.js';
import { loadKeys } from './doctor/keys.js';
import { checkMarkets } from './doctor/markets.js';
import { checkSettleRoute } from './doctor/settleRoutes.js';

export type { CheckSeverity, DoctorCheck } from './doctor/checks.js';

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export async function runDoctor(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const absent = new Absent();
  const keyChecks = new Checks('keys', absent);
  const keys = await loadKeys(config, env, keyChecks);
  const groups = new Map(Object.keys(config.chains).map((name) => [name, new Checks(name, absent)]));
  const group = (name: string) => groups.get(name) as Checks; // every chain has a group, made just above
  const clients = new Map<string, ChainClient>();
  await Promise.all(
    Object.entries(config.chains).map(async ([name, c]) => {
      if (!(await checkRpcs(name, c, group(name)))) {
        group(name).add('other checks', fail('skipped: no RPC URL of this chain answered'));
        return;
      }
      const client = new ChainClient(name, c);
      clients.set(name, client);
      await checkChain(name, client, group(name));
    }),
  );
  for (const name of new Set(config.routes.map((r) => r.source))) {
    const c = config.chains[name];
    if (c !== undefined && clients.has(name)) await checkProviders(name, c, group(name));
  }
  // Route checks read two chains; run them after the chains' own checks so each group reads in order.
  for (const route of config.routes) {
    const check = route.direction === 'settle' ? checkSettleRoute : route.transport === 'wormhole' ? checkWormholeRoute : checkRoute;
    await check(config, route, clients, group(route.source), group(route.destination));
    if (route.direction === 'credit') await checkTokens(config, route, clients, group(route.source));
  }
  for (const dst of new Set(config.routes.map((r) => r.destination))) {
    const client = clients.get(dst);
    if (client !== undefined) await checkDestination(client, keys, group(dst));
  }
  if (config.keeper !== undefined && groups.has(config.keeper.chain)) await checkAttesters(config, keys, clients, group(config.keeper.chain));
  const markets = new Checks('markets', absent);
  await checkMarkets(config, clients, group, markets);
  for (const s of absent.summaries()) (s.group === 'markets' ? markets : group(s.group)).add(s.name, fail(s.detail));

  const checks = [...keyChecks.list, ...[...groups.values()].flatMap((g) => g.list), ...markets.list];
  return { ok: checks.every((c) => c.ok), checks };
}
