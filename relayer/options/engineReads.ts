// Typed reads of the engine's options state: a market's OptionsConfig, a position's strategy, the
// oracle price (null when the engine refuses one), and the chain's time. One batch where it can.
import { Interface, type Result } from 'ethers';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import type { OptionLeg } from '../margin/options.js';
import { callRevertData } from './engineErrors.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);

export interface OptionsConfig {
  quoter: string;
  maxExpiry: bigint;
  scenarioBps: bigint;
  maintenanceScenarioBps: bigint;
  volShockBps: bigint;
  scenarioSteps: bigint;
  sigma: bigint;
  volMin: bigint;
  volMax: bigint;
  settleWindow: bigint;
  maxVolStepBps: bigint;
  minVolInterval: bigint;
  maxOpenInterest: bigint;
}

export interface EngineStrategy {
  market: string;
  expiry: bigint;
  premium: bigint;
  legs: OptionLeg[];
  definedRisk: boolean;
  /** The maximum loss, or the maintenance scenario margin at the engine's oracle price now. */
  requirement: bigint;
}

export function decodeOptionsConfig(raw: string): OptionsConfig {
  const c = engineIface.decodeFunctionResult('optionsConfig', raw)[0] as Result;
  const n = (k: string) => BigInt(c.getValue(k) as bigint | number);
  return {
    quoter: c.getValue('quoter') as string, maxExpiry: n('maxExpiry'), scenarioBps: n('scenarioBps'), maintenanceScenarioBps: n('maintenanceScenarioBps'),
    volShockBps: n('volShockBps'), scenarioSteps: n('scenarioSteps'), sigma: n('sigma'), volMin: n('volMin'), volMax: n('volMax'),
    settleWindow: n('settleWindow'), maxVolStepBps: n('maxVolStepBps'), minVolInterval: n('minVolInterval'), maxOpenInterest: n('maxOpenInterest'),
  };
}

/** The strategy of a decoded strategyOf, or null when the position holds none (expiry 0). */
export function decodeStrategy(raw: string): EngineStrategy | null {
  const [market, expiry, premium, legs, definedRisk, requirement] = engineIface.decodeFunctionResult('strategyOf', raw) as unknown as [string, bigint, bigint, { isCall: boolean; isLong: boolean; strike: bigint; size: bigint }[], boolean, bigint];
  if (expiry === 0n) return null;
  return { market, expiry, premium, legs: legs.map((l) => ({ isCall: l.isCall, isLong: l.isLong, strike: l.strike, size: l.size })), definedRisk, requirement };
}

export const optionsCalls = {
  optionsConfig: (engine: string, market: string) => ({ to: engine, data: engineIface.encodeFunctionData('optionsConfig', [market]) }),
  strategyOf: (engine: string, positionKey: string) => ({ to: engine, data: engineIface.encodeFunctionData('strategyOf', [positionKey]) }),
};

export async function readOptionsConfig(client: ChainClient, engine: string, market: string): Promise<OptionsConfig> {
  return decodeOptionsConfig(await client.call(engine, optionsCalls.optionsConfig(engine, market).data));
}

/** strategyOf reverts when it cannot price an uncovered strategy's maintenance (a stale oracle): then null requirement is not an option, so this throws. */
export async function readStrategy(client: ChainClient, engine: string, positionKey: string): Promise<EngineStrategy | null> {
  return decodeStrategy(await client.call(engine, optionsCalls.strategyOf(engine, positionKey).data));
}

/** The engine's oracle price of `market`, or null when the engine refuses one (stale, sequencer down). */
export async function readOraclePrice(client: ChainClient, engine: string, market: string): Promise<bigint | null> {
  try {
    return engineIface.decodeFunctionResult('oraclePrice', await client.call(engine, engineIface.encodeFunctionData('oraclePrice', [market])))[0] as bigint;
  } catch (e) {
    if (callRevertData(e) !== null) return null;
    throw e;
  }
}

/** The latest block's timestamp: the engine's "now" for the next transaction is at or after it. */
export async function chainTime(client: ChainClient): Promise<bigint> {
  const head = await client.block('latest');
  if (head === null) throw new Error(`${client.name} has no latest block`);
  return BigInt(head.timestamp);
}
