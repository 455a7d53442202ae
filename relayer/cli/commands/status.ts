// `isorelay status -c FILE [--json]`: reads the store read-only (safe while the daemon runs) and
// the chains' heads, and prints per route the counts by status and per chain the heads.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildStatusReport, readEngineStatus, formatStatusReport, statusReportJson } from '../../app/statusReport.js';
import { ChainClient } from '../../chains/client.js';
import { loadConfig } from '../../config/load.js';
import { SqliteStore } from '../../store/sqlite/sqliteStore.js';

export interface StatusOptions {
  config: string;
  json?: boolean;
}

export async function statusCommand(opts: StatusOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const file = config.store.sqlite;
  if (file === ':memory:' || !existsSync(file)) {
    process.stderr.write(`no store yet at ${file === ':memory:' ? file : resolve(file)}: has the relayer run?\n`);
    process.exitCode = 1;
    return;
  }
  const store = SqliteStore.open(file, { readonly: true });
  try {
    const clients = new Map(Object.entries(config.chains).map(([name, c]) => [name, new ChainClient(name, c)]));
    const report = { ...(await buildStatusReport(config, store, clients)), engines: await readEngineStatus(config, (c) => clients.get(c) as ChainClient) };
    process.stdout.write(`${opts.json === true ? statusReportJson(report) : formatStatusReport(report)}\n`);
  } finally {
    store.close();
  }
}
