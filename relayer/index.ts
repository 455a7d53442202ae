// The isorelay library, `import { … } from 'isorelay'` (dist/relayer/index.js with declarations):
// what protocols and tools may import. Explicit exports only; the list is snapshot-tested
// (test/unit/exports.test.ts), so a change to it is a deliberate API change.

// Running a relayer: the composition root, the daemon (ops server, signals), a trader's lock, the doctor.
export { Relayer, type RelayerDeps, type ChainView } from './app/relayer.js';
export { startDaemon, type RunningDaemon, type StartDaemonOptions } from './app/daemon.js';
export { lockCollateral, type LockRequest, type LockResult } from './app/trader.js';
export { runDoctor, type DoctorReport, type DoctorCheck } from './app/doctor.js';

// Config: a YAML file or a plain object → validated (addresses checksummed), frozen. Keys from env or keystore.
export { loadConfig, parseConfig } from './config/load.js';
export { configSchema, type Config, type ChainConfig, type RouteConfig, type RawConfig } from './config/schema.js';
export { loadWallet } from './config/secrets.js';

// Errors: one class with a stable code (docs/errors.md), guidance and cause; retryable by code.
export { ErrorCode, IsorelayError, isIsorelayError, isRetryable } from './errors/base.js';

// Messages: the CREDIT / RELEASE / SEIZE wire codec (docs/messages.md), ids, statuses and transitions.
export { decodeMessage, encodeMessage, messageId, MessageKind, MESSAGE_VERSION, type MarginMessage } from './messages/codec.js';
export { MessageStatus, MESSAGE_STATUSES, canTransition, HoldCode } from './messages/status.js';
// Why a message waits, is held, failed or was dropped: one code each (docs/operations.md), and the explorer's report.
export { Reason, REASON_CODES, reasonKind, type ReasonCode } from './messages/reasons.js';
export { explainMessage, type MessageReport } from './app/explorer.js';

// Options (docs/options.md): the strategy maths (TypeScript twin of OptionsMath.sol, same rounding),
// and the EIP-712 quote a market maker signs for the engine.
export { payoff, isDefinedRisk, maxLoss, scenarioLoss, value, worstPrice, type OptionLeg, type ScenarioParams } from './margin/options.js';
export { describeStrategy, type StrategyDescription } from './margin/strategy.js';
export { signQuote, quoteDomain, legsHash, type OptionQuote } from './options/quote.js';

// Observing: the typed event stream the pipeline announces on.
export { EventBus, type RelayerEvent } from './pipeline/events.js';

// Store: the seam and its rows; SqliteStore for a library user's own process (startDaemon opens
// whichever store the config names, PostgreSQL included).
export { SqliteStore } from './store/sqlite/sqliteStore.js';
export type { Store, MessageRow } from './store/store.js';

// Transports and chains: protocol adapters that build unsigned transactions; a client with failover.
export type { Transport, DeliveryPlan } from './transports/transport.js';
export { LayerZeroTransport } from './transports/layerzero/layerZeroTransport.js';
export { WormholeTransport } from './transports/wormhole/wormholeTransport.js';
export { ChainClient } from './chains/client.js';
