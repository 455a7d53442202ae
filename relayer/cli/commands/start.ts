// `isorelay start -c FILE`: the daemon, until SIGINT or SIGTERM.
import { startDaemon, untilSignal } from '../../app/daemon.js';
import { loadConfig } from '../../config/load.js';
import { logFormatFrom } from '../../config/logFormat.js';
import type { LogFormat } from '../../config/schema.js';
import { createLogger } from '../../ops/logger.js';

export interface StartOptions {
  config: string;
  /** --log-format: over $ISORELAY_LOG_FORMAT and the config's ops.logFormat. */
  logFormat?: LogFormat;
}

export async function startCommand(opts: StartOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const logger = createLogger({ level: config.ops.logLevel, format: logFormatFrom(opts.logFormat, process.env, config.ops.logFormat) });
  const daemon = await startDaemon({ config, logger });
  const signal = await untilSignal();
  daemon.logger.info({ signal }, 'stopping');
  await daemon.stop();
}
