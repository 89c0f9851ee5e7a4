import type { Migration } from './migration.js';

/**
 * Partitions `audit_events` by time (one partition a month, created by the writer before it
 * inserts), so retention can drop a month whose events have all expired instead of deleting rows.
 * A default partition catches anything outside the created months, so no insert can fail on it.
 */
export const auditPartitions: Migration = {
  name: '005-audit-partitions',
  sql: /* sql */ `
ALTER TABLE audit_events RENAME TO audit_events_flat;
ALTER INDEX audit_events_time_idx RENAME TO audit_events_flat_time_idx;
ALTER INDEX audit_events_agent_idx RENAME TO audit_events_flat_agent_idx;
ALTER INDEX audit_events_principal_idx RENAME TO audit_events_flat_principal_idx;
ALTER INDEX audit_events_tool_idx RENAME TO audit_events_flat_tool_idx;
ALTER INDEX audit_events_effect_idx RENAME TO audit_events_flat_effect_idx;
ALTER INDEX audit_events_category_idx RENAME TO audit_events_flat_category_idx;
ALTER INDEX audit_events_scope_idx RENAME TO audit_events_flat_scope_idx;

CREATE TABLE audit_events (
  tenant_id    text        NOT NULL DEFAULT 'default',
  chain_seq    bigint      NOT NULL,
  id           uuid        NOT NULL,
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
  -- A partitioned table's keys must hold the partition key; ids are UUIDv7 minted with their time.
  PRIMARY KEY (tenant_id, chain_seq, time),
  UNIQUE (id, time)
) PARTITION BY RANGE (time);

CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

CREATE INDEX audit_events_time_idx      ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_agent_idx     ON audit_events (agent_id, time DESC, id DESC);
CREATE INDEX audit_events_principal_idx ON audit_events (principal_id, time DESC, id DESC);
CREATE INDEX audit_events_tool_idx      ON audit_events (tool, time DESC, id DESC);
CREATE INDEX audit_events_effect_idx    ON audit_events (effect, time DESC, id DESC);
CREATE INDEX audit_events_category_idx  ON audit_events (category, type, time DESC, id DESC);
CREATE INDEX audit_events_scope_idx     ON audit_events (scope text_pattern_ops, time DESC, id DESC);
CREATE INDEX audit_events_chain_idx     ON audit_events (tenant_id, chain_seq);

INSERT INTO audit_events SELECT * FROM audit_events_flat;
DROP TABLE audit_events_flat;
`,
};
