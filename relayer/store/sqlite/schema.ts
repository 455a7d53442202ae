// SQLite schema migrations, applied in order and recorded in user_version.

export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE messages (
     id TEXT PRIMARY KEY,
     route TEXT NOT NULL,
     transport TEXT NOT NULL,
     transport_id TEXT NOT NULL,
     src_chain TEXT NOT NULL,
     dst_chain TEXT NOT NULL,
     message_id TEXT,
     kind TEXT,
     src_tx TEXT NOT NULL,
     src_block TEXT NOT NULL,
     src_block_num INTEGER NOT NULL,
     src_block_hash TEXT NOT NULL,
     log_index INTEGER NOT NULL,
     payload TEXT NOT NULL,
     status TEXT NOT NULL,
     resume_status TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     dst_tx TEXT,
     observed_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     delivered_at INTEGER
   );
   CREATE INDEX messages_status ON messages(status, next_attempt_at);
   CREATE INDEX messages_src ON messages(src_chain, src_block_num);
   CREATE INDEX messages_message_id ON messages(message_id);
   CREATE TABLE checkpoints (stream TEXT PRIMARY KEY, block TEXT NOT NULL);
   CREATE TABLE block_hashes (chain TEXT NOT NULL, number INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (chain, number));
   CREATE TABLE transactions (
     hash TEXT PRIMARY KEY,
     chain TEXT NOT NULL,
     sender TEXT NOT NULL,
     nonce INTEGER NOT NULL,
     raw TEXT NOT NULL,
     purpose TEXT NOT NULL,
     messages TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX transactions_pending ON transactions(chain, sender, status);`,
  // The transport's own sequence (a LayerZero path and its nonce): a gap means a missed log.
  `ALTER TABLE messages ADD COLUMN seq_path TEXT;
   ALTER TABLE messages ADD COLUMN seq_nonce INTEGER;
   CREATE INDEX messages_seq ON messages(seq_path, seq_nonce);`,
  // An operator released a held message: the liquidation guard does not hold it again.
  `ALTER TABLE messages ADD COLUMN guard_released INTEGER NOT NULL DEFAULT 0;`,
  // Why a message is (or was last) held, as a code of HoldCode.
  `ALTER TABLE messages ADD COLUMN hold_code TEXT;`,
  // Leases: a claimed message's owner, epoch (bumped by every claim) and expiry (ms); named leases.
  `ALTER TABLE messages ADD COLUMN lease_owner TEXT;
   ALTER TABLE messages ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch INTEGER NOT NULL, expires_at INTEGER NOT NULL);`,
  // The credit routes' windows: each CREDIT let through, by route and source token (amount as decimal text).
  `CREATE TABLE credit_window (route TEXT NOT NULL, id TEXT NOT NULL, token TEXT NOT NULL, amount TEXT NOT NULL, passed_at INTEGER NOT NULL, PRIMARY KEY (route, id));
   CREATE INDEX credit_window_token ON credit_window(route, token, passed_at);`,
  // Routes halted by an incident, until an operator resumes them.
  `CREATE TABLE halts (route TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);`,
  // Every move of every message, for the explorer (isorelay message, GET /messages/:id).
  `CREATE TABLE message_events (id TEXT NOT NULL, at INTEGER NOT NULL, from_status TEXT, to_status TEXT NOT NULL, reason TEXT, tx TEXT, by_owner TEXT);
   CREATE INDEX message_events_id ON message_events(id, at);
   CREATE INDEX messages_transport_id ON messages(transport_id);
   CREATE INDEX messages_src_tx ON messages(src_tx);`,
  // Reason codes (messages/reasons.ts) beside each reason's text, on a message and in its history.
  `ALTER TABLE messages ADD COLUMN reason_code TEXT;
   ALTER TABLE message_events ADD COLUMN code TEXT;
   CREATE INDEX messages_unfinished ON messages(route, observed_at) WHERE status NOT IN ('delivered', 'dead', 'orphaned');`,
];
