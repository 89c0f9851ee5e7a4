import type { Migration } from './migration.js';

// The SQL lives in a TS module, not a .sql file, so it ships inside dist/ without a copy step.

/** The append-only, hash-chained audit log, its chain heads and its signed checkpoints. */
export const auditEvents: Migration = {
  name: '001-audit-events',
  sql: /* sql */ `
CREATE TABLE audit_events (
  tenant_id    text        NOT NULL DEFAULT 'default',
  chain_seq    bigint      NOT NULL,
  id           uuid        NOT NULL UNIQUE,
  time         timestamptz NOT NULL,
  logged_at    timestamptz NOT NULL,
  category     text        NOT NULL,
  type         text        NOT NULL,
  scope        text        NOT NULL,
  outcome      text        NOT NULL,
  action_kind  text,
  agent_id     text,
  principal_id text,
  server       text,
  tool         text,
  effect       text,
  prev_hash    text        NOT NULL,
  hash         text        NOT NULL,
  event        jsonb       NOT NULL,
  PRIMARY KEY (tenant_id, chain_seq)
);

-- Pages are read newest first by (time, id); each filter gets an index ending in that order.
CREATE INDEX audit_events_time_idx      ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_agent_idx     ON audit_events (agent_id, time DESC, id DESC);
CREATE INDEX audit_events_principal_idx ON audit_events (principal_id, time DESC, id DESC);
CREATE INDEX audit_events_tool_idx      ON audit_events (tool, time DESC, id DESC);
CREATE INDEX audit_events_effect_idx    ON audit_events (effect, time DESC, id DESC);
CREATE INDEX audit_events_category_idx  ON audit_events (category, type, time DESC, id DESC);
-- text_pattern_ops serves both scope = $1 and the descendant match scope LIKE '$1/%'
-- whatever the database collation.
CREATE INDEX audit_events_scope_idx     ON audit_events (scope text_pattern_ops, time DESC, id DESC);

-- One row per tenant chain; the writer locks it (FOR UPDATE) to number and link each batch.
CREATE TABLE audit_chain_heads (
  tenant_id text PRIMARY KEY,
  seq       bigint NOT NULL,
  hash      text   NOT NULL,
  logged_at timestamptz
);

-- Ed25519-signed Merkle roots over contiguous ranges of a chain.
CREATE TABLE audit_checkpoints (
  tenant_id  text        NOT NULL,
  from_seq   bigint      NOT NULL,
  to_seq     bigint      NOT NULL,
  root       text        NOT NULL,
  last_hash  text        NOT NULL,
  created_at timestamptz NOT NULL,
  key_id     text        NOT NULL,
  public_key text        NOT NULL,
  signature  text        NOT NULL,
  PRIMARY KEY (tenant_id, to_seq),
  UNIQUE (tenant_id, from_seq)
);
`,
};
