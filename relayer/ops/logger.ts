// Builds the pino logger (secrets redacted, errors summarised without credentials) and turns the
// pipeline's event stream into log lines with the ids an operator greps for.
import { formatEther } from 'ethers';
import pino from 'pino';
import { errorSummary, IsorelayError } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import type { EventBus, RelayerEvent } from '../pipeline/events.js';
import type { LogFormat } from '../config/schema.js';
import { prettyDestination, useColor } from './prettyLog.js';

export interface LoggerOptions {
  level: pino.LevelWithSilent;
  /** json (default): one JSON object a line; pretty: a readable line for a terminal (prettyLog.ts). */
  format?: LogFormat;
  /** Pretty lines only: colour the level. Default: when stdout is a terminal and NO_COLOR is unset. */
  color?: boolean;
  /** Where lines go; stdout when absent. Tests pass a stream that collects lines. */
  destination?: pino.DestinationStream;
}

const SECRET_NAMES = ['key', 'privateKey', 'password', 'secret', 'mnemonic', 'authorization'] as const;
/** pino's `*` matches exactly one level, so "any depth" is spelled out down to this many levels. */
const REDACT_DEPTH = 5;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
    const prefix = '*.'.repeat(depth);
    for (const name of SECRET_NAMES) paths.push(`${prefix}${name}`);
  }
  return paths;
}

export interface SerializedError {
  type: string;
  message: string;
  code?: string;
  retryable?: boolean;
  guidance?: string[];
  cause?: string;
  stack?: string;
}

/** The `err` serializer: a one-line summary, the code and guidance, every URL in it redacted. */
export function serializeError(e: unknown): SerializedError {
  const out: SerializedError = {
    type: e instanceof Error ? e.name : typeof e,
    message: redactText(errorSummary(e)),
  };
  if (e instanceof IsorelayError) {
    out.code = e.code;
    out.retryable = e.retryable;
    if (e.guidance.length > 0) out.guidance = e.guidance.map(redactText);
  }
  if (e instanceof Error) {
    if (e.cause !== undefined) out.cause = redactText(errorSummary(e.cause));
    // The stack's first line repeats the message, which may hold a credentialed URL.
    if (e.stack !== undefined) out.stack = redactText(e.stack);
  }
  return out;
}

export function createLogger(options: LoggerOptions): pino.Logger {
  const config: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'isorelay' },
    redact: { paths: redactPaths() },
    serializers: { err: serializeError },
    hooks: {
      // Message strings come from error texts as often as not: redact URLs in them too.
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
        method.apply(this, redacted as Parameters<pino.LogFn>);
      },
    },
  };
  if (options.format === 'pretty') {
    // The pretty stream reads pino's finished JSON lines: redacted above, like every JSON line.
    const out = options.destination ?? process.stdout;
    const color = options.color ?? (options.destination === undefined && useColor(process.stdout, process.env));
    return pino(config, prettyDestination(out, { color }));
  }
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug';

/** Incidents after which a chain's routes stop: the operator must act before anything moves. */
const HALTING_INCIDENTS: ReadonlySet<string> = new Set(['REORG_BEYOND_FINALITY', 'RPC_CHAIN_ID_MISMATCH']);
const WORRYING_DESTINATIONS: ReadonlySet<string> = new Set(['dead', 'orphaned', 'held']);

interface EventLine {
  level: Level;
  bindings: Record<string, string>;
  fields: Record<string, string | number | boolean>;
  msg: string;
}

/** Blocks behind the head above which a scan is reported as catching up (at info). */
const CATCHING_UP_BLOCKS = 100n;

