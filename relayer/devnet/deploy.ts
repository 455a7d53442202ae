// Deploys the devnet: the real LayerZero v2 stack on every chain (meshed), test tokens and feeds,
// the vaults on the sources and the engine on the destination, wired as each other's peers.
import { Contract, ContractFactory, MaxUint256, Wallet, ZeroAddress, id, zeroPadValue, type JsonRpcProvider } from 'ethers';
import { ourArtifact, type OurContract } from '../chains/contractsAbi.js';
import { devnetProvider } from './anvil.js';
import { ATTESTER_THRESHOLD, DEVNET_CHAINS, DEVNET_MARKET, DEVNET_ROLES, type DevnetChain } from './chains.js';
import { deployLayerZero, type LayerZeroDeployment } from './layerzero.js';
import { CONSISTENCY_FINALIZED, DEVNET_GUARDIANS, deployWormholeCore } from './wormhole.js';
import { waitForReceipt } from '../chains/provider.js';

export interface DevnetChainManifest {
  name: string;
  chainId: number;
  rpcUrl: string;
  /** A second, independent RPC endpoint of the chain (the devnet's forwarder): the quorum's second provider. */
  secondRpcUrl?: string;
  lzEid: number;
  wormholeChainId: number;
  role: 'source' | 'destination';
  /** The transport of this source's route to the destination. */
  transport?: 'layerzero' | 'wormhole';
  layerzero: LayerZeroDeployment;
  /** The real Wormhole core (behind our devnet setup proxy). */
  wormholeCore: string;
  contracts: {
    vault?: string;
    engine?: string;
    /** Our RelayBatcher, owned by the relayer key and a DVN admin. */
    batcher: string;
    usdc?: string;
    weth?: string;
    /** Destination: the attester set and the settlement token the pool pays profit in. */
    attestations?: string;
    settlementToken?: string;
    /** Destination: the owner of the engine and the attester set; every admin action waits DEVNET_TIMELOCK_SECONDS. */
    timelock?: string;
    ethUsdFeed: string;
    sequencerFeed: string;
  };
}

export interface DevnetManifest {
  version: 1;
  createdAt: string;
  chains: Record<string, DevnetChainManifest>;
  /** The devnet guardians' addresses (their keys are in accounts.guardians). */
  guardianSet: string[];
  /** The devnet guardian's signed-VAA API (Wormholescan shape), once it runs. */
  wormholeApiUrl?: string;
  accounts: {
    guardians: { address: string; privateKey: string }[];
    deployer: { address: string; privateKey: string };
    relayer: { address: string; privateKey: string };
    /** Gas keys of more relayer instances (each its own nonces), set up like the relayer's. */
    moreRelayers?: { address: string; privateKey: string }[];
    dvnSigner: { address: string; privateKey: string };
    secondDvnSigner: { address: string; privateKey: string };
    traders: { address: string; privateKey: string }[];
    attesters: { address: string; privateKey: string }[];
    insuranceFund: { address: string; privateKey: string };
    settlementPool: { address: string; privateKey: string };
    /** Signs the engine's options quotes (the ETH-USD options quoter); needs no gas. */
    marketMaker: { address: string; privateKey: string };
  };
  /** The market every chain has a feed for, and its risk parameters on the engine. */
  market: { name: string; id: string; imr: string; mmr: string; feeRate: string; maxDeviationBps: number; heartbeat: number; attesterThreshold: number };
}

/**
 * The executor gas a CREDIT asks for on the destination (lzReceive into the engine). A credit of
 * collateral the position is not bound to is RELEASEd straight back from inside lzReceive (~380k).
 */
export const CREDIT_LZ_RECEIVE_GAS = 500_000n;
/** The executor gas a RELEASE/SEIZE asks for on a source (lzReceive into the vault). */
export const SETTLE_LZ_RECEIVE_GAS = 150_000n;
/** The engine's modules, deployed before it and routed by it (contracts/IsolatedMarginEngine.sol). */
export const ENGINE_MODULES = ['EngineTrading', 'EngineSettlement', 'EngineLiquidation', 'EngineOptions'] as const;

