// Which log format a process writes: --log-format, else $ISORELAY_LOG_FORMAT, else the config's
// ops.logFormat (json by default). JSON stays the default: log collectors parse it.
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { LogFormat } from './schema.js';

/** The environment variable that picks the log format when no --log-format is given. */
export const LOG_FORMAT_ENV = 'ISORELAY_LOG_FORMAT';

const isLogFormat = (v: string): v is LogFormat => Object.values<string>(LogFormat).includes(v);

/** The format to log in; an unknown value in the environment is a usage error naming the variable. */
export function logFormatFrom(flag: LogFormat | undefined, env: Readonly<Record<string, string | undefined>>, configured: LogFormat): LogFormat {
  if (flag !== undefined) return flag;
  const fromEnv = (env[LOG_FORMAT_ENV] ?? '').trim();
  if (fromEnv === '') return configured;
  if (!isLogFormat(fromEnv))
    throw new IsorelayError(ErrorCode.USAGE, `${LOG_FORMAT_ENV}=${fromEnv} is not a log format: use ${Object.values(LogFormat).join(' or ')}`, {
      guidance: [`Unset ${LOG_FORMAT_ENV} to use the config's ops.logFormat (json unless set).`],
    });
  return fromEnv;
}
