// What a trader does from the CLI: lock collateral on a source vault (check, approve, quote, lock)
// and say in token units what stands in the way; every revert is decoded into a sentence.
import { Contract, formatUnits, Interface, isError, MaxUint256, type Wallet } from 'ethers';
import { errorDecoder, type DecodedError } from '../chains/abiFunction.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import { waitForReceipt } from '../chains/provider.js';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import { layerZeroAbi } from '../transports/layerzero/artifacts.js';
import { decodePublished, LOG_MESSAGE_PUBLISHED_TOPIC } from '../transports/wormhole/logMessage.js';

const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
/** Any ERC-20, with OpenZeppelin 5's custom errors (IERC20Errors, ERC-6093) that a transferFrom reverts with. */
const erc20Iface = new Interface([
  'function balanceOf(address owner) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InvalidSender(address sender)',
  'error ERC20InvalidReceiver(address receiver)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
  'error ERC20InvalidApprover(address approver)',
  'error ERC20InvalidSpender(address spender)',
]);
/** A lock reverts in the vault, in the token it pulls, or in the LayerZero endpoint it sends through. */
const decodeLockError = errorDecoder([vaultIface, erc20Iface, new Interface(layerZeroAbi('EndpointV2'))]);

export interface LockRequest {
  /** A wallet connected to the source chain's provider. */
  trader: Wallet;
  vault: string;
  token: string;
  amount: bigint;
  dstChainId: bigint;
  positionId: bigint;
  /** How the token's amounts are written in errors; read from the token when an error needs them. */
  units?: TokenUnits;
  /** The source chain's name, for errors (default: its chain id). */
  chain?: string;
}

export interface LockResult {
  lockId: string;
  nonce: bigint;
  transportId: string;
  txHash: string;
  blockNumber: bigint;
  fee: bigint;
  minedAtMs: number;
  /** The approval sent first, when the vault could not yet spend the amount. */
  approveTxHash?: string;
  /**
   * The sequence of the Wormhole message the lock published (the vault is its emitter), when the
   * route is Wormhole; absent on a LayerZero route, whose `transportId` is the packet's guid.
   */
  wormholeSequence?: bigint;
}

export interface TokenUnits {
  decimals: number;
  symbol: string;
}

/** An amount in token units with thousands separated and no trailing zeros: 2500000000n, 6 → "2,500". */
export function formatTokenAmount(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const [whole = '0', fraction = ''] = formatUnits(negative ? -amount : amount, decimals).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const trimmed = fraction.replace(/0+$/, '');
  return `${negative ? '-' : ''}${grouped}${trimmed === '' ? '' : `.${trimmed}`}`;
}

/** What the sentences of a lock's errors need to know. */
export interface LockContext {
  units: TokenUnits;
  chain: string;
  token: string;
  vault: string;
  trader: string;
}

const PANICS: Readonly<Record<number, string>> = { 0x01: 'an assertion failed', 0x11: 'an arithmetic overflow', 0x12: 'a division by zero', 0x32: 'an out-of-bounds index' };

/** A decoded revert of a lock (or of the approval before it) as a sentence a trader can act on. */
export function describeLockError(d: DecodedError, c: LockContext): string {
  const amount = (x: unknown) => `${formatTokenAmount(x as bigint, c.units.decimals)} ${c.units.symbol}`;
  const a = d.args;
  switch (d.name) {
    case 'ERC20InsufficientBalance':
      return `you have ${amount(a[1])} on ${c.chain}, the lock needs ${amount(a[2])}`;
    case 'ERC20InsufficientAllowance':
      return `the vault may spend ${amount(a[1])} of yours, the lock needs ${amount(a[2])}: approve the vault ${c.vault} for at least that much`;
    case 'Paused':
      return `the vault on ${c.chain} is paused: it refuses every lock until its owner unpauses it`;
    case 'TokenNotAllowed':
      return `the vault on ${c.chain} does not take ${c.units.symbol} (${String(a[0])}) as collateral`;
    case 'ZeroLockAmount':
      return 'the amount is 0';
    case 'LockAboveCap':
      return `the vault takes at most ${amount(a[2])} per lock, this lock is ${amount(a[1])}`;
    case 'LockBelowMinimum':
      return `the vault takes at least ${amount(a[2])} per lock, this lock is ${amount(a[1])}`;
    case 'RouteDisabled':
      return `the vault on ${c.chain} has no enabled route to chain id ${String(a[0])}: it sends nothing there`;
    case 'NoPeer':
      return `the vault on ${c.chain} has no LayerZero peer for endpoint id ${String(a[0])}: the route is not wired (setPeer)`;
    case 'InsufficientFee':
      return `the lock paid ${String(a[0])} wei of messaging fee, it needs ${String(a[1])} wei: the fee rose since it was quoted; lock again`;
    case 'NotEnoughNative':
      return `the messaging fee paid (${String(a[0])} wei) is below LayerZero's quote: the fee rose since it was quoted; lock again`;
    case 'FeeOnTransferToken':
      return `${c.units.symbol} takes a fee on transfer (the vault received ${amount(a[2])} of ${amount(a[1])}): such a token cannot be locked`;
    case 'SafeERC20FailedOperation':
      return `${c.units.symbol} refused the transfer (transferFrom returned false): check your balance and the vault's allowance`;
    case 'RefundFailed':
      return `the vault could not refund the fee's excess to ${String(a[0])}: lock from an account that accepts native tokens`;
    default: {
      const args = a.map((x) => String(x)).join(', ');
      return `the lock reverted with ${d.name}(${args})`;
    }
  }
}