/** ETH-USD on the engine: 10 % initial, 5 % maintenance margin, 0.1 % fee. */
export const DEVNET_MARKET_PARAMS = {
  imr: 10n ** 17n, mmr: 5n * 10n ** 16n, feeRate: 10n ** 15n,
  heartbeat: 3600, maxAttestationAge: 120, maxDeviationBps: 200, minAttestedChains: 2,
} as const;
const ETH_USD_8DP = 3_000n * 10n ** 8n;
export const DEVNET_LIQUIDATION_PENALTY_BPS = 100;
/** The admin timelock's delay on the devnet (production: hours or days, docs/operations.md). */
export const DEVNET_TIMELOCK_SECONDS = 2;

/**
 * The engine's ETH-USD market on the devnet: its own feed and base's sequencer uptime feed (60 s
 * of grace after a restart), answers between 1 and 1 000 000 USD, no spread, at most 100 000 ETH
 * open per side; a liquidation penalty of 1 % of the notional closed, half of it to the keeper.
 */
export function devnetMarketConfig(priceFeed: string, sequencerFeed: string, o: { spreadBps?: number; maxOpenInterest?: bigint } = {}): Record<string, unknown> {
  const p = DEVNET_MARKET_PARAMS;
  return {
    priceFeed, heartbeat: p.heartbeat, maxAttestationAge: p.maxAttestationAge, maxDeviationBps: p.maxDeviationBps,
    minAttestedChains: p.minAttestedChains, enabled: true, imr: p.imr, mmr: p.mmr, feeRate: p.feeRate,
    sequencerFeed, sequencerGrace: DEVNET_SEQUENCER_GRACE_SECONDS, spreadBps: o.spreadBps ?? 0,
    minPrice: 10n ** 18n, maxPrice: 10n ** 24n, maxOpenInterest: o.maxOpenInterest ?? 100_000n * 10n ** 18n,
    penaltyBps: DEVNET_LIQUIDATION_PENALTY_BPS, keeperShareBps: 5_000,
  };
}

/**
 * ETH-USD options on the engine (docs/options.md): strategies up to 30 days out; σ 80 %, posted
 * between 10 % and 300 %; an initial scenario of ±15 % and a maintenance one of ±10 %, 6 price steps
 * each side, volatility shocked by 30 %; settled at a price attested within 10 minutes of expiry; the keeper moves σ by at most 20 % a
 * post, once a minute; at most 1,000 ETH of option legs open. Perpetuals' maintenance rate is not scaled (sigmaRef 0);
 * with a sigmaRef set it would stay within 2.5 % to 9 %.
 */
export const DEVNET_OPTIONS_PARAMS = {
  maxExpiry: 30 * 86_400, sigma: 8n * 10n ** 17n, sigmaRef: 0n, volMin: 10n ** 17n, volMax: 3n * 10n ** 18n,
  mmrMin: 25n * 10n ** 15n, mmrMax: 9n * 10n ** 16n, scenarioBps: 1_500, maintenanceScenarioBps: 1_000, volShockBps: 3_000, scenarioSteps: 6,
  settleWindow: 600, maxVolStepBps: 2_000, minVolInterval: 60, maxOpenInterest: 1_000n * 10n ** 18n,
} as const;

/** The engine's OptionsConfig of ETH-USD on the devnet, quoted by `quoter`. */
export function devnetOptionsConfig(quoter: string, o: { sigmaRef?: bigint; sigma?: bigint } = {}): Record<string, unknown> {
  return { ...DEVNET_OPTIONS_PARAMS, quoter, sigmaRef: o.sigmaRef ?? DEVNET_OPTIONS_PARAMS.sigmaRef, sigma: o.sigma ?? DEVNET_OPTIONS_PARAMS.sigma };
}
const TRANSPORT_LAYERZERO = 1;
const TRANSPORT_WORMHOLE = 2;
const DVN_ADMIN_ROLE = id('ADMIN_ROLE');

