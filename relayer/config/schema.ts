// The relayer's YAML config as a zod schema: every external value is checked and converted
// here once (addresses checksummed, block numbers to bigint); inside, the types are trusted.
import { getAddress, isAddress, parseEther, parseUnits } from 'ethers';
import { z } from 'zod';

export const address = z
  .string()
  .superRefine((s, ctx) => {
    if (isAddress(s)) return;
    // 40 hex digits in mixed case that fail their checksum: a typo, not a malformed value.
    const badChecksum = /^0x[0-9a-fA-F]{40}$/.test(s);
    ctx.addIssue({ code: 'custom', message: badChecksum ? 'has a bad checksum (a mistyped address?): check it, or write it all in lower case' : 'not an EVM address (0x followed by 40 hex digits)' });
  })
  .transform((s) => getAddress(s));

const rpcUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:\/\//.test(s), { message: 'must be an http(s) URL (JSON-RPC over HTTP; websockets are not used)' });

/** Independent providers that must agree on a source message before it is verified (RELIABILITY 8). */
export const DEFAULT_VERIFY_QUORUM = 2;

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
    /** Our DVN on this chain, signed by keys.dvnSigner. */
    dvn: address,
    /** The source providers (chains.<source>.providers names) whose answers this DVN signs from; default: all. */
    dvnProviders: z.array(z.string()).min(1).optional(),
    /**
     * Further DVNs the pathway requires (the ULN's requiredDVNs) that this relayer runs, each with its
     * own key (a name in keys.dvnSigners) and its own source providers: as a production OApp
     * configures several DVNs that do not share keys or RPCs.
     */
    moreDvns: z
      .array(z.object({ address, signer: z.string().min(1), providers: z.array(z.string()).min(1).optional() }).strict())
      .default([]),
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

/** How log lines are written: one JSON object a line (for machines), or a readable line for a terminal. */
export const LogFormat = { json: 'json', pretty: 'pretty' } as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

const chain = z
  .object({
    chainId: z.number().int().positive(),
    rpcUrls: z.array(rpcUrl).min(1, { message: 'at least one RPC URL is required' }),
    /**
     * Independent RPC providers by name, each with its own URLs (failover inside a provider only).
     * What the relayer verifies or signs for a message from this chain is read from every
     * provider and must agree by content on `verifyQuorum` of them. Default: one provider, `rpcUrls`.
     */
    providers: z.record(z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and dashes' }), z.array(rpcUrl).min(1)).optional(),
    /** How many independent providers must serve the same finalized receipt (default 2; 1 only when written). */
    verifyQuorum: z.number().int().min(1).optional(),
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
    /** Our PriceAttestations on a destination (the attester set the engine trusts). */
    attestations: address.optional(),
    /** Our RelayBatcher on this chain: deliveries here go out many per transaction. */
    batcher: address.optional(),
    /** The most relay calls in one batch transaction (default 120). */
    maxBatchCalls: z.number().int().min(1).max(1000).optional(),
    /** Transactions not mined after this long are replaced with a fee bump. */
    stuckTxMs: z.number().int().min(100).default(30_000),
    /** The cap on fee bumps, as a multiple of the first estimate. */
    maxFeeMultiplier: z.number().min(1).max(100).default(4),
    /**
     * Below this native balance (in ETH, a decimal string) the gas key is low: warned in the log,
     * isorelay_wallet_low_balance reads 1 and its alert fires. Default 0.05.
     */
    lowBalanceEth: z
      .string()
      .regex(/^[0-9]+(\.[0-9]{1,18})?$/, { message: 'an amount of ETH as a decimal string, e.g. "0.05"' })
      .default('0.05')
      .transform((s) => parseEther(s)),
  })
  .strict();

/** An amount of a token, in its base units, as a decimal string (money is never a float). */
const tokenAmount = z
  .string()
  .regex(/^[1-9][0-9]*$/, { message: 'a positive integer amount in the token\'s base units, as a string' })
  .transform((s) => BigInt(s));

/** Bounds on what one credit route may credit of one source token (RELIABILITY 9). */
const creditLimit = z
  .object({
    /** The token on the source chain (the vault's token). */
    token: address,
    /** A CREDIT above this is held for the operator (`isorelay held`). */
    maxPerMessage: tokenAmount.optional(),
    /** At most this much credited per window; later CREDITs wait until the window has room. */
    maxPerWindow: tokenAmount.optional(),
    windowSeconds: z.number().int().min(1).max(30 * 86_400).default(3_600),
  })
  .strict()
  .refine((l) => l.maxPerMessage !== undefined || l.maxPerWindow !== undefined, { message: 'set maxPerMessage, maxPerWindow or both' });

const route = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and dashes' }),
    source: z.string(),
    destination: z.string(),
    transport: z.enum(TransportName),
    /**
     * credit: a source vault's CREDIT to the destination engine. settle: the engine's RELEASE and
     * SEIZE back to a vault (source = the engine's chain, destination = the vault's).
     */
    direction: z.enum(['credit', 'settle']).default('credit'),
    paused: z.boolean().default(false),
    /** Credit routes: caps on the value credited, per source token. */
    limits: z.array(creditLimit).default([]),
    /** How long a message of this route may take from observation to delivery before readiness fails (default: pipeline.stallAfterMs). Include the source's finality. */
    expectedDeliveryMs: z.number().int().min(1_000).optional(),
  })
  .strict();

