// The devnet guardian: part of the devnet, not of the relayer. It watches LogMessagePublished on
// each chain's Wormhole core, waits for the message's consistency level, builds the VAA with
// @wormhole-foundation/sdk-definitions, signs it with every devnet guardian key and serves it
// over HTTP in the shape of Wormholescan's signed-VAA endpoints:
//
//   GET /v1/signed_vaa/{chain}/{emitter}/{sequence} → 200 { "vaaBytes": "<base64>" }
//   GET /api/v1/vaas/{chain}/{emitter}/{sequence}   → 200 { "data": { "vaa": "<base64>", … } }
//   not signed (yet)                                → 404 { "code": 5, "message": "requested VAA not found in store" }
//
// pause() makes every request answer 503 (the API is down) and setDelayMs() delays every answer
// (a slow API), so that tests can check what the relayer does when the guardian API misbehaves.
//
// Consistency levels on devnet: 200 (instant) is signed once the message's block is mined; any
// other level (1 finalized, 201 safe, …) once `finality` more blocks are on top of it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Interface, SigningKey, computeAddress, getAddress, getBytes, hexlify, zeroPadValue, type BytesLike } from 'ethers';
import { Signature, UniversalAddress, createVAA, envelopeLayout, keccak256, serialize } from '@wormhole-foundation/sdk-definitions';
import { connectHost } from './anvil.js';

export const LOG_MESSAGE_PUBLISHED_ABI =
  'event LogMessagePublished(address indexed sender, uint64 sequence, uint32 nonce, bytes payload, uint8 consistencyLevel)';
const coreEvents = new Interface([LOG_MESSAGE_PUBLISHED_ABI]);
const logMessagePublished = coreEvents.getEvent('LogMessagePublished');
if (logMessagePublished === null) throw new Error('LogMessagePublished fragment missing');
export const LOG_MESSAGE_PUBLISHED_TOPIC = logMessagePublished.topicHash;

/** Wormhole's instant consistency level: signed as soon as the block is mined. */
export const CONSISTENCY_LEVEL_INSTANT = 200;
const DEFAULT_FINALITY = 2;
const DEFAULT_POLL_MS = 100;
const RPC_TIMEOUT_MS = 5_000;
const NOT_FOUND = { code: 5, message: 'requested VAA not found in store' } as const;

// ---------------------------------------------------------------------------------------------
// VAA construction and signing

export interface VaaBodyFields {
  /** Unix seconds: the timestamp of the block holding the message. */
  timestamp: number;
  nonce: number;
  /** Wormhole chain id of the emitter's chain. */
  emitterChain: number;
  /** The emitter's address, 20 bytes (left-padded to 32) or already 32 bytes. */
  emitterAddress: string;
  sequence: bigint;
  consistencyLevel: number;
  payload: BytesLike;
}

export interface SignVaaOptions extends VaaBodyFields {
  /** Guardian private keys; the key at position i signs as guardian index i. */
  guardianKeys: readonly string[];
  /** Defaults to 0, the devnet's only guardian set. */
  guardianSetIndex?: number;
  /** Positions in guardianKeys that sign, ascending; all of them by default. */
  signerIndices?: readonly number[];
}

// The SDK's emitterChain layout item converts a numeric Wormhole chain id to its chain name
// (createVAA takes the name); reuse its converter rather than a table of our own.
const emitterChainItem = envelopeLayout[2];
type WormholeChainName = ReturnType<typeof emitterChainItem.custom.to>;

function chainName(id: number): WormholeChainName {
  try {
    return emitterChainItem.custom.to(id);
  } catch (cause) {
    throw new Error(`Wormhole chain id ${id} is unknown to @wormhole-foundation/sdk-definitions`, { cause });
  }
}

function checkUint(value: number, bits: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) throw new Error(`${what} ${value} is not a uint${bits}`);
}

/** The 32-byte emitter as Wormholescan writes it in URLs: 64 lower-case hex digits, no 0x. */
export function wormholeEmitterHex(address: string): string {
  return zeroPadValue(address, 32).slice(2).toLowerCase();
}