class Deployer {
  readonly wallet: Wallet;
  constructor(readonly provider: JsonRpcProvider) {
    this.wallet = new Wallet(DEVNET_ROLES.deployer.privateKey, provider);
  }

  async deploy(name: OurContract, args: unknown[]): Promise<Contract> {
    const { abi, bytecode } = ourArtifact(name);
    const c = await new ContractFactory(abi, bytecode, this.wallet).deploy(...args);
    await waitForReceipt(this.provider, c.deploymentTransaction()?.hash ?? '');
    return new Contract(await c.getAddress(), abi, this.wallet);
  }

  async send(contract: Contract, method: string, args: unknown[]): Promise<void> {
    const tx = await contract.getFunction(method).send(...args);
    const r = await waitForReceipt(this.provider, tx.hash);
    if (r?.status !== 1) throw new Error(`devnet deployment: ${method} reverted`);
  }
}

const peer = (address: string) => zeroPadValue(address, 32);

/** The grace after a sequencer restart, the same on chain (the vault's SEIZE guard) and in the relayer's config. */
export const DEVNET_SEQUENCER_GRACE_SECONDS = 60;

/** Native balance given to each further relayer gas key (anvil funds only its first ten accounts). */
const MORE_RELAYER_BALANCE_WEI = 10_000n * 10n ** 18n;

export interface DeployDevnetOptions {
  /** Relayer instances that share the devnet, each with its own gas key (1 by default, at most 4). */
  relayerInstances?: number;
}

