// The devnet's three chains with their real ids, and which devnet account plays which role.
import { DEVNET_ACCOUNTS, type DevnetAccount } from './anvil.js';

export interface DevnetChain {
  name: string;
  chainId: number;
  lzEid: number;
  wormholeChainId: number;
  role: 'source' | 'destination';
  /** How a source's vault reaches the destination: one devnet runs both transports at once. */
  transport?: 'layerzero' | 'wormhole';
  /** The prefix of the chain's token addresses in `isorelay devnet`'s exports: ARB_USDC, OP_WETH, BASE_USDC. */
  envPrefix: string;
}

export const DEVNET_CHAINS: readonly DevnetChain[] = [
  { name: 'arbitrum', chainId: 42161, lzEid: 30110, wormholeChainId: 23, role: 'source', transport: 'layerzero', envPrefix: 'ARB' },
  { name: 'optimism', chainId: 10, lzEid: 30111, wormholeChainId: 24, role: 'source', transport: 'wormhole', envPrefix: 'OP' },
  { name: 'base', chainId: 8453, lzEid: 30184, wormholeChainId: 30, role: 'destination', envPrefix: 'BASE' },
];

function account(i: number): DevnetAccount {
  const a = DEVNET_ACCOUNTS[i];
  if (a === undefined) throw new Error(`no devnet account ${i}`);
  return a;
}

/** Keys separated by role: the gas key is not the DVN signer, the owner is neither. */
export const DEVNET_ROLES = {
  deployer: account(0),
  relayer: account(1),
  dvnSigner: account(2),
  /** Signs for the pathway's second required DVN: a key of its own (it needs no gas). */
  secondDvnSigner: account(10),
  traders: [account(3), account(4)],
  /** Sign price attestations (2 of 3); neither the gas key nor the DVN signer. */
  attesters: [account(5), account(6), account(7)],
  /** Receives seized collateral on every source chain. */
  insuranceFund: account(8),
  /** Holds the settlement token on the destination and pays profit beyond collateral. */
  settlementPool: account(9),
  /** Gas keys of relayer instances 2 to 4, set up (funded, allowed) only when a devnet asks for them. */
  moreRelayers: [account(11), account(12), account(13)],
  /** The options market maker: signs the premium quotes the engine accepts (EIP-712); it needs no gas. */
  marketMaker: account(14),
} as const;

/** The one devnet market; its id on chain is keccak256 of the name. */
export const DEVNET_MARKET = 'ETH-USD';
export const ATTESTER_THRESHOLD = 2;

/** A devnet token whose address `isorelay devnet` exports; `contract` is its key in the manifest's chain contracts. */
export interface DevnetToken {
  symbol: string;
  contract: 'usdc' | 'weth' | 'settlementToken';
  what: string;
}

/** By chain role: the sources' collateral and the destination's settlement token. */
export const DEVNET_TOKENS: Readonly<Record<DevnetChain['role'], readonly DevnetToken[]>> = {
  source: [
    { symbol: 'USDC', contract: 'usdc', what: 'collateral the vault takes' },
    { symbol: 'WETH', contract: 'weth', what: 'collateral the vault takes' },
  ],
  destination: [{ symbol: 'USDC', contract: 'settlementToken', what: 'the settlement token profit is paid in' }],
};

/** The variables `isorelay devnet` exports `chain`'s token addresses in, `<envPrefix>_<symbol>` (ARB_USDC); none for a chain it does not run. */
export function devnetTokenVars(chain: string): (DevnetToken & { name: string })[] {
  const c = DEVNET_CHAINS.find((d) => d.name === chain);
  return c === undefined ? [] : DEVNET_TOKENS[c.role].map((t) => ({ ...t, name: `${c.envPrefix}_${t.symbol}` }));
}
