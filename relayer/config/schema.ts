// The relayer's YAML config as a zod schema: every external value is checked and converted
// here once (addresses checksummed, block numbers to bigint); inside, the types are trusted.
import { getAddress, isAddress } from 'ethers';
import { z } from 'zod';

export const address = z
  .string()
  .refine((s) => isAddress(s), { message: 'not an EVM address (0x followed by 40 hex digits)' })
  .transform((s) => getAddress(s));

const rpcUrl = z
  .string()
  .refine((s) => /^(https?|wss?):\/\//.test(s), { message: 'must be an http(s) or ws(s) URL' });

const finality = z.union([
  z.object({ confirmations: z.number().int().min(0).max(10_000) }).strict(),
  z.object({ tag: z.literal('finalized') }).strict(),
]);

const layerZeroChain = z
  .object({
    eid: z.number().int().positive(),
    endpoint: address,
    receiveUln302: address,
    sendUln302: address.optional(),
    dvn: address,
    /** The ULN confirmations the DVN attests to (must match the receive ULN config). */
    confirmations: z.number().int().min(0).default(1),
  })
  .strict();

const wormholeChain = z
  .object({
    /** Wormhole's own chain id (Arbitrum 23, Optimism 24, Base 30). */
    chainId: z.number().int().min(1).max(65535),
    core: address,
  })
  .strict();

export const TransportName = { layerzero: 'layerzero', wormhole: 'wormhole' } as const;
export type TransportName = (typeof TransportName)[keyof typeof TransportName];

const chain = z
  .object({
    chainId: z.number().int().positive(),
    rpcUrls: z.array(rpcUrl).min(1, { message: 'at least one RPC URL is required' }),
    finality: finality.default({ confirmations: 1 }),
    /** How often to poll the head; set it near the chain's block time. */
    pollMs: z.number().int().min(10).max(60_000).default(1000),
    rpcTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    startBlock: z.number().int().min(0).default(0),
    maxBlockRange: z.number().int().min(1).max(1_000_000).default(2000),
    layerzero: layerZeroChain.optional(),
    wormhole: wormholeChain.optional(),
    vault: address.optional(),
    engine: address.optional(),
    /** Our RelayBatcher on this chain: deliveries here go out many per transaction. */
    batcher: address.optional(),
    /** The most relay calls in one batch transaction (default 120). */
    maxBatchCalls: z.number().int().min(1).max(1000).optional(),
    /** Transactions not mined after this long are replaced with a fee bump. */
    stuckTxMs: z.number().int().min(100).default(30_000),
    /** The cap on fee bumps, as a multiple of the first estimate. */
    maxFeeMultiplier: z.number().min(1).max(100).default(4),
  })
  .strict();

const route = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and dashes' }),
    source: z.string(),
    destination: z.string(),
    transport: z.enum(TransportName),
    paused: z.boolean().default(false),
  })
  .strict();

const secretRef = z.union([
  z.object({ env: z.string().min(1) }).strict(),
  z.object({ keystore: z.string().min(1), passwordEnv: z.string().min(1) }).strict(),
]);

export const configSchema = z
  .object({
    chains: z.record(z.string().regex(/^[a-z0-9-]+$/), chain).refine((c) => Object.keys(c).length >= 2, {
      message: 'at least two chains are required',
    }),
    routes: z.array(route).min(1),
    keys: z
      .object({
        /** Pays gas and submits transactions; cannot by itself authorise a credit. */
        relayer: secretRef,
        /** Signs the DVN's verifications (LayerZero); a different key from the relayer's. */
        dvnSigner: secretRef.optional(),
      })
      .strict(),
    store: z.object({ sqlite: z.string().min(1) }).strict(),
    /** Where signed VAAs are fetched (the Wormholescan / guardian REST shape), for Wormhole routes. */
    wormhole: z
      .object({
        apiUrls: z.array(z.string().refine((s) => /^https?:\/\//.test(s), { message: 'must be an http(s) URL' })).min(1),
        timeoutMs: z.number().int().min(100).max(120_000).default(5_000),
      })
      .strict()
      .optional(),
    pipeline: z
      .object({
        tickMs: z.number().int().min(5).max(60_000).default(100),
        batchSize: z.number().int().min(1).max(500).default(50),
        retryBaseMs: z.number().int().min(10).default(1000),
        retryMaxMs: z.number().int().min(10).default(300_000),
        maxAttempts: z.number().int().min(1).default(12),
      })
      .strict()
      .default({ tickMs: 100, batchSize: 50, retryBaseMs: 1000, retryMaxMs: 300_000, maxAttempts: 12 }),
    ops: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(9464),
        logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 9464, logLevel: 'info' }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    cfg.routes.forEach((r, i) => {
      for (const side of ['source', 'destination'] as const) {
        const name = r[side];
        const c = cfg.chains[name];
        if (c === undefined) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, side], message: `unknown chain "${name}"` });
          continue;
        }
        if (c[r.transport] === undefined) {
          ctx.addIssue({ code: 'custom', path: ['chains', name, r.transport], message: `route ${r.name} uses ${r.transport} but the chain has no ${r.transport} section` });
        }
      }
      if (r.source === r.destination) ctx.addIssue({ code: 'custom', path: ['routes', i], message: 'source and destination are the same chain' });
      if (cfg.chains[r.source] !== undefined && cfg.chains[r.source]?.vault === undefined)
        ctx.addIssue({ code: 'custom', path: ['chains', r.source, 'vault'], message: `route ${r.name} needs the source vault address` });
      if (cfg.chains[r.destination] !== undefined && cfg.chains[r.destination]?.engine === undefined)
        ctx.addIssue({ code: 'custom', path: ['chains', r.destination, 'engine'], message: `route ${r.name} needs the destination engine address` });
    });
    if (cfg.routes.some((r) => r.transport === 'layerzero') && cfg.keys.dvnSigner === undefined)
      ctx.addIssue({ code: 'custom', path: ['keys', 'dvnSigner'], message: 'a route uses layerzero: the DVN signer key is required' });
    if (cfg.routes.some((r) => r.transport === 'wormhole') && cfg.wormhole === undefined)
      ctx.addIssue({ code: 'custom', path: ['wormhole'], message: 'a route uses wormhole: set wormhole.apiUrls (where signed VAAs are fetched)' });
    const names = cfg.routes.map((r) => r.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicate route name "${n}"` });
    });
    const ids = Object.entries(cfg.chains).map(([, c]) => c.chainId);
    Object.entries(cfg.chains).forEach(([name, c]) => {
      if (ids.filter((id) => id === c.chainId).length > 1)
        ctx.addIssue({ code: 'custom', path: ['chains', name, 'chainId'], message: `chain id ${c.chainId} is used by two chains` });
    });
  });

export type RawConfig = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ChainConfig = Config['chains'][string];
export type RouteConfig = Config['routes'][number];
export type SecretRef = z.output<typeof secretRef>;
