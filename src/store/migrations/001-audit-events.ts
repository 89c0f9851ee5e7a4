import type { Migration } from './migration.js';

// The SQL lives in a TS module, not a .sql file, so it ships inside dist/ without a copy step.

/** The append-only audit log. */
export const auditEvents: Migration = {
  name: '001-audit-events',
  sql: /* sql */ `
CREATE TABLE audit_events (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text        NOT NULL DEFAULT 'default',
  id           uuid        NOT NULL UNIQUE,
  time         timestamptz NOT NULL,
  category     text        NOT NULL,
  type         text        NOT NULL,
  scope        text        NOT NULL,
  action_kind  text,
  agent_id     text,
  principal_id text,
  server       text,
  tool         text,
  effect       text,
  event        jsonb       NOT NULL
);

-- Pages are read newest first by (time, id); each filter gets an index ending in that order.
CREATE INDEX audit_events_time_idx   ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_agent_idx  ON audit_events (agent_id, time DESC, id DESC);
CREATE INDEX audit_events_tool_idx   ON audit_events (tool, time DESC, id DESC);
CREATE INDEX audit_events_effect_idx ON audit_events (effect, time DESC, id DESC);
-- text_pattern_ops serves both scope = $1 and the descendant match scope LIKE '$1/%'
-- whatever the database collation.
CREATE INDEX audit_events_scope_idx  ON audit_events (scope text_pattern_ops, time DESC, id DESC);
`,
};
