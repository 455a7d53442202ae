// What a trader does from the CLI: lock collateral on a source vault (approve, quote, lock) and
// read the isolated positions the engine holds for them.
import { Contract, Interface, MaxUint256, type Wallet } from 'ethers';
import { ourArtifact } from '../chains/contractsAbi.js';
import { waitForReceipt } from '../chains/provider.js';

const vaultIface = new Interface(ourArtifact('CollateralVault').abi);
const tokenIface = new Interface(ourArtifact('TestToken').abi);

export interface LockRequest {
  /** A wallet connected to the source chain's provider. */
  trader: Wallet;
  vault: string;
  token: string;
  amount: bigint;
  dstChainId: bigint;
  positionId: bigint;
}

export interface LockResult {
  lockId: string;
  nonce: bigint;
  transportId: string;
  txHash: string;
  blockNumber: bigint;
  fee: bigint;
  minedAtMs: number;
}

export async function lockCollateral(r: LockRequest): Promise<LockResult> {
  const provider = r.trader.provider;
  if (provider === null) throw new Error('the trader wallet needs a provider');
  const token = new Contract(r.token, tokenIface, r.trader);
  const vault = new Contract(r.vault, vaultIface, r.trader);
  const allowance = (await token.getFunction('allowance')(r.trader.address, r.vault)) as bigint;
  if (allowance < r.amount) {
    const tx = await token.getFunction('approve').send(r.vault, MaxUint256);
    await waitForReceipt(provider, tx.hash);
  }
  const fee = (await vault.getFunction('quoteLock')(r.token, r.amount, r.dstChainId, r.positionId)) as bigint;
  const tx = await vault.getFunction('lock').send(r.token, r.amount, r.dstChainId, r.positionId, { value: fee });
  const receipt = await waitForReceipt(provider, tx.hash);
  const minedAtMs = Date.now();
  if (receipt === null || receipt.status !== 1) throw new Error(`lock reverted (tx ${tx.hash})`);
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
    };
  }
  throw new Error(`lock mined without a CollateralLocked event (tx ${receipt.hash})`);
}