function unsignedVaa(fields: VaaBodyFields, guardianSetIndex: number, signatures: { guardianIndex: number; signature: Signature }[]) {
  checkUint(fields.timestamp, 32, 'timestamp');
  checkUint(fields.nonce, 32, 'nonce');
  checkUint(fields.consistencyLevel, 8, 'consistency level');
  checkUint(guardianSetIndex, 32, 'guardian set index');
  if (fields.sequence < 0n || fields.sequence >= 1n << 64n) throw new Error(`sequence ${fields.sequence} is not a uint64`);
  return createVAA('Uint8Array', {
    guardianSet: guardianSetIndex,
    signatures,
    timestamp: fields.timestamp,
    nonce: fields.nonce,
    emitterChain: chainName(fields.emitterChain),
    emitterAddress: new UniversalAddress(getBytes(zeroPadValue(fields.emitterAddress, 32))),
    sequence: fields.sequence,
    consistencyLevel: fields.consistencyLevel,
    payload: getBytes(fields.payload),
  });
}

/**
 * What the guardians sign: keccak256(keccak256(body)). The SDK's VAA `hash` is the single
 * keccak of the body; the core's parseVM computes doubleKeccak256(body) and ecrecovers that.
 */
export function vaaSigningDigest(fields: VaaBodyFields): string {
  return hexlify(keccak256(unsignedVaa(fields, 0, []).hash));
}

/** A serialized VAA v1 signed by the given keys (any keys: tests make bad VAAs with it). */
export function signVaa(opts: SignVaaOptions): Uint8Array {
  const guardianSetIndex = opts.guardianSetIndex ?? 0;
  const indices = opts.signerIndices ?? opts.guardianKeys.map((_, i) => i);
  const digest = vaaSigningDigest(opts);
  const signatures = indices.map((guardianIndex) => {
    const key = opts.guardianKeys[guardianIndex];
    if (key === undefined) throw new Error(`no guardian key at index ${guardianIndex}`);
    checkUint(guardianIndex, 8, 'guardian index');
    const sig = new SigningKey(key).sign(digest);
    // Wormhole carries the recovery id (0/1); the core adds 27 before ecrecover.
    return { guardianIndex, signature: new Signature(BigInt(sig.r), BigInt(sig.s), sig.yParity) };
  });
  return serialize(unsignedVaa(opts, guardianSetIndex, signatures));
}

// ---------------------------------------------------------------------------------------------
// The guardian service

export interface GuardianChain {
  name: string;
  wormholeChainId: number;
  rpcUrl: string;
  evmChainId: number | bigint;
  /** Address of the Wormhole core (proxy) on this chain. */
  core: string;
  pollMs?: number;
  /** First block to scan; 0 by default (devnet chains are short). */
  fromBlock?: number;
}

export interface StartGuardianOptions {
  chains: readonly GuardianChain[];
  /** Private keys of the guardian set, in guardian-index order. */
  guardianKeys: readonly string[];
  guardianSetIndex?: number;
  /** HTTP port; 0 or undefined picks a free one. */
  port?: number;
  /** The address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Confirmations a non-instant message needs on top of its block; 2 by default. */
  finality?: number;
  /** Called on each failed poll (the poll is retried at the next tick). */
  onError?: (error: unknown, chain: string) => void;
}

export interface GuardianService {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** Addresses of the guardian keys, in guardian-index order. */
  readonly guardians: readonly string[];
  /** Signed VAAs so far. */
  signedCount(): number;
  /** Answer 503 to every request until resume(). */
  pause(): void;
  resume(): void;
  /** Delay every answer by `ms` (0: answer at once). */
  setDelayMs(ms: number): void;
  stop(): Promise<void>;
}

interface SignedVaa {
  bytes: Uint8Array;
  chain: number;
  /** The source block that held the message: a devnet chain rewound or reorganised past it takes the VAA back. */
  blockNumber: number;
  blockHash: string;
  emitter: string; // 64 hex digits
  sequence: bigint;
  timestamp: number;
  txHash: string;
  digest: string;
  guardianSetIndex: number;
}

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  blockTimestamp?: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

interface RpcBlock {
  number: string;
  hash: string;
  timestamp: string;
}

interface PendingMessage {
  blockNumber: number;
  blockHash: string;
  blockTimestamp: number | undefined;
  txHash: string;
  sender: string;
  sequence: bigint;
  nonce: number;
  payload: string;
  consistencyLevel: number;
}

