// Generates test/vectors/messages.json, the wire-format v2 vectors of docs/messages.md.
// Deliberately independent of relayer/messages/codec.ts: every word is written by hand as 64 hex
// digits, and every invalid vector is a byte edit of a valid encoding, following the rules of
// contracts/libraries/MarginMessages.sol (check order: length, canonical words 0..10, version,
// kind, amount, seize context). Run: npx tsx scripts/gen-vectors.ts [--check]
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAddress, keccak256, toUtf8Bytes } from 'ethers';

export const vectorsPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'messages.json');

export type VectorError = 'BadMessageLength' | 'NonCanonicalWord' | 'UnsupportedVersion' | 'UnknownKind' | 'ZeroAmount' | 'BadSeizeContext';

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
  targetChainId: string;
  target: string;
  /** 0x and 64 lower-case hex digits. */
  market: string;
  price: string;
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
const ETH_USD = BigInt(keccak256(toUtf8Bytes('ETH-USD')));
const WAD = 10n ** 18n;

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
  targetChainId: bigint;
  target: string;
  market: bigint;
  price: bigint;
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
    word(m.targetChainId),
    addressWord(m.target),
    word(m.market),
    word(m.price),
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
      targetChainId: m.targetChainId.toString(),
      target: getAddress(m.target),
      market: '0x' + word(m.market),
      price: m.price.toString(),
    },
    encoded: hexOf(encodeWords(m)),
    messageId: idOf(m),
  };
}

const ARBITRUM_VAULT = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const BASE_ENGINE = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const ETHEREUM_VAULT = '0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9';

// A typical CREDIT (Arbitrum vault → Base engine); most invalid vectors are edits of it.
const BASE: Message = {
  version: 2n,
  kind: 1n,
  originChainId: 42161n,
  origin: ARBITRUM_VAULT,
  nonce: 1n,
  trader: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  positionId: 0n,
  token: '0xaf88d065e77c8cC2239327C5EDb3A432268e5831',
  amount: 1_000_000n,
  targetChainId: 8453n,
  target: BASE_ENGINE,
  market: 0n,
  price: 0n,
};

// A typical SEIZE (Base engine → Ethereum vault) at 2500 USD per ETH; the seize-context edits start here.
const SEIZE: Message = {
  ...BASE,
  kind: 3n,
  originChainId: 8453n,
  origin: BASE_ENGINE,
  nonce: 1_000_000n,
  trader: '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
  positionId: 123456789n,
  token: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2',
  amount: 10n ** 18n,
  targetChainId: 1n,
  target: ETHEREUM_VAULT,
  market: ETH_USD,
  price: 2_500n * WAD,
};

function buildValid(): ValidVector[] {
  return [
    valid('credit: 1 USDC from the Arbitrum vault to the Base engine, first nonce, position 0', BASE),
    valid('release: Base engine to the Arbitrum vault, position 7', {
      ...BASE,
      kind: 2n,
      originChainId: 8453n,
      origin: BASE_ENGINE,
      nonce: 42n,
      trader: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      positionId: 7n,
      amount: 2_500_000_000n,
      targetChainId: 42161n,
      target: ARBITRUM_VAULT,
    }),
    valid('seize: Base engine to the Ethereum vault, 18-decimal token, ETH-USD at 2500', SEIZE),
    valid('credit: max uint64 chain ids and nonce, max uint256 position id and amount', {
      ...BASE,
      originChainId: MAX64,
      nonce: MAX64,
      positionId: MAX256,
      amount: MAX256,
      targetChainId: MAX64,
    }),
    valid('release: max uint64 chain ids and nonce, max uint256 position id and amount', {
      ...BASE,
      kind: 2n,
      originChainId: MAX64,
      nonce: MAX64,
      positionId: MAX256,
      amount: MAX256,
      targetChainId: MAX64,
      target: ARBITRUM_VAULT,
    }),
    valid('seize: max uint256 market and price', { ...SEIZE, market: MAX256, price: MAX256 }),
    valid('seize: amount 1, market 1, price 1 wei', { ...SEIZE, amount: 1n, positionId: 1n, market: 1n, price: 1n }),
    valid('credit: zero address token (the decoder does not reject it)', { ...BASE, token: ZERO }),
    valid('release: minimum words (chain ids 0, nonce 0, zero addresses, position 0, amount 1)', {
      ...BASE,
      kind: 2n,
      originChainId: 0n,
      origin: ZERO,
      nonce: 0n,
      trader: ZERO,
      positionId: 0n,
      token: ZERO,
      amount: 1n,
      targetChainId: 0n,
      target: ZERO,
    }),
    valid('seize: all-ones addresses', {
      ...SEIZE,
      origin: FFFF,
      trader: FFFF,
      token: FFFF,
      target: FFFF,
      positionId: 2n ** 255n,
      amount: 2n ** 255n,
      market: 2n ** 255n,
      price: 2n ** 255n,
    }),
    valid('credit: top-bit chain ids and nonce, high-bit addresses', {
      ...BASE,
      originChainId: 2n ** 63n,
      origin: '0x8000000000000000000000000000000000000000',
      nonce: 2n ** 63n + 1n,
      trader: '0x0000000000000000000000000000000000000001',
      token: '0x8000000000000000000000000000000000000001',
      positionId: 2n ** 128n,
      amount: 2n ** 64n,
      targetChainId: 2n ** 63n,
      target: '0x8000000000000000000000000000000000000002',
    }),
  ];
}