/** How one event reads in the log: its level, the ids to bind, its fields (bigints as strings). */
export function describeEvent(e: RelayerEvent): EventLine {
  switch (e.type) {
    case 'chain.head':
      return {
        level: 'debug',
        bindings: { chain: e.chain },
        fields: { head: e.head.toString(), finalized: e.finalized.toString() },
        msg: 'chain head',
      };
    case 'scan.range':
      return {
        level: 'debug',
        bindings: { stream: e.stream },
        fields: { from: e.from.toString(), to: e.to.toString(), logs: e.logs, durationMs: e.durationMs },
        msg: 'scanned block range',
      };
    case 'scan.progress': {
      const remaining = e.head > e.scanned ? e.head - e.scanned : 0n;
      // Catching up (far behind the head) is news; keeping up is not.
      return {
        level: remaining > CATCHING_UP_BLOCKS ? 'info' : 'debug',
        bindings: { stream: e.stream, chain: e.chain },
        fields: { scanned: e.scanned.toString(), head: e.head.toString(), remaining: remaining.toString() },
        msg: remaining > CATCHING_UP_BLOCKS ? `catching up: scanned to block ${e.scanned} of ${e.head}, ${remaining} to go` : 'scan at the head',
      };
    }
    case 'wallet.balance': {
      const low = e.wei < e.lowWei;
      return {
        level: low ? 'warn' : 'debug',
        bindings: { chain: e.chain },
        fields: { address: e.address, wei: e.wei.toString(), lowWei: e.lowWei.toString() },
        msg: low ? `the gas key ${e.address} is low on ${e.chain}: ${formatEther(e.wei)} ETH, below ${formatEther(e.lowWei)} (chains.${e.chain}.lowBalanceEth): fund it before its transactions stop` : 'gas key balance',
      };
    }
    case 'scan.reorg':
      return {
        level: 'warn',
        bindings: { stream: e.stream },
        fields: { ancestor: e.ancestor.toString(), depth: e.depth.toString(), orphaned: e.orphaned },
        msg: `reorg of ${e.depth} blocks: rewound to block ${e.ancestor}, ${e.orphaned} messages orphaned`,
      };
    case 'scan.gap':
      return {
        level: 'warn',
        bindings: { stream: e.stream },
        fields: { path: e.path, expected: e.expected.toString(), got: e.got.toString(), rewoundTo: e.rewoundTo.toString() },
        msg: `nonce gap on ${e.path}: expected ${e.expected}, saw ${e.got}; a log was missed, rescanning from block ${e.rewoundTo + 1n}`,
      };
    case 'message.observed': {
      const bindings: Record<string, string> = { route: e.route, id: e.id };
      if (e.messageId !== null) bindings.lockId = e.messageId;
      return { level: 'info', bindings, fields: {}, msg: 'message observed' };
    }
    case 'message.moved': {
      const fields: Record<string, string | number> = { from: e.from, to: e.to, ageMs: e.ageMs };
      if (e.code !== undefined) fields.code = e.code;
      if (e.reason !== undefined) fields.reason = redactText(e.reason);
      // Waiting is not failing: an earlier nonce, an unsigned VAA, a full window are debug lines.
      const level: Level = WORRYING_DESTINATIONS.has(e.to) ? 'warn' : e.to === 'delivered' || e.to === 'failed' ? 'info' : 'debug';
      const why = e.reason === undefined ? '' : `: ${e.code === undefined ? '' : `[${e.code}] `}${redactText(e.reason)}`;
      return { level, bindings: { route: e.route, id: e.id }, fields, msg: `message ${e.from} → ${e.to}${why}` };
    }
    case 'tx.mined':
      return {
        // A mined transaction that reverted has spent gas for nothing.
        level: e.ok ? 'info' : 'warn',
        bindings: { chain: e.chain, tx: e.hash },
        fields: { purpose: e.purpose, ok: e.ok, gasUsed: e.gasUsed.toString() },
        msg: e.ok ? `${e.purpose} mined` : `${e.purpose} mined but reverted`,
      };
    case 'stage.error': {
      const bindings: Record<string, string> = { stage: e.stage };
      if (e.chain !== undefined) bindings.chain = e.chain;
      return {
        level: 'warn',
        bindings,
        fields: { retryable: e.retryable },
        msg: `${e.stage} failed${e.retryable ? ' (will retry)' : ''}: ${redactText(e.error)}`,
      };
    }
    case 'incident':
      return {
        level: HALTING_INCIDENTS.has(e.code) ? 'fatal' : 'error',
        bindings: { chain: e.chain },
        fields: { code: e.code },
        msg: redactText(e.message),
      };
    case 'verify.disagreement':
      return {
        // Critical: one of the chain's providers lies or serves another chain; nothing is signed until an operator looks.
        level: 'fatal',
        bindings: { chain: e.chain, route: e.route, id: e.id },
        fields: { providers: e.providers.join(','), dissenting: e.dissenting.join(',') },
        msg: redactText(e.reason),
      };
    case 'route.limited':
      return {
        level: 'warn',
        bindings: { route: e.route, id: e.id },
        fields: { token: e.token, amount: e.amount.toString(), held: e.held },
        msg: redactText(e.reason),
      };
    case 'keeper.tick': {
      const due = e.strategiesDue ?? 0;
      return {
        // Fail closed is worth a line: nobody can be liquidated (nor an expired strategy settled) on that market until prices agree.
        level: e.ok ? 'debug' : 'warn',
        bindings: { market: e.market },
        fields: { indexed: e.indexed, candidates: e.candidates, ...(due === 0 ? {} : { strategiesDue: due }), ...(e.sigma === undefined ? {} : { sigma: e.sigma.toString() }) },
        msg: e.ok ? 'keeper tick' : `no reconciled price, nobody liquidated${due === 0 ? '' : `, ${due} expired ${due === 1 ? 'strategy' : 'strategies'} not settled`}: ${redactText(e.reason ?? '?')}`,
      };
    }
    case 'keeper.liquidation':
      return {
        level: e.ok ? 'info' : 'warn',
        bindings: { market: e.market, position: e.positionKey },
        fields: { price: e.price.toString(), ...(e.tx === undefined ? {} : { tx: e.tx }) },
        msg: e.ok ? (e.partial === true ? 'position partly liquidated, back above maintenance' : 'position liquidated') : `liquidation refused: ${redactText(e.reason ?? '?')}`,
      };
    case 'keeper.settlementSent': {
      const what = `queued settlement ${e.id} (${e.kind} of ${e.amount} of token ${e.token} to ${e.trader} on ${e.chain})`;
      return {
        // A settlement left queued is money waiting on a source chain: worth a warning.
        level: !e.ok ? 'warn' : e.skipped === true ? 'debug' : 'info',
        bindings: { settlement: e.id.toString(), chain: e.chain },
        fields: { kind: e.kind, trader: e.trader, token: e.token, amount: e.amount.toString(), ...(e.messageId === undefined ? {} : { messageId: e.messageId }), ...(e.tx === undefined ? {} : { tx: e.tx }) },
        msg: !e.ok
          ? `${what} not sent, it stays queued (tried again later; anyone may send it: isorelay send-queued --id ${e.id}): ${redactText(e.reason ?? '?')}`
          : e.skipped === true ? `${what} was sent meanwhile by someone else` : `${what} sent`,
      };
    }
    case 'keeper.settlementsPending': {
      const total = e.pending.reduce((n, p) => n + p.count, 0);
      return {
        level: 'debug',
        bindings: {},
        fields: Object.fromEntries(e.pending.map((p) => [p.chain, p.count])),
        msg: `${total} queued ${total === 1 ? 'settlement' : 'settlements'} past the grace and not sent`,
      };
    }
    case 'keeper.strategy': {
      const what = e.action === 'settle' ? 'expired strategy' : 'uncovered strategy';
      const amounts = { ...(e.price === undefined ? {} : { price: e.price.toString() }), ...(e.payoff === undefined ? {} : { payoff: e.payoff.toString() }), ...(e.value === undefined ? {} : { value: e.value.toString() }), ...(e.penalty === undefined ? {} : { penalty: e.penalty.toString() }) };
      return {
        // A settlement after its window is the price of a keeper's outage: the trader got a later price than expiry's.
        level: !e.ok || e.late === true ? 'warn' : 'info',
        bindings: { market: e.market, ...(e.positionKey === '' ? {} : { position: e.positionKey }) },
        fields: { action: e.action, ...amounts, ...(e.tx === undefined ? {} : { tx: e.tx }) },
        msg: e.ok
          ? `${what} ${e.action === 'settle' ? 'settled' : 'liquidated'}${e.late === true ? ' after its settle window' : ''}`
          : `${what} not ${e.action === 'settle' ? 'settled' : 'liquidated'}: ${redactText(e.reason ?? '?')}`,
      };
    }
    case 'keeper.volatility':
      return {
        level: e.ok ? 'info' : 'warn',
        bindings: { market: e.market },
        fields: { sigma: e.sigma.toString(), previous: e.previous.toString(), variance: e.variance.toString(), ...(e.tx === undefined ? {} : { tx: e.tx }) },
        msg: e.ok ? `volatility posted: σ ${formatWadPercent(e.sigma)} (was ${formatWadPercent(e.previous)})` : `volatility not posted: ${redactText(e.reason ?? '?')}`,
      };
  }
}

/** 0.8e18 as "80.00 %". */
function formatWadPercent(x: bigint): string {
  const bp = (x * 10_000n) / 10n ** 18n;
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, '0')} %`;
}

/** Logs every event of the bus; returns the unsubscribe function. */
export function logEvents(bus: EventBus, logger: pino.Logger): () => void {
  return bus.on((event) => {
    const line = describeEvent(event);
    if (!logger.isLevelEnabled(line.level)) return;
    logger.child(line.bindings)[line.level]({ event: event.type, ...line.fields }, line.msg);
  });
}
