// The isorelay library: what protocols and tools may import. Explicit exports only; the list is
// snapshot-tested (test/unit/exports.test.ts), so a change to it is a deliberate API change.
export { Relayer, type RelayerDeps, type ChainView } from './app/relayer.js';
export { startDaemon, type RunningDaemon, type StartDaemonOptions } from './app/daemon.js';
export { lockCollateral, type LockRequest, type LockResult } from './app/trader.js';
export { runDoctor } from './app/doctor.js';
export { loadConfig, parseConfig } from './config/load.js';
export { configSchema, type Config, type ChainConfig, type RouteConfig, type RawConfig } from './config/schema.js';
export { loadWallet } from './config/secrets.js';
export { ErrorCode, IsorelayError, isIsorelayError, isRetryable } from './errors/base.js';
export { decodeMessage, encodeMessage, messageId, MessageKind, MESSAGE_VERSION, type MarginMessage } from './messages/codec.js';
export { MessageStatus, MESSAGE_STATUSES, canTransition } from './messages/status.js';
export { EventBus, type RelayerEvent } from './pipeline/events.js';
export { SqliteStore } from './store/sqlite/sqliteStore.js';
export type { Store, MessageRow } from './store/store.js';
export type { Transport, DeliveryPlan } from './transports/transport.js';
export { LayerZeroTransport } from './transports/layerzero/layerZeroTransport.js';
export { WormholeTransport } from './transports/wormhole/wormholeTransport.js';
export { ChainClient } from './chains/client.js';