/** Revert data somewhere in an ethers or JSON-RPC error (ethers nests the node's answer). */
export function revertDataOf(e: unknown): string | null {
  for (let x: unknown = e, depth = 0; x !== null && typeof x === 'object' && depth < 6; depth++) {
    const o = x as { data?: unknown; error?: unknown; info?: { error?: unknown }; cause?: unknown };
    if (typeof o.data === 'string' && /^0x[0-9a-fA-F]*$/.test(o.data) && o.data.length >= 10) return o.data;
    x = o.error ?? o.info?.error ?? o.cause;
  }
  return null;
}

/** A thrown revert as a sentence: a custom error of the vault, the token or the endpoint, Error(string), Panic(uint256). */
export function describeRevert(data: string | null, c: LockContext): string {
  if (data === null || data === '0x') return 'the lock reverted without a reason';
  const known = decodeLockError(data);
  if (known !== null) return describeLockError(known, c);
  if (data.startsWith('0x08c379a0')) {
    const [reason] = vaultIface.getAbiCoder().decode(['string'], `0x${data.slice(10)}`);
    return `the lock reverted: "${String(reason)}"`;
  }
  if (data.startsWith('0x4e487b71')) {
    const [code] = vaultIface.getAbiCoder().decode(['uint256'], `0x${data.slice(10)}`);
    return `the lock panicked with ${PANICS[Number(code)] ?? `code ${String(code)}`}`;
  }
  return `the lock reverted with an error none of the vault's, the token's or the endpoint's ABIs know (selector ${data.slice(0, 10)})`;
}

const lockRefused = (sentence: string, c: LockContext, extra: string[] = []) =>
  new IsorelayError(ErrorCode.TX_REVERTED, sentence, { guidance: [...extra, `Trader ${c.trader}, vault ${c.vault}, token ${c.token} on ${c.chain}.`] });

/** What a failed send threw, as the error a trader reads: decoded, never a raw CALL_EXCEPTION. */
function sendFailure(e: unknown, what: string, c: LockContext): unknown {
  if (isError(e, 'INSUFFICIENT_FUNDS')) return lockRefused(`${what} was not sent: you do not have enough native token on ${c.chain} for its gas and messaging fee`, c);
  if (isError(e, 'CALL_EXCEPTION') || revertDataOf(e) !== null) return lockRefused(`${what} would revert, nothing was sent: ${describeRevert(revertDataOf(e), c)}`, c);
  return e;
}

async function readUnits(trader: Wallet, token: string): Promise<TokenUnits> {
  const erc20 = new Contract(token, erc20Iface, trader);
  let decimals: number;
  try {
    decimals = Number((await erc20.getFunction('decimals')()) as bigint);
  } catch {
    return { decimals: 0, symbol: `base units of ${token}` }; // no decimals(): amounts as the chain counts them
  }
  let symbol = token;
  try {
    symbol = (await erc20.getFunction('symbol')()) as string;
  } catch {
    // A token without symbol() still locks; its address names it.
  }
  return { decimals, symbol };
}

/**
 * What would make the lock revert, read before anything is sent, in the vault's order: paused,
 * token allowed, cap and minimum, the trader's balance, the route's fee against native balance.
 * Each problem is one sentence; none means the lock can go (the vault may still need an approval).
 */
