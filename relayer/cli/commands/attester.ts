// `isorelay attester -c FILE --key-env VAR`: one attester key in its own process, until SIGINT or SIGTERM.
import { startAttester } from '../../app/attester.js';
import { untilSignal } from '../../app/daemon.js';
import { loadConfig } from '../../config/load.js';
import { logFormatFrom } from '../../config/logFormat.js';
import type { LogFormat } from '../../config/schema.js';
import { assertKeysSeparated, loadWallet } from '../../config/secrets.js';
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { createLogger } from '../../ops/logger.js';

export interface AttesterCommandOptions {
  config: string;
  keyEnv: string;
  host: string;
  port: number;
  tokenEnv?: string;
  /** --log-format: over $ISORELAY_LOG_FORMAT and the config's ops.logFormat. */
  logFormat?: LogFormat;
}

export async function attesterCommand(opts: AttesterCommandOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const logger = createLogger({ level: config.ops.logLevel, format: logFormatFrom(opts.logFormat, process.env, config.ops.logFormat) });
  const key = await loadWallet('attester', { env: opts.keyEnv });
  // The relayer's own keys, where this environment has them, must not be this one (keys by role).
  const others = [['relayer (gas)', config.keys.relayer], ['DVN signer', config.keys.dvnSigner]] as const;
  const roles = [{ role: 'attester', address: key.address }];
  const all = [...others, ...Object.entries(config.keys.dvnSigners).map(([n, ref]) => [`DVN signer "${n}"`, ref] as const)];
  for (const [role, ref] of all) {
    if (ref === undefined || !('env' in ref) || (process.env[ref.env] ?? '') === '') continue;
    roles.push({ role, address: (await loadWallet(role, ref)).address });
  }
  assertKeysSeparated(roles);
  const token = opts.tokenEnv === undefined ? undefined : process.env[opts.tokenEnv];
  if (opts.tokenEnv !== undefined && (token === undefined || token === ''))
    throw new IsorelayError(ErrorCode.SECRET_MISSING, `the attester's bearer token is not set: ${opts.tokenEnv} is empty`);
  const attester = await startAttester({ config, key, host: opts.host, port: opts.port, ...(token === undefined ? {} : { token }), logger });
  logger.info({ url: attester.url, signer: attester.address }, 'attester listening');
  process.stdout.write(`attester ${attester.address} listening on ${attester.url}\n`);
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping');
  await attester.close();
}
