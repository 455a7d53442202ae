// `isorelay start -c FILE`: the daemon, until SIGINT or SIGTERM.
import { startDaemon, untilSignal } from '../../app/daemon.js';
import { loadConfig } from '../../config/load.js';

export async function startCommand(opts: { config: string }): Promise<void> {
  const config = loadConfig(opts.config);
  const daemon = await startDaemon({ config });
  const signal = await untilSignal();
  daemon.logger.info({ signal }, 'stopping');
  await daemon.stop();
}
