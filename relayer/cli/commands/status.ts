// `isorelay status -c FILE [--json]`: reads the store read-only (safe while the daemon runs) and
// the chains' heads, and prints per route the counts by status and per chain the heads.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildStatusReport, readEngineStatus, formatStatusReport, statusReportJson } from '../../app/statusReport.js';
import { ChainClient } from '../../chains/client.js';
import { loadConfig } from '../../config/load.js';
import { openStore } from '../../store/open.js';

export interface StatusOptions {
  config: string;
  json?: boolean;
}

export async function statusCommand(opts: StatusOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const cfg = config.store;
  if ('sqlite' in cfg && (cfg.sqlite === ':memory:' || !existsSync(cfg.sqlite))) {
    process.stderr.write(`no store yet at ${cfg.sqlite === ':memory:' ? cfg.sqlite : resolve(cfg.sqlite)}: has the relayer run?\n`);
    process.exitCode = 1;
    return;
  }
  const store = await openStore(cfg, { sqlite: { readonly: true }, migrate: false });
  try {
    const clients = new Map(Object.entries(config.chains).map(([name, c]) => [name, new ChainClient(name, c)]));
    const report = { ...(await buildStatusReport(config, store, clients)), engines: await readEngineStatus(config, (c) => clients.get(c) as ChainClient) };
    process.stdout.write(`${opts.json === true ? statusReportJson(report) : formatStatusReport(report)}\n`);
  } finally {
    await store.close();
  }
}
