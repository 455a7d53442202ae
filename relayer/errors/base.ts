// The one error base of isorelay: a stable code, a message a user can act on, guidance, the cause.
// Whether an error is worth retrying is decided here, by its code, and nowhere else.

export const ErrorCode = {
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  CONFIG_INVALID: 'CONFIG_INVALID',
  SECRET_MISSING: 'SECRET_MISSING',
  KEY_ROLE_CONFLICT: 'KEY_ROLE_CONFLICT',
  RPC_UNREACHABLE: 'RPC_UNREACHABLE',
  RPC_TIMEOUT: 'RPC_TIMEOUT',
  RPC_CHAIN_ID_MISMATCH: 'RPC_CHAIN_ID_MISMATCH',
  RPC_BAD_RESPONSE: 'RPC_BAD_RESPONSE',
  GUARDIAN_API_UNAVAILABLE: 'GUARDIAN_API_UNAVAILABLE',
  REORG_BEYOND_FINALITY: 'REORG_BEYOND_FINALITY',
  MESSAGE_MALFORMED: 'MESSAGE_MALFORMED',
  STORE_LOCKED: 'STORE_LOCKED',
  STORE_BAD_TRANSITION: 'STORE_BAD_TRANSITION',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  LEASE_LOST: 'LEASE_LOST',
  TX_REVERTED: 'TX_REVERTED',
  TX_REJECTED: 'TX_REJECTED',
  TX_FEE_CAP: 'TX_FEE_CAP',
  MARKET_UNKNOWN: 'MARKET_UNKNOWN',
  CREDIT_TIMEOUT: 'CREDIT_TIMEOUT',
  QUOTE_REFUSED: 'QUOTE_REFUSED',
  PORT_IN_USE: 'PORT_IN_USE',
  USAGE: 'USAGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes whose cause is passing (a node down, a stuck fee, a race): retry with backoff. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.RPC_UNREACHABLE,
  ErrorCode.RPC_TIMEOUT,
  ErrorCode.RPC_BAD_RESPONSE,
  ErrorCode.GUARDIAN_API_UNAVAILABLE,
  ErrorCode.TX_REJECTED,
  ErrorCode.TX_FEE_CAP,
  ErrorCode.STORE_UNAVAILABLE,
]);

export interface IsorelayErrorOptions {
  guidance?: string[];
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class IsorelayError extends Error {
  override readonly name: string = 'IsorelayError';
  readonly code: ErrorCode;
  readonly guidance: readonly string[];
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: IsorelayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.guidance = options.guidance ?? [];
    this.details = options.details ?? {};
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** The message with its guidance, as the CLI prints it. */
  describe(): string {
    const lines = [`${this.code}: ${this.message}`];
    for (const g of this.guidance) lines.push(`  → ${g}`);
    return lines.join('\n');
  }
}

export function isIsorelayError(e: unknown, code?: ErrorCode): e is IsorelayError {
  return e instanceof IsorelayError && (code === undefined || e.code === code);
}

/** Errors that are not ours (ethers, fetch, sockets) are infrastructure: retryable. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof IsorelayError) return e.retryable;
  return true;
}

/** A short, secret-free one-line description of any thrown value. */
export function errorSummary(e: unknown): string {
  if (e instanceof IsorelayError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.name;
  return String(e);
}
