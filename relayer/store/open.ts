// Opens the store the config names: a SQLite file (one process), or a PostgreSQL database shared
// by instances, its URL from the config or (better: it may hold a password) the environment.
import type { Config } from '../config/schema.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { PgStore } from './postgres/pgStore.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqliteStore.js';
import type { Store } from './store.js';

export type StoreConfig = Config['store'];

/** The PostgreSQL connection string of a config, read from its environment variable if it names one. */
export function postgresUrl(cfg: Extract<StoreConfig, { postgres: unknown }>, env: NodeJS.ProcessEnv = process.env): string {
  const { url, urlEnv } = cfg.postgres;
  if (url !== undefined) return url;
  const fromEnv = urlEnv === undefined ? undefined : env[urlEnv];
  if (fromEnv === undefined || fromEnv === '')
    throw new IsorelayError(ErrorCode.SECRET_MISSING, `the database URL is not set: environment variable ${urlEnv ?? '?'} is empty`, {
      guidance: [`export ${urlEnv ?? 'ISORELAY_DATABASE_URL'}=postgres://user:password@host:5432/isorelay`],
    });
  return fromEnv;
}

/**
 * A connection string whose password is not percent-encoded (an `@`, `#`, `/` or `?` in it) is
 * parsed wrongly, and a piece of the password would end up named as the host in errors: refused
 * here, without repeating any of it.
 */
export function checkPostgresUrl(url: string): void {
  const rest = url.replace(/^postgres(ql)?:\/\//, '');
  const authority = rest.slice(0, Math.max(rest.lastIndexOf('@'), 0));
  if ((rest.match(/@/g) ?? []).length > 1 || /[#?/]/.test(authority))
    throw new IsorelayError(ErrorCode.CONFIG_INVALID, 'the database URL cannot be read: percent-encode the user name and password (e.g. @ as %40, # as %23, / as %2F)');
}

export async function openStore(cfg: StoreConfig, o: { env?: NodeJS.ProcessEnv; sqlite?: SqliteStoreOptions; migrate?: boolean } = {}): Promise<Store> {
  if ('sqlite' in cfg) return SqliteStore.open(cfg.sqlite, o.sqlite ?? {});
  const url = postgresUrl(cfg, o.env);
  checkPostgresUrl(url);
  return PgStore.open({ url, poolSize: cfg.postgres.poolSize, ...(o.migrate === undefined ? {} : { migrate: o.migrate }) });
}
