// The engine's `accountOf` result (MarginMath.Account) in relayer/margin's terms: one decoder for
// the keeper, the positions command and the tests; and the engine's positionKeyOf, computed here.
import { AbiCoder, keccak256, type Result } from 'ethers';
import { CollateralKind, Side, type IsolatedAccount } from '../margin/index.js';

/** The engine's Side enum as it is encoded in calls and results (IsolatedMarginEngine: Long, Short). */
export const ENGINE_SIDE = { [Side.Long]: 0, [Side.Short]: 1 } as const satisfies Record<Side, number>;

/** `raw` is the decoded tuple of accountOf (its first return value). */
export function accountFromEngine(raw: Result | readonly unknown[]): IsolatedAccount {
  const [position, collateral, fees] = raw as unknown as [[bigint, bigint, bigint], [bigint, bigint], bigint];
  return {
    position: { side: position[0] === BigInt(ENGINE_SIDE.long) ? Side.Long : Side.Short, size: position[1], entryPrice: position[2] },
    collateral: { kind: collateral[0] === 0n ? CollateralKind.Stable : CollateralKind.Asset, amount: collateral[1] },
    fees,
  };
}

/** The engine's positionKeyOf(trader, positionId): keccak256(abi.encode(trader, positionId)). */
export function positionKeyOf(trader: string, positionId: bigint): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'uint256'], [trader, positionId]));
}
