// The TypeScript codec against test/vectors/messages.json (written independently of the codec
// by scripts/gen-vectors.ts), plus encode → decode properties over arbitrary valid messages.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { getAddress, hexlify, keccak256, ZeroHash } from 'ethers';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import {
  MESSAGE_BYTES,
  decodeMessage,
  encodeMessage,
  messageId,
  MessageKind,
  type MarginMessage,
} from '../../relayer/messages/codec.js';
import {
  buildVectors,
  renderVectors,
  vectorsPath,
  type VectorError,
  type VectorFields,
  type Vectors,
} from '../../scripts/gen-vectors.js';

const raw = readFileSync(vectorsPath, 'utf8');
// The file's shape is the generator's Vectors; the freshness test below pins it to the generator.
const vectors = JSON.parse(raw) as Vectors;

/** The fragment of the TS error message that corresponds to each Solidity custom error. */
const REASON: Record<VectorError, RegExp> = {
  BadMessageLength: /length/,
  NonCanonicalWord: /not canonical/,
  UnsupportedVersion: /unsupported version/,
  UnknownKind: /unknown kind/,
  ZeroAmount: /zero amount/,
  BadSeizeContext: /seize context/,
};

/** The detail key the TS codec uses for each error's single argument. */
const DETAIL: Partial<Record<VectorError, string>> = {
  BadMessageLength: 'byteLength',
  NonCanonicalWord: 'index',
  UnsupportedVersion: 'version',
  UnknownKind: 'kind',
  BadSeizeContext: 'kind',
};

function toMessage(f: VectorFields): MarginMessage {
  return {
    version: Number(f.version),
    kind: Number(f.kind) as MessageKind,
    originChainId: BigInt(f.originChainId),
    origin: f.origin,
    nonce: BigInt(f.nonce),
    trader: f.trader,
    positionId: BigInt(f.positionId),
    token: f.token,
    amount: BigInt(f.amount),
    targetChainId: BigInt(f.targetChainId),
    target: f.target,
    market: f.market,
    price: BigInt(f.price),
  };
}

function expectMalformed(hex: string, reason: RegExp): IsorelayError {
  let caught: unknown;
  try {
    decodeMessage(hex);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof IsorelayError, `expected an IsorelayError, got ${String(caught)}`);
  assert.equal(caught.code, ErrorCode.MESSAGE_MALFORMED);
  assert.match(caught.message, reason);
  return caught;
}

describe('wire codec (TypeScript) against test/vectors/messages.json', function () {
  it('the committed vectors are what scripts/gen-vectors.ts generates', function () {
    assert.ok(raw === renderVectors(buildVectors()), 'test/vectors/messages.json is stale: run npx tsx scripts/gen-vectors.ts');
  });

  it('has enough vectors: every kind, every error', function () {
    assert.ok(vectors.valid.length >= 8);
    assert.ok(vectors.invalid.length >= 8);
    assert.deepEqual(new Set(vectors.valid.map((v) => v.fields.kind)), new Set(['1', '2', '3']));
    assert.deepEqual(new Set(vectors.invalid.map((v) => v.error)), new Set(Object.keys(REASON)));
  });

  describe('valid', function () {
    for (const v of vectors.valid) {
      it(v.name, function () {
        const m = toMessage(v.fields);
        assert.equal(encodeMessage(m), v.encoded, 'encode');
        assert.deepEqual(decodeMessage(v.encoded), m, 'decode');
        assert.deepEqual(decodeMessage(v.encoded.toUpperCase().replace(/^0X/, '0x')), m, 'decode (upper-case hex)');
        assert.equal(messageId(m.originChainId, m.origin, m.nonce), v.messageId, 'messageId');
      });
    }
  });

  describe('invalid', function () {
    for (const v of vectors.invalid) {
      it(`${v.name} → ${v.error}`, function () {
        const e = expectMalformed(v.encoded, REASON[v.error]);
        const key = DETAIL[v.error];
        if (key !== undefined) {
          const [arg] = v.args;
          assert.ok(arg !== undefined, `${v.error} vector without its argument`);
          assert.equal(String(e.details[key]), arg, `details.${key}`);
        }
      });
    }
  });

  it('refuses odd-length and non-hex input', function () {
    const first = vectors.valid[0];
    assert.ok(first !== undefined);
    expectMalformed(first.encoded + '0', /not hex/);
    expectMalformed('0x' + 'zz'.repeat(MESSAGE_BYTES), /not hex/);
    expectMalformed(first.encoded.slice(2), /not hex/);
  });
});

