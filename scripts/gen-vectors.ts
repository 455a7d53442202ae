// Generates test/vectors/messages.json, the wire-format v1 vectors of docs/messages.md.
// Deliberately independent of relayer/messages/codec.ts: every word is written by hand as 64 hex
// digits, and every invalid vector is a byte edit of a valid encoding, following the rules of
// contracts/libraries/MarginMessages.sol (check order: length, canonical words 0..7, version,
// kind, amount). Run: npx tsx scripts/gen-vectors.ts [--check]
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAddress, keccak256 } from 'ethers';

export const vectorsPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'messages.json');

export type VectorError = 'BadMessageLength' | 'NonCanonicalWord' | 'UnsupportedVersion' | 'UnknownKind' | 'ZeroAmount';

export interface VectorFields {
  version: string;
  kind: string;
  originChainId: string;
  origin: string;
  nonce: string;
  trader: string;
  positionId: string;
  token: string;
  amount: string;
}

export interface ValidVector {
  name: string;
  fields: VectorFields;
  encoded: string;
  messageId: string;
}

export interface InvalidVector {
  name: string;
  encoded: string;
  error: VectorError;
  /** The custom error's arguments as decimal strings (BadMessageLength(length), NonCanonicalWord(index), …). */
  args: string[];
}

export interface Vectors {
  valid: ValidVector[];
  invalid: InvalidVector[];
}

const MAX64 = 2n ** 64n - 1n;
const MAX256 = 2n ** 256n - 1n;
const ZERO = '0x0000000000000000000000000000000000000000';
const FFFF = getAddress('0xffffffffffffffffffffffffffffffffffffffff');

/** One 32-byte big-endian word, as 64 lowercase hex digits (no 0x). */
function word(value: bigint): string {
  if (value < 0n || value > MAX256) throw new Error(`word out of range: ${value}`);
  return value.toString(16).padStart(64, '0');
}

function addressWord(address: string): string {
  return word(BigInt(getAddress(address)));
}

interface Message {
  version: bigint;
  kind: bigint;
  originChainId: bigint;
  origin: string;
  nonce: bigint;
  trader: string;
  positionId: bigint;
  token: string;
  amount: bigint;
}

function encodeWords(m: Message): string[] {
  return [
    word(m.version),
    word(m.kind),
    word(m.originChainId),
    addressWord(m.origin),
    word(m.nonce),
    addressWord(m.trader),
    word(m.positionId),
    addressWord(m.token),
    word(m.amount),
  ];
}

const hexOf = (words: string[]): string => '0x' + words.join('');

function idOf(m: Message): string {
  return keccak256(hexOf([word(m.originChainId), addressWord(m.origin), word(m.nonce)]));
}

function valid(name: string, m: Message): ValidVector {
  return {
    name,
    fields: {
      version: m.version.toString(),
      kind: m.kind.toString(),
      originChainId: m.originChainId.toString(),
      origin: getAddress(m.origin),
      nonce: m.nonce.toString(),
      trader: getAddress(m.trader),
      positionId: m.positionId.toString(),
      token: getAddress(m.token),
      amount: m.amount.toString(),
    },
    encoded: hexOf(encodeWords(m)),
    messageId: idOf(m),
  };
}

// A typical CREDIT; the invalid vectors are edits of it.
const BASE: Message = {
  version: 1n,
  kind: 1n,
  originChainId: 42161n,
  origin: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  nonce: 1n,
  trader: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  positionId: 0n,
  token: '0xaf88d065e77c8cC2239327C5EDb3A432268e5831',
  amount: 1_000_000n,
};

function buildValid(): ValidVector[] {
  return [
    valid('credit: 1 USDC from Arbitrum, first nonce, position 0', BASE),
    valid('release: Base vault, position 7', {
      ...BASE,
      kind: 2n,
      originChainId: 8453n,
      origin: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
      nonce: 42n,
      trader: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      positionId: 7n,
      token: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
      amount: 2_500_000_000n,
    }),
    valid('seize: Ethereum vault, 18-decimal token', {
      ...BASE,
      kind: 3n,
      originChainId: 1n,
      origin: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
      nonce: 1_000_000n,
      trader: '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
      positionId: 123456789n,
      token: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2',
      amount: 10n ** 18n,
    }),
    valid('credit: max uint64 chain id and nonce, max uint256 position id and amount', {
      ...BASE,
      originChainId: MAX64,
      nonce: MAX64,
      positionId: MAX256,
      amount: MAX256,
    }),
    valid('release: max uint64 chain id and nonce, max uint256 position id and amount', {
      ...BASE,
      kind: 2n,
      originChainId: MAX64,
      nonce: MAX64,
      positionId: MAX256,
      amount: MAX256,
    }),
    valid('seize: amount 1', { ...BASE, kind: 3n, amount: 1n, positionId: 1n }),
    valid('credit: zero address token (the decoder does not reject it)', { ...BASE, token: ZERO }),
    valid('release: minimum words (chain id 0, nonce 0, zero addresses, position 0, amount 1)', {
      ...BASE,
      kind: 2n,
      originChainId: 0n,
      origin: ZERO,
      nonce: 0n,
      trader: ZERO,
      positionId: 0n,
      token: ZERO,
      amount: 1n,
    }),
    valid('seize: all-ones addresses', {
      ...BASE,
      kind: 3n,
      origin: FFFF,
      trader: FFFF,
      token: FFFF,
      positionId: 2n ** 255n,
      amount: 2n ** 255n,
    }),
    valid('credit: top-bit chain id and nonce, high-bit addresses', {
      ...BASE,
      originChainId: 2n ** 63n,
      origin: '0x8000000000000000000000000000000000000000',
      nonce: 2n ** 63n + 1n,
      trader: '0x0000000000000000000000000000000000000001',
      token: '0x8000000000000000000000000000000000000001',
      positionId: 2n ** 128n,
      amount: 2n ** 64n,
    }),
  ];
}

