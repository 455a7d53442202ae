// Turns pino's JSON lines into lines a person reads in a terminal:
//   12:04:31.207 WARN  [message.moved] message ready → held: over the cap  route=arbitrum-base id=…
// It formats what pino wrote, after redaction, so it can print nothing the JSON line would not.
import type pino from 'pino';

export interface PrettyOptions {
  /** Colour the level (ANSI); see `useColor` for when a terminal wants it. */
  color: boolean;
}

/** pino's numeric levels, as printed (five wide, so that messages line up). */
const LEVELS: Readonly<Record<number, { name: string; color: string }>> = {
  10: { name: 'TRACE', color: '\x1b[90m' },
  20: { name: 'DEBUG', color: '\x1b[36m' },
  30: { name: 'INFO ', color: '\x1b[32m' },
  40: { name: 'WARN ', color: '\x1b[33m' },
  50: { name: 'ERROR', color: '\x1b[31m' },
  60: { name: 'FATAL', color: '\x1b[41m\x1b[97m' },
};
const RESET = '\x1b[0m';

/** Fields every line has and the line prints in its own place, or that say nothing (`service`). */
const PLACED = new Set(['level', 'time', 'msg', 'service', 'component', 'event']);

/** Colour when writing to a terminal, unless NO_COLOR (https://no-color.org) is set to anything. */
export function useColor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '';
}

const two = (n: number) => String(n).padStart(2, '0');

/** HH:MM:SS.mmm in local time: a terminal reader compares it with the clock on the wall. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * pino writes a bigint as a bare integer literal, which JSON.parse would round past 2^53: quote
 * every integer literal too long to be exact (outside strings) before parsing.
 */
export function quoteBigIntegers(json: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += json[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < json.length && /[0-9.eE+-]/.test(json[j] as string)) j++;
      const literal = json.slice(i, j);
      out += /^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal)) ? `"${literal}"` : literal;
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

/** The `err` serializer's object (see logger.ts) on one line: its summary, then its cause. */
function errorLine(e: Record<string, unknown>): string {
  const message = typeof e.message === 'string' ? e.message : JSON.stringify(e);
  const line = typeof e.cause === 'string' && e.cause !== '' ? `${message} (cause: ${e.cause})` : message;
  return oneLine(line);
}

const isErrorObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as Record<string, unknown>).message === 'string' && typeof (v as Record<string, unknown>).type === 'string';

/** A value as it follows `key=`: bare when it has no space, quote or `=`, else JSON-quoted; never two lines. */
function fieldValue(v: unknown): string {
  if (isErrorObject(v)) return JSON.stringify(errorLine(v));
  if (typeof v === 'string') return v !== '' && !/[\s"=]/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One pino JSON line as a readable line (with its newline); a line that is not JSON passes through. */
export function formatLogLine(json: string, o: PrettyOptions): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(quoteBigIntegers(json));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return json.endsWith('\n') ? json : `${json}\n`;
    entry = parsed as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVELS[typeof entry.level === 'number' ? entry.level : 30] ?? { name: String(entry.level).toUpperCase().padEnd(5), color: '' };
  const parts = [typeof entry.time === 'number' ? clockTime(entry.time) : clockTime(Date.now())];
  parts.push(o.color && level.color !== '' ? `${level.color}${level.name}${RESET}` : level.name);
  const component = entry.component ?? entry.event;
  if (typeof component === 'string') parts.push(`[${component}]`);
  // The message itself stays on one line: an error text may carry newlines.
  if (typeof entry.msg === 'string' && entry.msg !== '') parts.push(oneLine(entry.msg));
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (PLACED.has(key) || value === undefined) continue;
    fields.push(`${key}=${fieldValue(value)}`);
  }
  // Two spaces between the message and its fields, so the eye finds where the fields start.
  return `${parts.join(' ')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
}

/** A pino destination that writes each JSON line to `out` as a readable line. */
export function prettyDestination(out: { write(text: string): unknown }, o: PrettyOptions): pino.DestinationStream {
  return {
    write(chunk: string): void {
      // pino writes one line per call; split anyway, in case a caller batches lines.
      for (const line of chunk.split('\n')) if (line !== '') out.write(formatLogLine(line, o));
    },
  };
}