class RpcClient {
  private id = 0;
  constructor(private readonly url: string) {}

  async call<T>(method: string, params: readonly unknown[]): Promise<T> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
    // JSON-RPC envelope: result is typed by the caller, which knows the method's answer.
    const body = (await response.json()) as { result?: T; error?: { code: number; message: string } };
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message} (${body.error.code})`);
    if (body.result === undefined) throw new Error(`${method}: no result`);
    return body.result;
  }
}

/** Watches one chain's core and hands ready messages to `sign`. */
class ChainWatcher {
  private readonly rpc: RpcClient;
  private readonly core: string;
  private nextBlock: number;
  private lastScanned: { number: number; hash: string } | undefined;
  private readonly pending = new Map<string, PendingMessage>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly chain: GuardianChain,
    private readonly finality: number,
    private readonly sign: (chain: GuardianChain, message: PendingMessage) => void,
    private readonly isSigned: (chain: number, emitter: string, sequence: bigint) => boolean,
    private readonly onError: (error: unknown, chain: string) => void,
    /** This chain's signed VAAs (their source blocks), and how to take one back. */
    private readonly signedOn: (chain: number) => { key: string; blockNumber: number; blockHash: string }[],
    private readonly forget: (key: string) => void,
  ) {
    this.rpc = new RpcClient(chain.rpcUrl);
    this.core = getAddress(chain.core);
    this.nextBlock = chain.fromBlock ?? 0;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll()
        .catch((error: unknown) => this.onError(error, this.chain.name))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.chain.pollMs ?? DEFAULT_POLL_MS);
        });
    }, ms);
  }

  private async poll(): Promise<void> {
    const head = await this.rpc.call<RpcBlock>('eth_getBlockByNumber', ['latest', false]);
    const headNumber = Number(BigInt(head.number));

    if (this.lastScanned !== undefined && (await this.reorged(this.lastScanned, head, headNumber))) {
      // The last block we scanned is gone. How deep the change goes is unknown (a test may rewind
      // far with evm_revert and then mine past the old tip): scan the whole (devnet-sized) chain
      // again, and take back every VAA whose source block is no longer on the chain, or the same
      // sequence would come back signed over its old payload and the new one never be signed.
      this.nextBlock = this.chain.fromBlock ?? 0;
      this.pending.clear();
      await this.forgetOffChain();
      this.lastScanned = undefined;
    }

    if (this.nextBlock <= headNumber) {
      const logs = await this.rpc.call<RpcLog[]>('eth_getLogs', [
        { address: this.core, topics: [LOG_MESSAGE_PUBLISHED_TOPIC], fromBlock: toQuantity(this.nextBlock), toBlock: head.number },
      ]);
      // A head block that changed between the two calls: try again at the next tick.
      if (logs.some((log) => Number(BigInt(log.blockNumber)) === headNumber && log.blockHash !== head.hash)) return;
      for (const log of logs) {
        if (log.removed === true) continue;
        const parsed = coreEvents.parseLog({ topics: log.topics, data: log.data });
        if (parsed === null) continue;
        this.pending.set(`${log.blockHash}:${log.logIndex}`, {
          blockNumber: Number(BigInt(log.blockNumber)),
          blockHash: log.blockHash,
          blockTimestamp: log.blockTimestamp !== undefined ? Number(BigInt(log.blockTimestamp)) : undefined,
          txHash: log.transactionHash,
          sender: getAddress(parsed.args.getValue('sender') as string),
          sequence: parsed.args.getValue('sequence') as bigint,
          nonce: Number(parsed.args.getValue('nonce') as bigint),
          payload: parsed.args.getValue('payload') as string,
          consistencyLevel: Number(parsed.args.getValue('consistencyLevel') as bigint),
        });
      }
      this.lastScanned = { number: headNumber, hash: head.hash };
      this.nextBlock = headNumber + 1;
    }

    const timestamps = new Map<string, number>();
    for (const [key, message] of this.pending) {
      const required = message.consistencyLevel === CONSISTENCY_LEVEL_INSTANT ? 0 : this.finality;
      if (headNumber - message.blockNumber < required) continue;
      this.pending.delete(key);
      if (this.isSigned(this.chain.wormholeChainId, wormholeEmitterHex(message.sender), message.sequence)) continue;
      if (message.blockTimestamp === undefined) {
        let ts = timestamps.get(message.blockHash);
        if (ts === undefined) {
          const block = await this.rpc.call<RpcBlock | null>('eth_getBlockByHash', [message.blockHash, false]);
          if (block === null) continue; // reorged away between the scan and now: the rewind finds its replacement
          ts = Number(BigInt(block.timestamp));
          timestamps.set(message.blockHash, ts);
        }
        message.blockTimestamp = ts;
      }
      this.sign(this.chain, message);
    }
  }

  private async forgetOffChain(): Promise<void> {
    const signed = this.signedOn(this.chain.wormholeChainId);
    const hashes = new Map<number, string | null>();
    for (const v of signed) {
      if (!hashes.has(v.blockNumber)) {
        const block = await this.rpc.call<RpcBlock | null>('eth_getBlockByNumber', [toQuantity(v.blockNumber), false]);
        hashes.set(v.blockNumber, block === null ? null : block.hash);
      }
      if (hashes.get(v.blockNumber) !== v.blockHash) this.forget(v.key);
    }
  }

  private async reorged(last: { number: number; hash: string }, head: RpcBlock, headNumber: number): Promise<boolean> {
    if (headNumber < last.number) return true;
    if (headNumber === last.number) return head.hash !== last.hash;
    const block = await this.rpc.call<RpcBlock | null>('eth_getBlockByNumber', [toQuantity(last.number), false]);
    return block === null || block.hash !== last.hash;
  }
}

function toQuantity(n: number): string {
  return `0x${n.toString(16)}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** (chain, emitter, sequence) of a signed-VAA path, or undefined when the path is not one. */
