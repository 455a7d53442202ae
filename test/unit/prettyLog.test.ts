// Pretty logs for a terminal: one readable line per JSON line, as redacted as the JSON, bigints
// exact, errors on one line, colour only on a terminal; and how the format is chosen.
import assert from 'node:assert/strict';
import type pino from 'pino';
import { logFormatFrom, LOG_FORMAT_ENV } from '../../relayer/config/logFormat.js';
import { ErrorCode, IsorelayError, isIsorelayError } from '../../relayer/errors/base.js';
import { EventBus } from '../../relayer/pipeline/events.js';
import { createLogger, logEvents } from '../../relayer/ops/logger.js';
import { clockTime, formatLogLine, quoteBigIntegers, useColor } from '../../relayer/ops/prettyLog.js';

const SECRET_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const CREDENTIALED_URL = 'https://relayer:hunter2@eth-mainnet.example.com/v2/sk_live_abcdef123456';
const ANSI = /\x1b\[/;

function prettyLogger(o: { color?: boolean; level?: pino.LevelWithSilent } = {}): { logger: pino.Logger; out: string[] } {
  const out: string[] = [];
  const logger = createLogger({ level: o.level ?? 'debug', format: 'pretty', color: o.color ?? false, destination: { write: (s: string) => void out.push(s) } });
  return { logger, out };
}

/** The line without its leading time, which depends on the clock and the time zone. */
const afterTime = (line: string | undefined) => (line ?? '').replace(/^\d\d:\d\d:\d\d\.\d{3} /, '');

describe('ops/prettyLog', function () {
  it('writes time, level, component, message, then the fields as key=value', function () {
    const t = new Date(2024, 0, 2, 3, 4, 5, 67).getTime();
    const line = formatLogLine(JSON.stringify({ level: 40, time: t, service: 'isorelay', component: 'ops-http', route: 'arbitrum-base', attempts: 3, ok: false, msg: 'action refused' }), { color: false });
    assert.equal(line, '03:04:05.067 WARN  [ops-http] action refused  route=arbitrum-base attempts=3 ok=false\n');
  });

  it('names an event line by its event and keeps its ids', function () {
    const { logger, out } = prettyLogger();
    const bus = new EventBus();
    logEvents(bus, logger);
    bus.emit({ type: 'message.observed', route: 'arbitrum-base', id: 'lz:1', messageId: '0xabc' });
    assert.equal(out.length, 1);
    assert.match(out[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} INFO  \[message\.observed\] message observed  route=arbitrum-base id=lz:1 lockId=0xabc\n$/);
  });

  it('quotes a value with spaces, quotes or = and prints objects as one-line JSON', function () {
    const { logger, out } = prettyLogger();
    logger.info({ reason: 'over the cap', eq: 'a=b', empty: '', nested: { a: [1, 2] } }, 'held');
    assert.equal(afterTime(out[0]), 'INFO  held  reason="over the cap" eq="a=b" empty="" nested={"a":[1,2]}\n');
  });

  it('prints a bigint exactly, as its digits', function () {
    const { logger, out } = prettyLogger();
    logger.info({ wei: 123456789012345678901234567890n, small: 7n, nested: { head: 98765432109876543210n } }, 'balance');
    assert.equal(afterTime(out[0]), 'INFO  balance  wei=123456789012345678901234567890 small=7 nested={"head":"98765432109876543210"}\n');
    assert.equal(quoteBigIntegers('{"a":"12345678901234567890","b":12345678901234567890,"c":-1.5e3,"d":"x\\"9"}'), '{"a":"12345678901234567890","b":"12345678901234567890","c":-1.5e3,"d":"x\\"9"}');
  });

  it('prints an error as one line: its code, message and cause, without the stack', function () {
    const { logger, out } = prettyLogger();
    const e = new IsorelayError(ErrorCode.RPC_UNREACHABLE, 'base is unreachable\nsecond line', { cause: new Error('ECONNREFUSED'), guidance: ['Check the RPC.'] });
    logger.error({ err: e }, 'stage failed');
    assert.equal(out.length, 1);
    assert.equal(out[0]?.split('\n').length, 2, 'one line and its newline');
    assert.match(afterTime(out[0]), /^ERROR stage failed {2}err="RPC_UNREACHABLE: base is unreachable second line \(cause: ECONNREFUSED\)"\n$/);
    assert.doesNotMatch(out[0] ?? '', /at .*\.ts:\d+/, 'no stack frames');
  });

  it('keeps the redaction: no key, no credentialed URL, in fields, messages or errors', function () {
    const { logger, out } = prettyLogger();
    logger.info({ privateKey: SECRET_KEY, signer: { key: SECRET_KEY }, url: 'x' }, `loaded from ${CREDENTIALED_URL}`);
    logger.warn({ err: new Error(`request to ${CREDENTIALED_URL} failed`) }, 'rpc');
    const text = out.join('');
    for (const secret of [SECRET_KEY, 'hunter2', 'sk_live_abcdef123456']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.match(out[0] ?? '', /privateKey=\[Redacted\] signer=\{"key":"\[Redacted\]"\}/);
    assert.match(out[0] ?? '', /loaded from https:\/\/eth-mainnet\.example\.com\/…/);
  });

  it('colours the level only when asked, and nothing else', function () {
    const plain = prettyLogger();
    plain.logger.warn('careful');
    assert.doesNotMatch(plain.out[0] ?? '', ANSI);
    const coloured = prettyLogger({ color: true });
    coloured.logger.warn({ route: 'r' }, 'careful');
    assert.match(coloured.out[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} \x1b\[33mWARN \x1b\[0m careful {2}route=r\n$/);
  });

  it('wants colour on a terminal unless NO_COLOR is set', function () {
    assert.equal(useColor({ isTTY: true }, {}), true);
    assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(useColor({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
    assert.equal(useColor({ isTTY: false }, {}), false);
    assert.equal(useColor({}, {}), false);
  });

  it('passes through a line that is not JSON', function () {
    assert.equal(formatLogLine('not json', { color: false }), 'not json\n');
  });

  it('writes HH:MM:SS.mmm in local time', function () {
    assert.equal(clockTime(new Date(2024, 5, 6, 23, 59, 9, 5).getTime()), '23:59:09.005');
  });
});

describe('config/logFormat', function () {
  it('takes --log-format first, then the environment, then the config', function () {
    assert.equal(logFormatFrom('pretty', { [LOG_FORMAT_ENV]: 'json' }, 'json'), 'pretty');
    assert.equal(logFormatFrom('json', { [LOG_FORMAT_ENV]: 'pretty' }, 'pretty'), 'json');
    assert.equal(logFormatFrom(undefined, { [LOG_FORMAT_ENV]: 'pretty' }, 'json'), 'pretty');
    assert.equal(logFormatFrom(undefined, { [LOG_FORMAT_ENV]: '' }, 'pretty'), 'pretty');
    assert.equal(logFormatFrom(undefined, {}, 'json'), 'json');
  });

  it('refuses an unknown format in the environment, naming the variable', function () {
    assert.throws(
      () => logFormatFrom(undefined, { [LOG_FORMAT_ENV]: 'yaml' }, 'json'),
      (e: unknown) => isIsorelayError(e, 'USAGE') && /ISORELAY_LOG_FORMAT=yaml is not a log format: use json or pretty/.test(e.message),
    );
  });

  it('leaves JSON the default of createLogger', function () {
    const out: string[] = [];
    createLogger({ level: 'info', destination: { write: (s: string) => void out.push(s) } }).info({ a: 1 }, 'hi');
    assert.deepEqual(JSON.parse(out[0] ?? ''), { level: 30, time: (JSON.parse(out[0] ?? '') as { time: number }).time, service: 'isorelay', a: 1, msg: 'hi' });
  });
});
