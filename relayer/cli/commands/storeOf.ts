// Opens the configured store for a one-off command beside a running daemon: a SQLite file read-only
// (or for an operator's one write, which SQLite serialises), or the shared PostgreSQL database.
// Never migrates; a SQLite file that does not exist yet means the relayer has not run.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/store.js';

export async function openStoreOf(configFile: string, mode: 'readonly' | 'operator'): Promise<Store> {
  const cfg = loadConfig(configFile).store;
  if ('sqlite' in cfg && (cfg.sqlite === ':memory:' || !existsSync(cfg.sqlite)))
    throw new IsorelayError(ErrorCode.USAGE, `no store at ${cfg.sqlite === ':memory:' ? cfg.sqlite : resolve(cfg.sqlite)}: has the relayer run?`);
  return openStore(cfg, { sqlite: { [mode]: true }, migrate: false });
}