async function lockProblems(r: LockRequest, c: () => Promise<LockContext>): Promise<{ problems: string[]; fee: bigint; allowance: bigint }> {
  const provider = r.trader.provider;
  if (provider === null) throw new Error('the trader wallet needs a provider');
  const vault = new Contract(r.vault, vaultIface, r.trader);
  const token = new Contract(r.token, erc20Iface, r.trader);
  const reads = Promise.all([
    vault.getFunction('paused')() as Promise<boolean>,
    vault.getFunction('tokenAllowed')(r.token) as Promise<boolean>,
    vault.getFunction('minLock')(r.token) as Promise<bigint>,
    vault.getFunction('maxLock')(r.token) as Promise<bigint>,
    token.getFunction('balanceOf')(r.trader.address) as Promise<bigint>,
    token.getFunction('allowance')(r.trader.address, r.vault) as Promise<bigint>,
    provider.getBalance(r.trader.address),
    (vault.getFunction('quoteLock')(r.token, r.amount, r.dstChainId, r.positionId) as Promise<bigint>).then(
      (fee) => ({ fee }),
      (e: unknown) => ({ failure: e }),
    ),
  ]);
  const [paused, allowed, minLock, maxLock, balance, allowance, native, quote] = await reads.catch(async (e: unknown) => {
    if (!isError(e, 'BAD_DATA')) throw e;
    throw lockRefused(`nothing was sent: the vault ${r.vault} or the token ${r.token} answered nothing to a view call, so one of them is not there or not what it should be`, await c(), [
      'Check the token address and the config\'s vault for this chain (isorelay doctor checks the vault).',
    ]);
  });
  const problems: string[] = [];
  // The sentences read a decoded error's arguments by index only: a plain array stands in for ethers' Result.
  const named = (name: string, ...args: unknown[]) => ({ name, args: args as unknown as DecodedError['args'] });
  if (paused) problems.push(describeLockError(named('Paused'), await c()));
  if (!allowed) problems.push(describeLockError(named('TokenNotAllowed', r.token), await c()));
  if (maxLock !== 0n && r.amount > maxLock) problems.push(describeLockError(named('LockAboveCap', r.token, r.amount, maxLock), await c()));
  if (r.amount < minLock) problems.push(describeLockError(named('LockBelowMinimum', r.token, r.amount, minLock), await c()));
  if (balance < r.amount) problems.push(describeLockError(named('ERC20InsufficientBalance', r.trader.address, balance, r.amount), await c()));
  let fee = 0n;
  if ('failure' in quote) {
    const data = revertDataOf(quote.failure);
    if (data === null && !isError(quote.failure, 'CALL_EXCEPTION')) throw quote.failure; // not a revert: the node did not answer
    problems.push(describeRevert(data, await c()).replace(/^the lock reverted/, 'the fee quote reverted'));
  } else {
    fee = quote.fee;
    if (native < fee)
      problems.push(`you have ${formatTokenAmount(native, 18)} native token on ${(await c()).chain}, the lock's messaging fee is ${formatTokenAmount(fee, 18)} (and gas on top)`);
  }
  return { problems, fee, allowance };
}

/** The sequence of the Wormhole core's LogMessagePublished whose sender is the vault, if the lock published one. */
function publishedSequence(logs: readonly { topics: readonly string[]; data: string }[], vault: string): bigint | undefined {
  for (const log of logs) {
    if (log.topics[0] !== LOG_MESSAGE_PUBLISHED_TOPIC) continue;
    const published = decodePublished(log.topics, log.data);
    if (published.sender.toLowerCase() === vault.toLowerCase()) return published.sequence;
  }
  return undefined;
}

export async function lockCollateral(r: LockRequest): Promise<LockResult> {
  const provider = r.trader.provider;
  if (provider === null) throw new Error('the trader wallet needs a provider');
  let context: LockContext | undefined;
  // Units are read only when a sentence needs them: a lock that goes through costs no extra call.
  const ctx = async (): Promise<LockContext> =>
    (context ??= {
      units: r.units ?? (await readUnits(r.trader, r.token)),
      chain: r.chain ?? `chain ${(await provider.getNetwork()).chainId}`,
      token: r.token, vault: r.vault, trader: r.trader.address,
    });
  const { problems, fee, allowance } = await lockProblems(r, ctx);
  if (problems.length > 0) {
    const [first, ...more] = problems as [string, ...string[]];
    throw lockRefused(`the lock would revert, nothing was sent: ${first}`, await ctx(), more.map((p) => `Also: ${p}.`));
  }

  const vault = new Contract(r.vault, vaultIface, r.trader);
  const token = new Contract(r.token, erc20Iface, r.trader);
  let approveTxHash: string | undefined;
  if (allowance < r.amount) {
    try {
      const tx = await token.getFunction('approve').send(r.vault, MaxUint256);
      const receipt = await waitForReceipt(provider, tx.hash);
      if (receipt.status !== 1) throw lockRefused(`the approval of the vault reverted (tx ${tx.hash}): ${r.token} refused it`, await ctx());
      approveTxHash = tx.hash;
    } catch (e) {
      throw sendFailure(e, 'the approval of the vault', await ctx());
    }
  }
  let hash: string;
  try {
    hash = (await vault.getFunction('lock').send(r.token, r.amount, r.dstChainId, r.positionId, { value: fee })).hash;
  } catch (e) {
    throw sendFailure(e, 'the lock', await ctx());
  }
  const receipt = await waitForReceipt(provider, hash);
  const minedAtMs = Date.now();
  if (receipt.status !== 1) throw lockRefused(`the lock reverted on chain (tx ${hash}): its state changed between the checks and the block`, await ctx(), ['Run the lock again: its checks will say what changed.']);
  const wormholeSequence = publishedSequence(receipt.logs, r.vault);
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== r.vault.toLowerCase()) continue;
    const parsed = vaultIface.parseLog(log);
    if (parsed?.name !== 'CollateralLocked') continue;
    return {
      lockId: parsed.args.getValue('lockId') as string,
      nonce: parsed.args.getValue('nonce') as bigint,
      transportId: parsed.args.getValue('transportId') as string,
      txHash: receipt.hash,
      blockNumber: BigInt(receipt.blockNumber),
      fee,
      minedAtMs,
      ...(approveTxHash === undefined ? {} : { approveTxHash }),
      ...(wormholeSequence === undefined ? {} : { wormholeSequence }),
    };
  }
  throw new Error(`lock mined without a CollateralLocked event (tx ${receipt.hash})`);
}