const MAX64 = 2n ** 64n - 1n;
const MAX256 = 2n ** 256n - 1n;
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b)));
/** A SEIZE's context: a non-zero market (lower-case, as decoded) and a non-zero price. */
const seizeContext = fc.record({
  market: fc.bigInt({ min: 1n, max: MAX256 }).map((x) => '0x' + x.toString(16).padStart(64, '0')),
  price: fc.bigInt({ min: 1n, max: MAX256 }),
});
const validMessage: fc.Arbitrary<MarginMessage> = fc.record({
  version: fc.constant(2),
  kind: fc.constantFrom<MessageKind>(1, 2, 3),
  originChainId: fc.bigInt({ min: 0n, max: MAX64 }),
  origin: address,
  nonce: fc.bigInt({ min: 0n, max: MAX64 }),
  trader: address,
  positionId: fc.bigInt({ min: 0n, max: MAX256 }),
  token: address,
  amount: fc.bigInt({ min: 1n, max: MAX256 }),
  targetChainId: fc.bigInt({ min: 0n, max: MAX64 }),
  target: address,
  seize: seizeContext,
}).map(({ seize, ...m }) =>
  // Only a SEIZE carries a market and price. The spread also matters: fc.record builds
  // null-prototype objects and deepEqual checks prototypes.
  m.kind === MessageKind.SEIZE ? { ...m, ...seize } : { ...m, market: ZeroHash, price: 0n },
);

describe('wire codec (TypeScript) properties', function () {
  it('encode → decode round-trips every valid message', function () {
    fc.assert(
      fc.property(validMessage, (m) => {
        const hex = encodeMessage(m);
        assert.equal((hex.length - 2) / 2, MESSAGE_BYTES);
        assert.deepEqual(decodeMessage(hex), m);
      }),
      { numRuns: 500 },
    );
  });

  it('messageId is keccak256 of the first-principles three-word encoding', function () {
    const w = (x: bigint): string => x.toString(16).padStart(64, '0');
    fc.assert(
      fc.property(validMessage, (m) => {
        const expected = keccak256('0x' + w(m.originChainId) + w(BigInt(m.origin)) + w(m.nonce));
        assert.equal(messageId(m.originChainId, m.origin, m.nonce), expected);
      }),
      { numRuns: 200 },
    );
  });

  it('any set bit above a narrow field’s width is refused as not canonical', function () {
    const narrow = [
      [0, 8],
      [1, 8],
      [2, 64],
      [3, 160],
      [4, 64],
      [5, 160],
      [7, 160],
      [9, 64],
      [10, 160],
    ] as const;
    fc.assert(
      fc.property(validMessage, fc.constantFrom(...narrow), fc.nat(255), (m, [index, width], bitSeed) => {
        const bit = BigInt(width + (bitSeed % (256 - width)));
        const hex = encodeMessage(m);
        const start = 2 + index * 64;
        const dirty = (BigInt('0x' + hex.slice(start, start + 64)) | (1n << bit)).toString(16).padStart(64, '0');
        const e = expectMalformed(hex.slice(0, start) + dirty + hex.slice(start + 64), /not canonical/);
        assert.equal(e.details.index, index);
      }),
      { numRuns: 300 },
    );
  });

  it('a market or price outside a SEIZE, or a SEIZE without both, is refused with its kind', function () {
    fc.assert(
      fc.property(validMessage, fc.constantFrom(11, 12), fc.bigInt({ min: 1n, max: MAX256 }), (m, index, value) => {
        const hex = encodeMessage(m);
        const start = 2 + index * 64;
        // A SEIZE loses its market or price; anything else gains one.
        const edit = (m.kind === MessageKind.SEIZE ? 0n : value).toString(16).padStart(64, '0');
        const e = expectMalformed(hex.slice(0, start) + edit + hex.slice(start + 64), /seize context/);
        assert.equal(e.details.kind, m.kind);
      }),
      { numRuns: 300 },
    );
  });

  it('any length other than 416 bytes is refused', function () {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }).filter((b) => b.length !== MESSAGE_BYTES),
        (bytes) => {
          expectMalformed(hexlify(bytes), /length/);
        },
      ),
      { numRuns: 200 },
    );
  });
});