function parseVaaPath(pathname: string): { route: 'signed_vaa' | 'api'; key: string } | 'bad-request' | undefined {
  const match = /^\/(?:v1\/signed_vaa|api\/v1\/vaas)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  if (match === null) return undefined;
  const route = pathname.startsWith('/v1/') ? 'signed_vaa' : 'api';
  const [, chainText = '', emitterText = '', sequenceText = ''] = match;
  if (!/^\d{1,5}$/.test(chainText) || !/^\d{1,20}$/.test(sequenceText)) return 'bad-request';
  const emitter = emitterText.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,64}$/.test(emitter)) return 'bad-request';
  return { route, key: vaaKey(Number(chainText), emitter.padStart(64, '0'), BigInt(sequenceText)) };
}

function vaaKey(chain: number, emitterHex64: string, sequence: bigint): string {
  return `${chain}/${emitterHex64}/${sequence}`;
}

/** Starts the watchers and the HTTP API; resolves once the API listens. */
export async function startGuardian(opts: StartGuardianOptions): Promise<GuardianService> {
  if (opts.guardianKeys.length === 0) throw new Error('startGuardian needs at least one guardian key');
  const finality = opts.finality ?? DEFAULT_FINALITY;
  if (!Number.isInteger(finality) || finality < 0) throw new Error(`finality ${finality} must be a non-negative integer`);
  const ids = opts.chains.map((c) => c.wormholeChainId);
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate Wormhole chain ids: ${ids.join(', ')}`);
  for (const chain of opts.chains) chainName(chain.wormholeChainId); // fail now, not at the first message
  const guardianSetIndex = opts.guardianSetIndex ?? 0;
  const guardianKeys = [...opts.guardianKeys];
  const guardians = Object.freeze(guardianKeys.map((key) => computeAddress(key)));
  const onError = opts.onError ?? (() => {});

  const store = new Map<string, SignedVaa>();
  let paused = false;
  let delayMs = 0;

  const sign = (chain: GuardianChain, m: PendingMessage): void => {
    const timestamp = m.blockTimestamp ?? 0;
    const fields: VaaBodyFields = {
      timestamp,
      nonce: m.nonce,
      emitterChain: chain.wormholeChainId,
      emitterAddress: m.sender,
      sequence: m.sequence,
      consistencyLevel: m.consistencyLevel,
      payload: m.payload,
    };
    const emitter = wormholeEmitterHex(m.sender);
    store.set(vaaKey(chain.wormholeChainId, emitter, m.sequence), {
      bytes: signVaa({ ...fields, guardianKeys, guardianSetIndex }),
      chain: chain.wormholeChainId,
      blockNumber: m.blockNumber,
      blockHash: m.blockHash,
      emitter,
      sequence: m.sequence,
      timestamp,
      txHash: m.txHash,
      digest: vaaSigningDigest(fields),
      guardianSetIndex,
    });
  };
  const isSigned = (chain: number, emitter: string, sequence: bigint): boolean => store.has(vaaKey(chain, emitter, sequence));
  const signedOn = (chain: number) => [...store].filter(([, v]) => v.chain === chain).map(([key, v]) => ({ key, blockNumber: v.blockNumber, blockHash: v.blockHash }));
  const forget = (key: string): void => {
    store.delete(key);
  };

  // A wrong RPC URL would otherwise sign messages under another chain's Wormhole id.
  await Promise.all(
    opts.chains.map(async (chain) => {
      const answered = BigInt(await new RpcClient(chain.rpcUrl).call<string>('eth_chainId', []));
      if (answered !== BigInt(chain.evmChainId)) {
        throw new Error(`guardian chain ${chain.name}: ${chain.rpcUrl} is chain ${answered}, expected ${chain.evmChainId}`);
      }
    }),
  );
  const watchers = opts.chains.map((chain) => new ChainWatcher(chain, finality, sign, isSigned, onError, signedOn, forget));

  const pendingReplies = new Set<NodeJS.Timeout>();
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    if (paused) {
      sendJson(res, 503, { code: 14, message: 'guardian API unavailable' });
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET') {
      sendJson(res, 405, { code: 12, message: `method ${req.method ?? '?'} not allowed` });
      return;
    }
    if (pathname === '/healthz') {
      sendJson(res, 200, { ok: true, signed: store.size });
      return;
    }
    const parsed = parseVaaPath(pathname);
    if (parsed === undefined) {
      sendJson(res, 404, { code: 5, message: `no route ${pathname}` });
      return;
    }
    if (parsed === 'bad-request') {
      sendJson(res, 400, { code: 3, message: 'invalid chain, emitter or sequence' });
      return;
    }
    const vaa = store.get(parsed.key);
    if (vaa === undefined) {
      sendJson(res, 404, NOT_FOUND);
      return;
    }
    const base64 = Buffer.from(vaa.bytes).toString('base64');
    if (parsed.route === 'signed_vaa') {
      sendJson(res, 200, { vaaBytes: base64 });
      return;
    }
    const time = new Date(vaa.timestamp * 1000).toISOString();
    sendJson(res, 200, {
      data: {
        id: parsed.key,
        sequence: vaa.sequence.toString(),
        version: 1,
        emitterChain: vaa.chain,
        emitterAddr: vaa.emitter,
        guardianSetIndex: vaa.guardianSetIndex,
        vaa: base64,
        timestamp: time,
        updatedAt: time,
        indexedAt: time,
        txHash: vaa.txHash.replace(/^0x/, ''),
        digest: vaa.digest.replace(/^0x/, ''),
        isDuplicated: false,
      },
      pagination: { next: '' },
    });
  };

  const server: Server = createServer((req, res) => {
    if (delayMs <= 0) {
      answer(req, res);
      return;
    }
    const timer = setTimeout(() => {
      pendingReplies.delete(timer);
      answer(req, res);
    }, delayMs);
    pendingReplies.add(timer);
  });
  server.keepAliveTimeout = 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo; // listening on TCP: an AddressInfo
  for (const watcher of watchers) watcher.start();

  let stopped: Promise<void> | undefined;
  return Object.freeze({
    url: `http://${connectHost(opts.host ?? '127.0.0.1')}:${port}`,
    guardians,
    signedCount: () => store.size,
    pause(): void {
      paused = true;
    },
    resume(): void {
      paused = false;
    },
    setDelayMs(ms: number): void {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`delay ${ms} must be a non-negative number of milliseconds`);
      delayMs = ms;
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        await Promise.all(watchers.map((w) => w.stop()));
        for (const timer of pendingReplies) clearTimeout(timer);
        pendingReplies.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return stopped;
    },
  });
}
