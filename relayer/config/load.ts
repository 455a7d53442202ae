// Loads the config: YAML file → parse with zod → frozen object. Errors name the path and the problem.
// The file is the one given with -c, or else the one ISORELAY_CONFIG names.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import { configSchema, type Config } from './schema.js';

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
  return `${path}: ${issue.message}`;
}

export function parseConfig(raw: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map(formatIssue);
    throw new IsorelayError(ErrorCode.CONFIG_INVALID, `${source} is invalid:\n  ${problems.join('\n  ')}`, {
      guidance: ['Fix the fields named above; config/example.yaml shows every field with a comment.'],
      details: { problems },
    });
  }
  return deepFreeze(result.data);
}

/** The environment variable naming the config file when a command is given no -c. */
export const CONFIG_ENV = 'ISORELAY_CONFIG';

/** The config file a command reads: `-c` when given, else $ISORELAY_CONFIG; neither is a usage error naming both. */
export function configFileFrom(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  throw new IsorelayError(ErrorCode.USAGE, `no config file: pass -c <file> or set ${CONFIG_ENV}`, {
    guidance: [`e.g. export ${CONFIG_ENV}=.devnet/relayer.yaml (written by \`npm run devnet\`); config/example.yaml shows every field.`],
  });
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new IsorelayError(ErrorCode.CONFIG_NOT_FOUND, `cannot read config file ${path}`, {
      guidance: [`Pass an existing file with -c or ${CONFIG_ENV}; \`npm run devnet\` writes .devnet/relayer.yaml.`],
      cause,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    // The parser's message quotes the offending line, which may hold an RPC URL with an API key:
    // keep only its first sentence and position, and not the parser error itself.
    const msg = cause instanceof Error ? redactText(cause.message.split(':\n')[0] ?? 'parse error') : 'parse error';
    throw new IsorelayError(ErrorCode.CONFIG_INVALID, `${path} is not valid YAML: ${msg}`, {
      guidance: ['Fix the YAML syntax at the line and column named above.'],
    });
  }
  return parseConfig(raw, path);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
