// PostgreSQL schema migrations, applied in order under an advisory lock (instances starting at
// once migrate one at a time) and recorded in schema_migrations. Never edit one that shipped: add one.

export const PG_MIGRATIONS: readonly string[] = [
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
     src_block_num BIGINT NOT NULL,
     src_block_hash TEXT NOT NULL,
     log_index INTEGER NOT NULL,
     payload TEXT NOT NULL,
     status TEXT NOT NULL,
     resume_status TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at BIGINT NOT NULL DEFAULT 0,
     last_error TEXT,
     dst_tx TEXT,
     observed_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL,
     delivered_at BIGINT,
     seq_path TEXT,
     seq_nonce BIGINT,
     guard_released BOOLEAN NOT NULL DEFAULT FALSE,
     hold_code TEXT,
     lease_owner TEXT,
     lease_epoch BIGINT NOT NULL DEFAULT 0,
     lease_until BIGINT NOT NULL DEFAULT 0
   );
   CREATE INDEX messages_due ON messages(route, status, src_block_num, log_index);
   CREATE INDEX messages_src ON messages(src_chain, src_block_num);
   CREATE INDEX messages_message_id ON messages(message_id);
   CREATE INDEX messages_seq ON messages(seq_path, seq_nonce);
   CREATE TABLE checkpoints (stream TEXT PRIMARY KEY, block TEXT NOT NULL);
   CREATE TABLE block_hashes (chain TEXT NOT NULL, number BIGINT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (chain, number));
   CREATE TABLE transactions (
     hash TEXT PRIMARY KEY,
     chain TEXT NOT NULL,
     sender TEXT NOT NULL,
     nonce INTEGER NOT NULL,
     raw TEXT NOT NULL,
     purpose TEXT NOT NULL,
     messages TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at BIGINT NOT NULL
   );
   CREATE INDEX transactions_pending ON transactions(chain, sender, status);
   CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at BIGINT NOT NULL);
   CREATE TABLE credit_window (route TEXT NOT NULL, id TEXT NOT NULL, token TEXT NOT NULL, amount NUMERIC(78, 0) NOT NULL, passed_at BIGINT NOT NULL, PRIMARY KEY (route, id));
   CREATE INDEX credit_window_token ON credit_window(route, token, passed_at);
   CREATE TABLE halts (route TEXT PRIMARY KEY, reason TEXT NOT NULL, at BIGINT NOT NULL);
   CREATE TABLE message_events (id TEXT NOT NULL, at BIGINT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, reason TEXT, tx TEXT, by_owner TEXT);
   CREATE INDEX message_events_id ON message_events(id, at);
   CREATE INDEX messages_transport_id ON messages(transport_id);
   CREATE INDEX messages_src_tx ON messages(src_tx);`,
  // Reason codes (messages/reasons.ts) beside each reason's text, on a message and in its history.
  `ALTER TABLE messages ADD COLUMN reason_code TEXT;
   ALTER TABLE message_events ADD COLUMN code TEXT;
   CREATE INDEX messages_unfinished ON messages(route, observed_at) WHERE status NOT IN ('delivered', 'dead', 'orphaned');`,
];
