// The options strategies open on the engine, as the keeper follows them: a position's strategy is
// read again (strategyOf: the engine's state is the truth) whenever one of its logs says it may have
// changed, and the book answers which are expired (to settle) and which are uncovered (to watch).
// A key whose read fails stays pending and is read again on the next tick: nothing is forgotten.
import type { ChainClient } from '../chains/client.js';
import { engineIface } from '../liquidation/engineAbi.js';
import type { OptionLeg } from '../margin/options.js';
import { decodeStrategy, optionsCalls } from './engineReads.js';

const topic = (name: string): string => engineIface.getEvent(name)?.topicHash as string; // the events are in the ABI
/** The engine's strategy events: each names the position (topic 1) whose strategy opened or ended. */
export const STRATEGY_TOPICS: readonly string[] = ['StrategyOpened', 'StrategySettled', 'StrategyLiquidated'].map(topic);

/** One open strategy as strategyOf returns it (market as its id, amounts 1e18, expiry in seconds). */
export interface OpenStrategy {
  positionKey: string;
  market: string;
  expiry: bigint;
  premium: bigint;
  legs: readonly OptionLeg[];
  definedRisk: boolean;
}

/** Each key's strategy, or null when it holds none, in one batched read. Throws when the batch fails. */
export async function readStrategies(client: ChainClient, engine: string, keys: readonly string[]): Promise<(OpenStrategy | null)[]> {
  const raws = await client.calls(keys.map((k) => optionsCalls.strategyOf(engine, k)));
  return keys.map((positionKey, i) => {
    const s = decodeStrategy(raws[i] as string);
    if (s === null) return null;
    return { positionKey, market: s.market, expiry: s.expiry, premium: s.premium, legs: s.legs, definedRisk: s.definedRisk };
  });
}

export class StrategyBook {
  private readonly open = new Map<string, OpenStrategy>();
  private readonly pending = new Set<string>();

  /** Open strategies across markets. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Positions whose logs changed: those with a strategy event, and any this book holds (a
   * PositionChanged alone never opens a strategy: openStrategy also emits StrategyOpened).
   */
  changed(strategyEvents: Iterable<string>, positionsChanged: Iterable<string>): void {
    for (const k of strategyEvents) this.pending.add(k);
    for (const k of positionsChanged) if (this.open.has(k)) this.pending.add(k);
  }

  /**
   * Reads the pending positions again: in one batch, or one by one when the batch fails (an
   * uncovered strategy's strategyOf reverts while the engine's own oracle is stale); the keys that
   * still fail stay pending. Returns them with the first error.
   */
  async refresh(client: ChainClient, engine: string): Promise<{ failed: string[]; error?: string }> {
    const keys = [...this.pending];
    if (keys.length === 0) return { failed: [] };
    try {
      (await readStrategies(client, engine, keys)).forEach((s, i) => this.apply(keys[i] as string, s));
      return { failed: [] };
    } catch {
      const failed: string[] = [];
      let error: string | undefined;
      for (const k of keys) {
        try {
          this.apply(k, (await readStrategies(client, engine, [k]))[0] ?? null);
        } catch (e) {
          failed.push(k);
          error ??= e instanceof Error ? e.message : String(e);
        }
      }
      return { failed, ...(error === undefined ? {} : { error }) };
    }
  }

  /** Records what the engine says a position holds now (null: no strategy). */
  apply(positionKey: string, strategy: OpenStrategy | null): void {
    this.pending.delete(positionKey);
    if (strategy === null) this.open.delete(positionKey);
    else this.open.set(positionKey, strategy);
  }

  /** The market's strategies expired at `at` (seconds), the oldest expiry first: they are settled in that order. */
  expired(market: string, at: bigint): OpenStrategy[] {
    return [...this.open.values()].filter((s) => s.market === market && s.expiry <= at).sort((a, b) => (a.expiry < b.expiry ? -1 : a.expiry > b.expiry ? 1 : 0));
  }

  /** The market's uncovered strategies not yet expired at `at`: the only ones ever liquidated. */
  uncovered(market: string, at: bigint): OpenStrategy[] {
    return [...this.open.values()].filter((s) => s.market === market && !s.definedRisk && s.expiry > at);
  }

  /** Open strategies of a market. */
  count(market: string): number {
    let n = 0;
    for (const s of this.open.values()) if (s.market === market) n++;
    return n;
  }
}