export async function deployDevnet(urls: Readonly<Record<string, string>>, o: DeployDevnetOptions = {}): Promise<DevnetManifest> {
  const instances = o.relayerInstances ?? 1;
  if (!Number.isInteger(instances) || instances < 1 || instances > 1 + DEVNET_ROLES.moreRelayers.length)
    throw new Error(`relayer instances must be 1 to ${1 + DEVNET_ROLES.moreRelayers.length}, not ${instances}`);
  const moreRelayers = DEVNET_ROLES.moreRelayers.slice(0, instances - 1);
  const gasKeys = [DEVNET_ROLES.relayer, ...moreRelayers].map((a) => a.address);
  const chains = DEVNET_CHAINS.map((c) => {
    const url = urls[c.name];
    if (url === undefined) throw new Error(`no RPC URL for devnet chain ${c.name}`);
    return { ...c, url, d: new Deployer(devnetProvider({ url, chainId: c.chainId })) };
  });
  const dst = chains.find((c) => c.role === 'destination');
  if (dst === undefined) throw new Error('the devnet needs a destination chain');

  // 1. LayerZero and the chain-local pieces, all chains in parallel.
  const base = await Promise.all(
    chains.map(async (c) => {
      for (const a of moreRelayers) await c.d.provider.send('anvil_setBalance', [a.address, `0x${MORE_RELAYER_BALANCE_WEI.toString(16)}`]);
      const layerzero = await deployLayerZero(c.d.wallet, {
        localEid: c.lzEid,
        remoteEids: chains.filter((o) => o !== c).map((o) => o.lzEid),
        dvnSigners: [DEVNET_ROLES.dvnSigner.address],
        dvnQuorum: 1,
        secondDvnSigners: [DEVNET_ROLES.secondDvnSigner.address],
        dvnAdmins: gasKeys,
        executorAdmins: gasKeys,
        confirmations: 1n,
      });
      const feed = await c.d.deploy('DevnetAggregator', [8, 'ETH / USD', ETH_USD_8DP, 10n ** 6n, 10n ** 14n]);
      const seq = await c.d.deploy('SequencerUptimeFeed', [false, 1]) // up long since: outside any grace period;
      // The batcher belongs to the relayer key; the relayer (a DVN admin) makes it a DVN admin too.
      const batcher = await c.d.deploy('RelayBatcher', [DEVNET_ROLES.relayer.address]);
      const relayer = new Wallet(DEVNET_ROLES.relayer.privateKey, c.d.provider);
      for (const address of layerzero.dvns) {
        const dvn = new Contract(address, ['function grantRole(bytes32 role, address account)'], relayer);
        const grant = await dvn.getFunction('grantRole').send(DVN_ADMIN_ROLE, await batcher.getAddress());
        if ((await waitForReceipt(c.d.provider, grant.hash)).status !== 1) throw new Error('devnet deployment: DVN grantRole reverted');
      }
      for (const a of moreRelayers) {
        const op = await new Contract(await batcher.getAddress(), ourArtifact('RelayBatcher').abi, relayer).getFunction('setOperator').send(a.address, true);
        if ((await waitForReceipt(c.d.provider, op.hash)).status !== 1) throw new Error('devnet deployment: batcher setOperator reverted');
      }
      const { core: wormholeCore } = await deployWormholeCore(c.d.wallet, {
        chainId: c.wormholeChainId, evmChainId: BigInt(c.chainId), guardians: DEVNET_GUARDIANS.map((g) => g.address),
      });
      return { layerzero, wormholeCore, ethUsdFeed: await feed.getAddress(), sequencerFeed: await seq.getAddress(), batcher: await batcher.getAddress() };
    }),
  );
  const lzOf = (c: DevnetChain) => base[chains.findIndex((x) => x.name === c.name)] as (typeof base)[number];

  // 2. The engine on the destination, then the vaults and tokens on the sources.
  // Its modules first (trading, settlement, liquidation): the engine routes their functions to them.
  const modules: string[] = [];
  for (const name of ENGINE_MODULES) modules.push(await (await dst.d.deploy(name, [])).getAddress());
  const engine = await dst.d.deploy('IsolatedMarginEngine', [lzOf(dst).layerzero.endpoint, dst.d.wallet.address, modules]);
  const engineAddress = await engine.getAddress();
  const sources = await Promise.all(
    chains
      .filter((c) => c.role === 'source')
      .map(async (c) => {
        const vault = await c.d.deploy('CollateralVault', [lzOf(c).layerzero.endpoint, c.d.wallet.address]);
        const usdc = await c.d.deploy('TestToken', ['USD Coin (devnet)', 'USDC', 6]);
        const weth = await c.d.deploy('TestToken', ['Wrapped Ether (devnet)', 'WETH', 18]);
        for (const token of [usdc, weth]) {
          await c.d.send(vault, 'setTokenAllowed', [await token.getAddress(), true]);
          for (const t of DEVNET_ROLES.traders) await c.d.send(token, 'mint', [t.address, token === usdc ? 1_000_000n * 10n ** 6n : 1_000n * 10n ** 18n]);
        }
        await c.d.send(vault, 'setWormhole', [lzOf(c).wormholeCore]);
        const transport = c.transport === 'wormhole' ? TRANSPORT_WORMHOLE : TRANSPORT_LAYERZERO;
        await c.d.send(vault, 'setRoute', [
          dst.chainId,
          { transport, lzEid: dst.lzEid, lzReceiveGas: CREDIT_LZ_RECEIVE_GAS, wormholeConsistency: CONSISTENCY_FINALIZED, enabled: true },
        ]);
        await c.d.send(vault, 'setPeer', [dst.lzEid, peer(engineAddress)]);
        await c.d.send(vault, 'setEngine', [dst.chainId, engineAddress, dst.wormholeChainId]);
        await c.d.send(vault, 'setInsuranceFund', [DEVNET_ROLES.insuranceFund.address]);
        // The SEIZE guard on chain: a SEIZE executes only if this chain's ETH-USD feed agrees with its price.
        await c.d.send(vault, 'setSeizeGuard', [id(DEVNET_MARKET), {
          feed: lzOf(c).ethUsdFeed, sequencerFeed: lzOf(c).sequencerFeed, heartbeat: DEVNET_MARKET_PARAMS.heartbeat,
          sequencerGrace: DEVNET_SEQUENCER_GRACE_SECONDS, maxDeviationBps: DEVNET_MARKET_PARAMS.maxDeviationBps,
        }]);
        // The devnet's owner is also the guardian that may release a parked SEIZE.
        await c.d.send(vault, 'setGuardian', [DEVNET_ROLES.deployer.address]);
        return { chain: c, vault: await vault.getAddress(), usdc: await usdc.getAddress(), weth: await weth.getAddress() };
      }),
  );
  await dst.d.send(engine, 'setWormhole', [lzOf(dst).wormholeCore]);
  // Only the relayer (directly or through its batcher) executes CREDITs: its route limits bind.
  for (const address of gasKeys) await dst.d.send(engine, 'setExecutor', [address, true]);
  await dst.d.send(engine, 'setExecutor', [lzOf(dst).batcher, true]);
  for (const s of sources) {
    await dst.d.send(engine, 'registerSource', [s.chain.lzEid, s.chain.chainId, s.vault]);
    await dst.d.send(engine, 'registerWormholeSource', [s.chain.wormholeChainId, s.chain.chainId, s.vault]);
    await dst.d.send(engine, 'setCollateral', [s.chain.chainId, s.usdc, 6, true, true]);
    await dst.d.send(engine, 'setCollateral', [s.chain.chainId, s.weth, 18, true, false]);
    await dst.d.send(engine, 'setReturnRoute', [
      s.chain.chainId,
      { transport: s.chain.transport === 'wormhole' ? TRANSPORT_WORMHOLE : TRANSPORT_LAYERZERO, lzReceiveGas: SETTLE_LZ_RECEIVE_GAS, wormholeConsistency: CONSISTENCY_FINALIZED },
    ]);
  }
  const settlement = await deploySettlement(dst.d, engine, lzOf(dst).ethUsdFeed, lzOf(dst).sequencerFeed);
  // 3. Admin: the deployer keeps the pause role; every other owner action now goes through a timelock.
  await dst.d.send(engine, 'setPauser', [DEVNET_ROLES.deployer.address]);
  const timelock = await dst.d.deploy('AdminTimelock', [DEVNET_TIMELOCK_SECONDS, [dst.d.wallet.address], [dst.d.wallet.address], ZeroAddress]);
  const timelockAddress = await timelock.getAddress();
  // The LayerZero delegate (libraries, DVN config, clear/burn) is an owner power too: the timelock's.
  await dst.d.send(engine, 'setDelegate', [timelockAddress]);
  await dst.d.send(engine, 'transferOwnership', [timelockAddress]);
  await dst.d.send(new Contract(settlement.attestations, ourArtifact('PriceAttestations').abi, dst.d.wallet), 'transferOwnership', [timelockAddress]);

  const manifest: DevnetManifest = {
    version: 1,
    createdAt: new Date().toISOString(),
    chains: {},
    guardianSet: DEVNET_GUARDIANS.map((g) => g.address),
    accounts: {
      guardians: DEVNET_GUARDIANS.map((g) => ({ ...g })),
      deployer: { ...DEVNET_ROLES.deployer },
      relayer: { ...DEVNET_ROLES.relayer },
      ...(moreRelayers.length === 0 ? {} : { moreRelayers: moreRelayers.map((a) => ({ ...a })) }),
      dvnSigner: { ...DEVNET_ROLES.dvnSigner },
      secondDvnSigner: { ...DEVNET_ROLES.secondDvnSigner },
      traders: DEVNET_ROLES.traders.map((t) => ({ ...t })),
      attesters: DEVNET_ROLES.attesters.map((a) => ({ ...a })),
      insuranceFund: { ...DEVNET_ROLES.insuranceFund },
      settlementPool: { ...DEVNET_ROLES.settlementPool },
      marketMaker: { ...DEVNET_ROLES.marketMaker },
    },
    market: {
      name: DEVNET_MARKET, id: id(DEVNET_MARKET),
      imr: DEVNET_MARKET_PARAMS.imr.toString(), mmr: DEVNET_MARKET_PARAMS.mmr.toString(), feeRate: DEVNET_MARKET_PARAMS.feeRate.toString(),
      maxDeviationBps: DEVNET_MARKET_PARAMS.maxDeviationBps, heartbeat: DEVNET_MARKET_PARAMS.heartbeat, attesterThreshold: ATTESTER_THRESHOLD,
    },
  };
  for (const c of chains) {
    const s = sources.find((x) => x.chain.name === c.name);
    const b = lzOf(c);
    manifest.chains[c.name] = {
      name: c.name, chainId: c.chainId, rpcUrl: c.url, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, role: c.role,
      ...(c.transport === undefined ? {} : { transport: c.transport }),
      layerzero: b.layerzero,
      wormholeCore: b.wormholeCore,
      contracts: {
        batcher: b.batcher,
        ethUsdFeed: b.ethUsdFeed,
        sequencerFeed: b.sequencerFeed,
        ...(s === undefined ? { engine: engineAddress, ...settlement, timelock: timelockAddress } : { vault: s.vault, usdc: s.usdc, weth: s.weth }),
      },
    };
  }
  for (const c of chains) c.d.provider.destroy();
  return manifest;
}

