// The options strategy a position holds, read from the engine for `isorelay positions`: the
// strategy (strategyOf), its market's settle window, the oracle price for its delta, the chain's
// time for its expiry, as a StrategyView.
import type { ChainClient } from '../chains/client.js';
import { positionKeyOf } from '../liquidation/engineAccount.js';
import { callRevertData } from '../options/engineErrors.js';
import { chainTime, readOptionsConfig, readOraclePrice, readStrategy } from '../options/engineReads.js';
import { strategyView, type StrategyView } from './strategyReport.js';

/**
 * The strategy of the trader's position, or null when it holds none. strategyOf reverts when the
 * engine cannot price an uncovered strategy's maintenance (a stale oracle): then `unpriced`.
 */
export async function readPositionStrategy(client: ChainClient, engine: string, trader: string, positionId: bigint, marketName: (id: string) => string): Promise<StrategyView | null | 'unpriced'> {
  let s;
  try {
    s = await readStrategy(client, engine, positionKeyOf(trader, positionId));
  } catch (e) {
    if (callRevertData(e) !== null) return 'unpriced';
    throw e;
  }
  if (s === null) return null;
  const [config, spot, now] = await Promise.all([readOptionsConfig(client, engine, s.market), readOraclePrice(client, engine, s.market), chainTime(client)]);
  return strategyView({
    market: marketName(s.market), legs: s.legs, premium: s.premium, requirement: s.requirement, definedRisk: s.definedRisk, opening: false,
    spot, expiry: s.expiry, now, settleWindow: config.settleWindow,
  });
}
