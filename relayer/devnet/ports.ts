// Before a devnet touches anything, every fixed port it will listen on must be free: a second
// `isorelay devnet` on the ports of a running one is refused, naming each port and what holds it.
import { createServer } from 'node:net';
import { ErrorCode, IsorelayError } from '../errors/base.js';

export interface DevnetPort {
  port: number;
  /** What will listen there, e.g. "arbitrum's RPC". */
  what: string;
  /** The option of `isorelay devnet` that moves it, e.g. --port. */
  flag: string;
  /** Where it will listen; 127.0.0.1 by default. */
  host?: string;
}

/** Whether `port` can be bound on `host` now (the probe is closed again at once). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * Throws PORT_IN_USE naming every port of `ports` that is taken (0: a free one is picked later,
 * nothing to check). `untouched` says what the refusal left as it was, e.g. the running devnet's files.
 */
export async function assertPortsFree(ports: readonly DevnetPort[], untouched?: string): Promise<void> {
  const fixed = ports.filter((p) => p.port !== 0);
  const taken: DevnetPort[] = [];
  for (const p of fixed) if (!(await portIsFree(p.port, p.host))) taken.push(p);
  const [first] = taken;
  if (first === undefined) return;
  const flags = [...new Set(taken.map((p) => `${p.flag} 0`))].join(' ');
  throw new IsorelayError(
    ErrorCode.PORT_IN_USE,
    `port ${first.port} is in use — another devnet running? stop it (Ctrl-C) or pass ${flags} for free ports`,
    {
      guidance: [
        `In use: ${taken.map((p) => `${p.port} (${p.what})`).join(', ')}.`,
        ...(untouched === undefined ? [] : [`Nothing was started or changed: ${untouched}.`]),
      ],
      details: { ports: taken.map((p) => p.port) },
    },
  );
}