/** One chain's feeds for a market (an AggregatorV3 exposing minAnswer/maxAnswer). */
const marketFeed = z
  .object({
    aggregator: address,
    /** The feed's own heartbeat: older answers are stale. */
    heartbeatSeconds: z.number().int().positive(),
    /** The L2 sequencer-uptime feed, where the chain has one. */
    sequencerFeed: address.optional(),
    /** Grace after the sequencer comes back up. */
    sequencerGraceSeconds: z.number().int().min(0).default(3600),
  })
  .strict();

const market = z
  .object({
    /** Fresh sources needed before and after the deviation filter (at least two: RELIABILITY 11). */
    quorum: z.number().int().min(2),
    /** Largest allowed distance from the median, in basis points. */
    maxDeviationBps: z.number().int().positive().max(10_000),
    /** EMA weight of each new median in the mark price, in basis points (10000 = the median itself). */
    markEmaBps: z.number().int().positive().max(10_000).default(2_000),
    /** By chain name: every chain whose oracle takes part in reconciliation. */
    feeds: z.record(z.string(), marketFeed).refine((f) => Object.keys(f).length >= 2, { message: 'at least two chains\' feeds are required' }),
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
        /** The signers of layerzero.moreDvns, by the name each DVN gives. */
        dvnSigners: z.record(z.string(), secretRef).default({}),
        /** Sign price attestations for liquidations; keys of their own (RELIABILITY 10). */
        attesters: z.array(secretRef).optional(),
      })
      .strict(),
    /** One process on SQLite, or several instances sharing one PostgreSQL database. */
    store: z.union([
      z.object({ sqlite: z.string().min(1) }).strict(),
      z.object({
        postgres: z
          .object({
            /** The connection string; better from the environment (`urlEnv`): it may hold a password. */
            url: z.string().regex(/^postgres(ql)?:\/\//, { message: 'a postgres:// URL' }).optional(),
            urlEnv: z.string().min(1).optional(),
            poolSize: z.number().int().min(1).max(100).default(8),
          })
          .strict()
          .refine((p) => (p.url === undefined) !== (p.urlEnv === undefined), { message: 'give exactly one of url and urlEnv' }),
      }).strict(),
    ]),
    /** This instance among several on one database: its name, and how long its leases last without a heartbeat. */
    instance: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
        leaseMs: z.number().int().min(500).max(300_000).default(15_000),
      })
      .strict()
      .default({ leaseMs: 15_000 }),
    /** By market name (e.g. ETH-USD): the feeds reconciled before any liquidation. */
    markets: z.record(z.string().regex(/^[A-Z0-9]+-[A-Z0-9]+$/, { message: 'a market name like ETH-USD' }), market).default({}),
    /** The liquidation keeper; off unless enabled. */
    keeper: z
      .object({
        enabled: z.boolean().default(false),
        /** The engine's chain. */
        chain: z.string(),
        /** How often prices are reconciled and candidates looked for. */
        tickMs: z.number().int().min(10).max(600_000).default(1_000),
        /** Lifetime of an attestation the keeper signs. */
        attestationTtlSeconds: z.number().int().min(5).max(3_600).default(60),
        /** Attesters running as their own processes (`isorelay attester`), asked over HTTP for their signatures. */
        remoteAttesters: z
          .array(z.object({ url: z.string().refine((s) => /^https?:\/\//.test(s), { message: 'must be an http(s) URL' }), tokenEnv: z.string().min(1).optional() }).strict())
          .default([]),
        /** How long the keeper waits for a remote attester's answer. */
        attesterTimeoutMs: z.number().int().min(50).max(60_000).default(2_000),
        /**
         * The volatility the keeper posts to the engine (setVolatility) for each market with an
         * options config: an EWMA of the reconciled medians' returns (docs/options.md, "The keeper").
         */
        volatility: z
          .object({
            enabled: z.boolean().default(true),
            /** The EWMA's decay λ, in (0, 1) (RiskMetrics' 0.94 by default): the weight of the variance so far. */
            lambda: z
              .union([z.number(), z.string()])
              .default(0.94)
              .refine((v) => /^0?\.[0-9]{1,18}$/.test(String(v)) && Number(v) > 0, { message: 'a decimal in (0, 1) with at most 18 digits, e.g. 0.94' })
              .transform((v) => parseUnits(String(v), 18)),
            /** A median is taken at most this often (seconds): the returns' horizon. */
            sampleSeconds: z.number().int().min(1).max(86_400).default(60),
            /** σ is posted only when it moved at least this much from the engine's (basis points of it). */
            minChangeBps: z.number().int().min(1).max(10_000).default(500),
            /** … and at least this long after the keeper's last post (seconds). */
            minIntervalSeconds: z.number().int().min(0).max(7 * 86_400).default(60),
          })
          .strict()
          .prefault({}),
        /**
         * Settlements queued on the engine that nobody sent (the RELEASE of a refunded CREDIT, a
         * liquidation's whose send failed): the keeper sends them in one sendQueuedMany per tick, paying
         * their fees (docs/liquidation.md, "Queued settlements"; `isorelay send-queued` for anyone).
         */
        sendQueued: z
          .object({
            enabled: z.boolean().default(true),
            /** Left this long after the keeper first reads its log (seconds): its queuer, or a trader, may be sending it. */
            graceSeconds: z.number().int().min(0).max(3_600).default(5),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .optional(),
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
        /** /readyz fails when a route's oldest message on its way is older than this (ms) and its route sets no expectedDeliveryMs. */
        stallAfterMs: z.number().int().min(1_000).default(600_000),
      })
      .strict()
      .default({ tickMs: 100, batchSize: 50, retryBaseMs: 1000, retryMaxMs: 300_000, maxAttempts: 12, stallAfterMs: 600_000 }),
    ops: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(9464),
        logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        /** json (default) or pretty; ISORELAY_LOG_FORMAT and --log-format override it. */
        logFormat: z.enum(LogFormat).default('json'),
        /** The environment variable holding the bearer token of the operator actions over HTTP (read-only without it). */
        actionTokenEnv: z.string().min(1).optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 9464, logLevel: 'info', logFormat: 'json' }),
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
      if (r.direction === 'settle' && r.limits.length > 0)
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'limits'], message: 'limits bound what a credit route credits; a settle route has none' });
      const tokens = r.limits.map((l) => l.token.toLowerCase());
      tokens.forEach((t, j) => {
        if (tokens.indexOf(t) !== j) ctx.addIssue({ code: 'custom', path: ['routes', i, 'limits', j, 'token'], message: `a second limit for token ${t}` });
      });
      if (r.source === r.destination) ctx.addIssue({ code: 'custom', path: ['routes', i], message: 'source and destination are the same chain' });
      const [vaultSide, engineSide] = r.direction === 'credit' ? [r.source, r.destination] : [r.destination, r.source];
      if (cfg.chains[vaultSide] !== undefined && cfg.chains[vaultSide]?.vault === undefined)
        ctx.addIssue({ code: 'custom', path: ['chains', vaultSide, 'vault'], message: `route ${r.name} needs the vault address of ${vaultSide}` });
      if (cfg.chains[engineSide] !== undefined && cfg.chains[engineSide]?.engine === undefined)
        ctx.addIssue({ code: 'custom', path: ['chains', engineSide, 'engine'], message: `route ${r.name} needs the engine address of ${engineSide}` });
    });
    if (cfg.routes.some((r) => r.transport === 'layerzero') && cfg.keys.dvnSigner === undefined)
      ctx.addIssue({ code: 'custom', path: ['keys', 'dvnSigner'], message: 'a route uses layerzero: the DVN signer key is required' });
    if (cfg.routes.some((r) => r.transport === 'wormhole') && cfg.wormhole === undefined)
      ctx.addIssue({ code: 'custom', path: ['wormhole'], message: 'a route uses wormhole: set wormhole.apiUrls (where signed VAAs are fetched)' });
    Object.entries(cfg.markets).forEach(([name, m]) => {
      for (const chainName of Object.keys(m.feeds))
        if (cfg.chains[chainName] === undefined) ctx.addIssue({ code: 'custom', path: ['markets', name, 'feeds', chainName], message: `unknown chain "${chainName}"` });
      if (m.quorum > Object.keys(m.feeds).length)
        ctx.addIssue({ code: 'custom', path: ['markets', name, 'quorum'], message: `quorum ${m.quorum} is more than the ${Object.keys(m.feeds).length} chains with feeds` });
    });
    if (cfg.keeper?.enabled === true) {
      const k = cfg.keeper;
      if (cfg.chains[k.chain]?.engine === undefined) ctx.addIssue({ code: 'custom', path: ['keeper', 'chain'], message: `the keeper needs the engine of chain "${k.chain}"` });
      if ((cfg.keys.attesters ?? []).length === 0 && k.remoteAttesters.length === 0)
        ctx.addIssue({ code: 'custom', path: ['keys', 'attesters'], message: 'the keeper needs attestations: give attester keys, or keeper.remoteAttesters (attesters in their own processes)' });
      if (Object.keys(cfg.markets).length === 0) ctx.addIssue({ code: 'custom', path: ['markets'], message: 'the keeper needs at least one market' });
    }
    Object.entries(cfg.chains).forEach(([name, c]) => {
      // Independent providers: one URL (scheme, host and path) in two providers is one provider counted twice.
      const seen = new Map<string, string>();
      for (const [provider, urls] of Object.entries(c.providers ?? {}))
        for (const url of urls) {
          const u = new URL(url);
          const key = `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
          const first = seen.get(key);
          if (first !== undefined && first !== provider)
            ctx.addIssue({ code: 'custom', path: ['chains', name, 'providers', provider], message: `${u.host} is also provider "${first}": independent providers do not share an endpoint` });
          seen.set(key, provider);
        }
    });
    for (const name of new Set(cfg.routes.map((r) => r.source))) {
      const c = cfg.chains[name];
      if (c === undefined) continue;
      const groups = Object.keys(c.providers ?? { rpc: [] }).length;
      const quorum = c.verifyQuorum ?? DEFAULT_VERIFY_QUORUM;
      if (quorum > groups)
        ctx.addIssue({
          code: 'custom',
          path: ['chains', name, c.verifyQuorum === undefined ? 'providers' : 'verifyQuorum'],
          message: `messages from ${name} are verified by ${quorum} independent providers, but ${groups} ${groups === 1 ? 'is' : 'are'} configured: name them in chains.${name}.providers (or write verifyQuorum: 1 to trust one provider's word)`,
        });
    }
    Object.entries(cfg.chains).forEach(([name, c]) => {
      const lz = c.layerzero;
      if (lz === undefined) return;
      const sources = cfg.routes.filter((r) => r.destination === name && r.transport === 'layerzero').map((r) => r.source);
      const groupsOf = (src: string) => Object.keys(cfg.chains[src]?.providers ?? { rpc: [] });
      const checkProviders = (providers: readonly string[] | undefined, path: (string | number)[]) => {
        for (const src of sources)
          for (const p of providers ?? [])
            if (!groupsOf(src).includes(p)) ctx.addIssue({ code: 'custom', path, message: `no provider "${p}" in chains.${src}.providers (a source of ${name})` });
      };
      checkProviders(lz.dvnProviders, ['chains', name, 'layerzero', 'dvnProviders']);
      lz.moreDvns.forEach((d, i) => {
        if (cfg.keys.dvnSigners[d.signer] === undefined)
          ctx.addIssue({ code: 'custom', path: ['chains', name, 'layerzero', 'moreDvns', i, 'signer'], message: `no key "${d.signer}" in keys.dvnSigners` });
        if (d.address === lz.dvn || lz.moreDvns.findIndex((o) => o.address === d.address) !== i)
          ctx.addIssue({ code: 'custom', path: ['chains', name, 'layerzero', 'moreDvns', i, 'address'], message: 'a DVN listed twice' });
        checkProviders(d.providers, ['chains', name, 'layerzero', 'moreDvns', i, 'providers']);
      });
    });
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
export type MarketConfig = Config['markets'][string];
export type CreditLimitConfig = RouteConfig['limits'][number];
export type SecretRef = z.output<typeof secretRef>;