const WORD_NAMES = [
  'version', 'kind', 'originChainId', 'origin', 'nonce', 'trader', 'positionId', 'token', 'amount',
  'targetChainId', 'target', 'market', 'price',
];
const WIDTHS = [8n, 8n, 64n, 160n, 64n, 160n, 256n, 160n, 256n, 64n, 160n, 256n, 256n];

/** `base` (BASE unless given) with some words replaced by raw values (any 256-bit value, canonical or not). */
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
    invalid('415 bytes (last byte cut)', base.slice(0, -2), 'BadMessageLength', [415]),
    invalid('417 bytes (one byte appended)', base + '00', 'BadMessageLength', [417]),
    invalid('384 bytes (price word missing)', base.slice(0, -64), 'BadMessageLength', [384]),
    invalid('448 bytes (extra zero word)', base + word(0n), 'BadMessageLength', [448]),
    invalid('288 bytes (a version 1 message: its nine words only)', hexOf(encodeWords({ ...BASE, version: 1n }).slice(0, 9)), 'BadMessageLength', [288]),
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
    // 0x102 truncated to uint8 would read as version 2: it must be refused as non-canonical.
    invalid('version 258 (would truncate to 2)', edited({ 0: 258n }), 'NonCanonicalWord', [0]),
    invalid('kind 259 (would truncate to 3)', edited({ 1: 259n }), 'NonCanonicalWord', [1]),
    invalid('target chain id 2^64 + 8453 (would truncate to 8453)', edited({ 9: (1n << 64n) + 8453n }), 'NonCanonicalWord', [9]),
    invalid('version 0', edited({ 0: 0n }), 'UnsupportedVersion', [0]),
    invalid('version 1 (a v1 header in a v2-length message)', edited({ 0: 1n }), 'UnsupportedVersion', [1]),
    invalid('version 3', edited({ 0: 3n }), 'UnsupportedVersion', [3]),
    invalid('version 255', edited({ 0: 255n }), 'UnsupportedVersion', [255]),
    invalid('kind 0', edited({ 1: 0n }), 'UnknownKind', [0]),
    invalid('kind 4', edited({ 1: 4n }), 'UnknownKind', [4]),
    invalid('kind 255', edited({ 1: 255n }), 'UnknownKind', [255]),
    invalid('zero amount (credit)', edited({ 8: 0n }), 'ZeroAmount'),
    invalid('zero amount (seize)', edited({ 8: 0n }, SEIZE), 'ZeroAmount'),
    invalid('seize with a zero price', edited({ 12: 0n }, SEIZE), 'BadSeizeContext', [3]),
    invalid('seize with a zero market', edited({ 11: 0n }, SEIZE), 'BadSeizeContext', [3]),
    invalid('seize with a zero market and price', edited({ 11: 0n, 12: 0n }, SEIZE), 'BadSeizeContext', [3]),
    invalid('credit with a non-zero price', edited({ 12: 2_500n * WAD }), 'BadSeizeContext', [1]),
    invalid('credit with a non-zero market', edited({ 11: ETH_USD }), 'BadSeizeContext', [1]),
    invalid('release with a non-zero market', edited({ 1: 2n, 11: ETH_USD }), 'BadSeizeContext', [2]),
    invalid('release with a non-zero price', edited({ 1: 2n, 12: 1n }), 'BadSeizeContext', [2]),
    invalid('a seize turned into a release (market and price kept)', edited({ 1: 2n }, SEIZE), 'BadSeizeContext', [2]),
    // Check order: length, canonical words in index order, version, kind, amount, seize context.
    invalid('precedence: dirty trader and dirty token report word 5', edited({ 5: 1n << 160n, 7: 1n << 160n }), 'NonCanonicalWord', [5]),
    invalid('precedence: dirty token beats version 1', edited({ 0: 1n, 7: 1n << 200n }), 'NonCanonicalWord', [7]),
    invalid('precedence: dirty target chain id and dirty target report word 9', edited({ 9: 1n << 64n, 10: 1n << 160n }), 'NonCanonicalWord', [9]),
    invalid('precedence: dirty target beats version 1', edited({ 0: 1n, 10: 1n << 255n }), 'NonCanonicalWord', [10]),
    invalid('precedence: version 1 beats kind 0', edited({ 0: 1n, 1: 0n }), 'UnsupportedVersion', [1]),
    invalid('precedence: kind 4 beats zero amount', edited({ 1: 4n, 8: 0n }), 'UnknownKind', [4]),
    invalid('precedence: kind 4 beats a market and price', edited({ 1: 4n }, SEIZE), 'UnknownKind', [4]),
    invalid('precedence: zero amount beats a seize without a price', edited({ 8: 0n, 12: 0n }, SEIZE), 'ZeroAmount'),
    invalid('precedence: version 1 beats a credit with a price', edited({ 0: 1n, 12: 1n }), 'UnsupportedVersion', [1]),
    invalid('precedence: length beats everything', edited({ 0: 0n, 1: 0n, 8: 0n }) + '00', 'BadMessageLength', [417]),
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