const WORD_NAMES = ['version', 'kind', 'originChainId', 'origin', 'nonce', 'trader', 'positionId', 'token', 'amount'];
const WIDTHS = [8n, 8n, 64n, 160n, 64n, 160n, 256n, 160n, 256n];

/** BASE with some words replaced by raw values (any 256-bit value, canonical or not). */
function edited(replace: Record<number, bigint>, base: Message = BASE): string {
  const words = encodeWords(base);
  for (const [index, value] of Object.entries(replace)) words[Number(index)] = word(value);
  return hexOf(words);
}

function invalid(name: string, encoded: string, error: VectorError, args: (bigint | number)[] = []): InvalidVector {
  return { name, encoded, error, args: args.map((a) => a.toString()) };
}

function buildInvalid(): InvalidVector[] {
  const base = hexOf(encodeWords(BASE));
  const out: InvalidVector[] = [
    invalid('empty', '0x', 'BadMessageLength', [0]),
    invalid('287 bytes (last byte cut)', base.slice(0, -2), 'BadMessageLength', [287]),
    invalid('289 bytes (one byte appended)', base + '00', 'BadMessageLength', [289]),
    invalid('256 bytes (amount word missing)', base.slice(0, -64), 'BadMessageLength', [256]),
    invalid('320 bytes (extra zero word)', base + word(0n), 'BadMessageLength', [320]),
    invalid('1 byte', '0x01', 'BadMessageLength', [1]),
  ];
  const baseWords = encodeWords(BASE).map((w) => BigInt('0x' + w));
  // A dirty bit just above each narrow field's width, and the top bit of the word.
  WIDTHS.forEach((width, index) => {
    if (width === 256n) return;
    const value = baseWords[index] ?? 0n;
    out.push(
      invalid(`dirty bit ${width} in word ${index} (${WORD_NAMES[index]})`, edited({ [index]: value | (1n << width) }), 'NonCanonicalWord', [index]),
      invalid(`dirty bit 255 in word ${index} (${WORD_NAMES[index]})`, edited({ [index]: value | (1n << 255n) }), 'NonCanonicalWord', [index]),
    );
  });
  out.push(
    // 0x101 truncated to uint8 would read as version 1: it must be refused as non-canonical.
    invalid('version 257 (would truncate to 1)', edited({ 0: 257n }), 'NonCanonicalWord', [0]),
    invalid('kind 258 (would truncate to 2)', edited({ 1: 258n }), 'NonCanonicalWord', [1]),
    invalid('version 0', edited({ 0: 0n }), 'UnsupportedVersion', [0]),
    invalid('version 2', edited({ 0: 2n }), 'UnsupportedVersion', [2]),
    invalid('version 255', edited({ 0: 255n }), 'UnsupportedVersion', [255]),
    invalid('kind 0', edited({ 1: 0n }), 'UnknownKind', [0]),
    invalid('kind 4', edited({ 1: 4n }), 'UnknownKind', [4]),
    invalid('kind 255', edited({ 1: 255n }), 'UnknownKind', [255]),
    invalid('zero amount (credit)', edited({ 8: 0n }), 'ZeroAmount'),
    invalid('zero amount (seize)', edited({ 1: 3n, 8: 0n }), 'ZeroAmount'),
    // Check order: length, canonical words in index order, version, kind, amount.
    invalid('precedence: dirty trader and dirty token report word 5', edited({ 5: 1n << 160n, 7: 1n << 160n }), 'NonCanonicalWord', [5]),
    invalid('precedence: dirty token beats version 2', edited({ 0: 2n, 7: 1n << 200n }), 'NonCanonicalWord', [7]),
    invalid('precedence: version 2 beats kind 0', edited({ 0: 2n, 1: 0n }), 'UnsupportedVersion', [2]),
    invalid('precedence: kind 4 beats zero amount', edited({ 1: 4n, 8: 0n }), 'UnknownKind', [4]),
    invalid('precedence: length beats everything', edited({ 0: 0n, 1: 0n, 8: 0n }) + '00', 'BadMessageLength', [289]),
  );
  return out;
}

export function buildVectors(): Vectors {
  return { valid: buildValid(), invalid: buildInvalid() };
}

export function renderVectors(vectors: Vectors): string {
  return JSON.stringify(vectors, null, 2) + '\n';
}

function main(): void {
  const rendered = renderVectors(buildVectors());
  if (process.argv.includes('--check')) {
    if (readFileSync(vectorsPath, 'utf8') !== rendered) {
      console.error(`${vectorsPath} is stale: run npx tsx scripts/gen-vectors.ts`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(vectorsPath, rendered);
  console.log(`wrote ${vectorsPath}`);
}

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) main();