/**
 * The destination's trading side: the ETH-USD market on the chain's own feed, its options (quoted
 * by the market maker; the keeper's key posts the volatility), the attester set (2 of 3), and a
 * settlement token held by the pool (which lets the engine pay profit from it).
 * The engine holds no native balance: whoever asks for a RELEASE or SEIZE pays its fee.
 */
async function deploySettlement(d: Deployer, engine: Contract, feed: string, sequencerFeed: string): Promise<{ attestations: string; settlementToken: string }> {
  const engineAddress = await engine.getAddress();
  await d.send(engine, 'setMarket', [id(DEVNET_MARKET), devnetMarketConfig(feed, sequencerFeed)]);
  await d.send(engine, 'setOptionsConfig', [id(DEVNET_MARKET), devnetOptionsConfig(DEVNET_ROLES.marketMaker.address)]);
  await d.send(engine, 'setVolUpdater', [DEVNET_ROLES.relayer.address]);
  const attestations = await d.deploy('PriceAttestations', [d.wallet.address]);
  await d.send(attestations, 'setAttesters', [DEVNET_ROLES.attesters.map((a) => a.address), [], ATTESTER_THRESHOLD]);
  await d.send(engine, 'setAttestations', [await attestations.getAddress()]);

  const token = await d.deploy('TestToken', ['USD Coin (devnet settlement)', 'USDC', 6]);
  const pool = DEVNET_ROLES.settlementPool;
  await d.send(token, 'mint', [pool.address, 10_000_000n * 10n ** 6n]);
  const asPool = new Contract(await token.getAddress(), ['function approve(address spender, uint256 amount) returns (bool)'], new Wallet(pool.privateKey, d.provider));
  const approve = await asPool.getFunction('approve').send(engineAddress, MaxUint256);
  if ((await waitForReceipt(d.provider, approve.hash)).status !== 1) throw new Error('devnet deployment: settlement approve reverted');
  await d.send(engine, 'setSettlement', [DEVNET_ROLES.insuranceFund.address, pool.address, await token.getAddress(), 6]);
  // The insurance fund's account on base covers liquidation deficits (in the settlement token).
  const fund = DEVNET_ROLES.insuranceFund;
  await d.send(token, 'mint', [fund.address, 1_000_000n * 10n ** 6n]);
  const asFund = new Contract(await token.getAddress(), ['function approve(address spender, uint256 amount) returns (bool)'], new Wallet(fund.privateKey, d.provider));
  const approveFund = await asFund.getFunction('approve').send(engineAddress, MaxUint256);
  if ((await waitForReceipt(d.provider, approveFund.hash)).status !== 1) throw new Error('devnet deployment: insurance approve reverted');
  await d.send(engine, 'setDestinationInsurance', [fund.address]);

  return { attestations: await attestations.getAddress(), settlementToken: await token.getAddress() };
}
