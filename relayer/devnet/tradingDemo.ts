// The demo's second act, on the positions the first act credited: the trader opens two isolated
// longs (collateral on arbitrum and on optimism), ETH-USD falls on every chain, the keeper
// liquidates exactly the breached one and its collateral is seized on its own source chain; the
// other is untouched, the price recovers, and it is closed with its collateral released to the
// trader on arbitrum (the profit paid on base). Every step is checked from chain state.
import { Contract, formatUnits, Wallet, type JsonRpcProvider } from 'ethers';
import { ourArtifact } from '../chains/contractsAbi.js';
import { makeProvider, waitForReceipt } from '../chains/provider.js';
import { ENGINE_SIDE } from '../liquidation/engineAccount.js';
import type { Store } from '../store/store.js';
import type { DevnetManifest } from './deploy.js';
import { setDevnetPrice } from './feeds.js';

const ETH = 10n ** 18n;
const LONG = ENGINE_SIDE.long;

export interface DemoStep {
  step: string;
  ok: boolean;
  detail: string;
}

interface Chains {
  providers: Record<string, JsonRpcProvider>;
  close(): void;
}

function connect(m: DevnetManifest): Chains {
  const providers: Record<string, JsonRpcProvider> = {};
  for (const c of Object.values(m.chains)) providers[c.name] = makeProvider(c.rpcUrl, c.chainId, 25);
  return { providers, close: () => Object.values(providers).forEach((p) => p.destroy()) };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Plays the trading act; `say` prints progress. Returns one checked row per step. */
export async function runTradingDemo(m: DevnetManifest, store: Store, say: (line: string) => void, o: { timeoutMs?: number } = {}): Promise<DemoStep[]> {
  const timeout = o.timeoutMs ?? 60_000;
  const chains = connect(m);
  const { providers } = chains;
  const steps: DemoStep[] = [];
  const record = (step: string, ok: boolean, detail: string) => {
    steps.push({ step, ok, detail });
    say(`${ok ? '✓' : '✗'} ${step}: ${detail}`);
  };
  try {
    const p = (chain: string) => providers[chain] as JsonRpcProvider;
    const traderKey = m.accounts.traders[0]?.privateKey as string;
    const traderAddress = m.accounts.traders[0]?.address as string;
    const base = p('base');
    const engine = new Contract(m.chains.base?.contracts.engine as string, ourArtifact('IsolatedMarginEngine').abi, new Wallet(traderKey, base));
    const send = async (provider: JsonRpcProvider, tx: Promise<{ hash: string }>) => {
      const r = await waitForReceipt(provider, (await tx).hash);
      if (r.status !== 1) throw new Error('a demo transaction reverted');
    };
    const erc20 = (chain: string, token: string) => new Contract(token, ourArtifact('TestToken').abi, p(chain));
    const balance = async (chain: string, token: string, who: string) => (await erc20(chain, token).getFunction('balanceOf')(who)) as bigint;
    const setPrice = (usd: bigint) => setDevnetPrice(m, Object.keys(m.chains), usd, p);
    const sizeOf = async (positionId: bigint) => {
      const key = (await engine.getFunction('positionKeyOf')(traderAddress, positionId)) as string;
      return ((await engine.getFunction('positionOf')(key)) as unknown as [{ size: bigint }, bigint])[0].size;
    };
    const settled = async (kind: string, route: string) => (await store.list({ limit: 10_000 })).filter((r) => r.kind === kind && r.route === route && r.status === 'delivered').length;

    // Position 1: 2500 USDC from arbitrum, 2 ETH long. Position 3: 1000 USDC from optimism, 3 ETH long.
    await send(base, engine.getFunction('increase').send(1n, m.market.id, LONG, 2n * ETH));
    await send(base, engine.getFunction('increase').send(3n, m.market.id, LONG, 3n * ETH));
    record('open', (await sizeOf(1n)) === 2n * ETH && (await sizeOf(3n)) === 3n * ETH, 'position 1: 2 ETH long on 2500 USDC (arbitrum); position 3: 3 ETH long on 1000 USDC (optimism), both at 3000');

    const opUsdc = m.chains.optimism?.contracts.usdc as string;
    const fund = m.accounts.insuranceFund.address;
    const fundBefore = await balance('optimism', opUsdc, fund);
    // Far enough that position 3 is underwater (1000 − 3·350 − 9 < 0): closed whole, its SEIZE on optimism.
    // A smaller move would only bring it back above maintenance by a partial close.
    await setPrice(2_650n);
    say('ETH-USD moves to 2650 on arbitrum, optimism and base');
    const liquidated = await until(async () => (await sizeOf(3n)) === 0n, timeout);
    record('liquidate', liquidated && (await sizeOf(1n)) === 2n * ETH, 'the keeper liquidated position 3 (liquidation price 2810) and left position 1 (1845) untouched');
    const seized = await until(async () => (await settled('SEIZE', 'base-optimism')) === 1, timeout);
    const fundGot = (await balance('optimism', opUsdc, fund)) - fundBefore;
    record('seize', seized && fundGot === 1_000n * 10n ** 6n, `SEIZE relayed to optimism over Wormhole (its oracle agreed): insurance fund +${formatUnits(fundGot, 6)} USDC`);

    await setPrice(3_100n);
    say('ETH-USD recovers to 3100');
    const arbUsdc = m.chains.arbitrum?.contracts.usdc as string;
    const settlementToken = m.chains.base?.contracts.settlementToken as string;
    const before = await balance('arbitrum', arbUsdc, traderAddress);
    const profitBefore = await balance('base', settlementToken, traderAddress);
    // The trader pays the fees of what the close sends (a RELEASE, and a SEIZE at a loss); the rest is refunded.
    const fee = (await engine.getFunction('quoteSettlement')(BigInt(m.chains.arbitrum?.chainId ?? 0))) as bigint;
    await send(base, engine.getFunction('close').send(1n, { value: 2n * fee }));
    const released = await until(async () => (await settled('RELEASE', 'base-arbitrum')) === 1, timeout);
    const back = (await balance('arbitrum', arbUsdc, traderAddress)) - before;
    const profit = (await balance('base', settlementToken, traderAddress)) - profitBefore;
    // 2 ETH · (3100 − 3000) = 200 USD, less the fees 6 (open) + 6.2 (close).
    record('close', released && back === 2_500n * 10n ** 6n && profit === 187_800_000n, `position 1 closed at 3100: RELEASE relayed to arbitrum over LayerZero, ${formatUnits(back, 6)} USDC back to the trader, ${formatUnits(profit, 6)} USDC profit paid on base`);
    return steps;
  } finally {
    chains.close();
  }
}
